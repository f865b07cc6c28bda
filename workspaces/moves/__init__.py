"""Moving resources between workspaces: the one atomic move service. STYLE.md §2 and §9.

Modules: ``graph`` (what moves with what), ``artifacts``, ``resources`` (``resources_move``),
``merge`` (``workspaces_merge_into_default``) and ``admin_action`` (``move_action``).

Two operations, shared by ``manage.py move_resources``, ``manage.py
migrate_to_default_workspace`` and the admin's "Move to another workspace" actions:

* ``resources_move`` moves chosen root resources (experiments, registered models, webhooks —
  any model that declares ``workspace_table``) with everything that hangs off them;
* ``workspaces_merge_into_default`` moves every workspace-owned row into ``default``.

Each runs in ONE database transaction: it moves everything or, on a conflict, an error or an
interruption (``KeyboardInterrupt`` included), nothing.

What moves with a root is discovered, never listed (spec: workspaces.md §9):

* every workspace-owned model with a ``CASCADE`` foreign key to a moving model moves with it,
  recursively (runs → params, metrics, latest metrics, tags, inputs; registered models →
  versions → tags, aliases; ...): a cascading key means "belongs to". Keys with other
  ``on_delete`` rules are references and are not followed;
* a model that points at a root by value instead of a key (a permission row keyed by
  workspace and model name) declares it in ``workspace_move_references``, a mapping from the
  root's ``workspace_table`` to ``(own field, root field)``, and names its workspace key in
  ``workspace_move_field`` when that is not ``workspace``. Its rows in the source workspace
  whose field equals a moved root's field move along (and move into ``default`` in a merge)::

      class RegisteredModelPermission(models.Model):
          workspace_move_field = "for_workspace"
          workspace_move_references = {"registered_models": ("name", "name")}

  Models of other apps that do not carry the attributes yet are listed in
  ``graph.DEFAULT_MOVE_REFERENCES``; the class attributes win.

Artifacts stay readable (policy ``move``, the default): an ``mlflow-artifacts:`` URI names its
workspace (``mlflow-artifacts:/workspaces/<ws>/...``, legacy ``default`` URIs name none), and the
proxy refuses another workspace's prefix (workspaces.md §6.2). So the move rewrites the URIs
of the moved rows to the target workspace and copies the stored files to the matching keys
before committing; after the commit it deletes the old files that no remaining row refers to.
Fields holding artifact URIs are declared in ``workspace_artifact_fields`` (field → whether
the row owns the files) or listed in ``artifacts.DEFAULT_ARTIFACT_FIELDS``. ``preserve`` and
``retarget`` are the reference's policies and leave files and run URIs alone.
"""

from workspaces.moves.admin_action import MOVE_TEMPLATE, move_action
from workspaces.moves.artifacts import (
    ARTIFACT_POLICIES,
    ARTIFACTS_MOVE,
    ARTIFACTS_PRESERVE,
    ARTIFACTS_RETARGET,
    relocated_uri,
)
from workspaces.moves.graph import (
    NAMES_SHOWN,
    NOT_ENABLED,
    MoveAbortedError,
    ensure_workspaces_enabled,
    format_truncated_list,
    move_graph,
    resource_types,
)
from workspaces.moves.merge import MergeResult, workspaces_merge_into_default
from workspaces.moves.resources import MoveResult, parse_tag, resources_move

__all__ = [
    "ARTIFACTS_MOVE",
    "ARTIFACTS_PRESERVE",
    "ARTIFACTS_RETARGET",
    "ARTIFACT_POLICIES",
    "MOVE_TEMPLATE",
    "MergeResult",
    "MoveAbortedError",
    "MoveResult",
    "NAMES_SHOWN",
    "NOT_ENABLED",
    "ensure_workspaces_enabled",
    "format_truncated_list",
    "move_action",
    "move_graph",
    "parse_tag",
    "relocated_uri",
    "resource_types",
    "resources_move",
    "workspaces_merge_into_default",
]
