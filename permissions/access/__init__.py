"""The one place that decides "may this user do X to this resource" and "which may they see".

spec: auth-workspace-permissions.md (MLflow 3.10.1's ``basic-auth`` with workspaces).

How a view declares what it needs
---------------------------------
Every ``ApiViewSet`` maps each action to a requirement in ``required_permission``::

    required_permission = {
        "create": "manage:workspace",        # MANAGE on the request's workspace (creating)
        "get_experiment": "read:experiment",  # READ on the experiment named by experiment_id
        "search": "authenticated",            # any user; the selector filters (see below)
    }

A requirement is ``public``, ``authenticated``, ``admin``, ``self`` (the ``username`` parameter
is the caller) or ``<level>[:<target>]`` with level ``read``, ``use``, ``edit`` (or
``update``), ``delete`` or ``manage``, and a target from ``TARGETS`` that says where the
resource comes from. Without ``:<target>`` the view's ``permission_resource`` is used, and
without that the target is inferred from the request (``INFERENCE_PARAMS``): what MLflow's own
validators do, reading ``run_id``, ``experiment_id`` and so on.

``required_permission`` of all views together is the table of what every endpoint needs;
``tests/permissions/test_route_table.py`` walks the URL resolver and fails for any action
without a valid entry. An action without one is refused to everybody but admins.

How a permission is resolved (spec §7, no max()):
admin → the user's explicit row on the resource (replaces the workspace level, lower or
higher) → the user's row on the resource's workspace, which applies only when the resource is
in the request's workspace → ``default_permission`` in ``default`` when
``grant_default_workspace_access`` is on → nothing. With workspaces disabled: the explicit row,
else ``default_permission``, and anyone may create.

Cost: the user, the workspace row and the resource rows come back in ONE query
(``authorize``), and none when this process granted the same caller the same request on the
same resource within ``MLFLOW_AUTH_DECISION_CACHE_SECONDS`` (``permissions.decisions``:
grants only, forgotten at once on every permission write here); searches filter in SQL with
``*_readable_q`` so pages keep their size.
"""

from permissions.access.decide import (
    GRANT_ATTRIBUTE,
    authorize,
    remember_created_experiment,
    remember_created_run,
)
from permissions.access.readable import (
    experiments_readable_q,
    registered_models_readable_q,
    workspaces_visible,
)
from permissions.access.requirements import (
    TARGETS,
    Requirement,
    UserLike,
    is_public_path,
    level_can_use,
    parse_requirement,
    plain_view_requirement,
    requirement_of,
)
from permissions.access.targets import registered_model_class

__all__ = [
    "GRANT_ATTRIBUTE",
    "Requirement",
    "TARGETS",
    "UserLike",
    "authorize",
    "experiments_readable_q",
    "is_public_path",
    "level_can_use",
    "parse_requirement",
    "plain_view_requirement",
    "registered_model_class",
    "registered_models_readable_q",
    "remember_created_experiment",
    "remember_created_run",
    "requirement_of",
    "workspaces_visible",
]
