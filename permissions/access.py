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

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import (
    Exists,
    Model,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.http import HttpRequest

from config.errors import PermissionDeniedError, UnauthenticatedError
from config.sql import placeholders as _placeholders
from config.sql import quoted_column as _column
from config.sql import quoted_table as _table
from config.wire import missing_value
from permissions.authentication import (
    PERMISSION_DENIED_MESSAGE,
    UNAUTHENTICATED_MESSAGE,
    client_ip,
    credentials_from_header,
    credentials_verify,
    ensure_bootstrap_admin,
)
from permissions.decisions import decisions
from permissions.models import (
    ExperimentPermission,
    Level,
    RegisteredModelPermission,
    WorkspacePermission,
)
from permissions.selectors import USER_PK, Column, user_with_columns
from tracking.models import Experiment, Run
from workspaces.models import DEFAULT_WORKSPACE, Workspace

UserLike = User | AbstractBaseUser | AnonymousUser | None

# spec §3: what each level allows. Tracking and registry never check "use".
CAPABILITY_LEVELS: Mapping[str, frozenset[str]] = {
    "read": frozenset({Level.READ, Level.USE, Level.EDIT, Level.MANAGE}),
    "use": frozenset({Level.USE, Level.EDIT, Level.MANAGE}),
    "update": frozenset({Level.EDIT, Level.MANAGE}),
    "delete": frozenset({Level.MANAGE}),
    "manage": frozenset({Level.MANAGE}),
}
LEVEL_WORDS: Mapping[str, str] = {
    "read": "read",
    "use": "use",
    "edit": "update",
    "update": "update",
    "delete": "delete",
    "manage": "manage",
}
SPECIAL_REQUIREMENTS = frozenset({"public", "authenticated", "admin", "self"})

# Where a resource comes from. Parameters are read from the query string and the JSON body.
TARGETS: Mapping[str, str] = {
    "experiment": "the experiment named by experiment_id",
    "experiment_name": "the experiment named by experiment_name (missing name: the view's 404)",
    "run": "the experiments of the runs named by run_id, run_uuid or run_ids",
    "logged_model": "the experiment of the logged model in the URL's model_id",
    "registered_model": "the registered model or prompt named by name",
    "artifact": "the experiment in an artifact path (URL artifact_path, or path parameter)",
    "workspace": "the request's workspace (creating; anyone may with workspaces disabled)",
    "workspace_name": "the workspace in the URL's workspace_name",
}
# Inference for a level without a target: URL kwargs first, then request parameters (query
# string before body); the first present decides. ``name`` means a registered model only on
# registry routes (experiments/create also has a ``name``). A request naming none of them is
# about the request's workspace.
INFERENCE_KWARGS: tuple[tuple[str, str], ...] = (
    ("model_id", "logged_model"),
    ("artifact_path", "artifact"),
    ("workspace_name", "workspace_name"),
)
INFERENCE_PARAMS: tuple[tuple[str, str], ...] = (
    ("run_id", "run"),
    ("run_uuid", "run"),
    ("run_ids", "run"),
    ("experiment_id", "experiment"),
    ("experiment_name", "experiment_name"),
    ("path", "artifact"),
)
REGISTRY_ROUTE_MARKERS = ("registered-models/", "model-versions/")
# Plain Django views (not ``ApiViewSet``) and what they need; any other plain view is admin-only.
PLAIN_VIEW_REQUIREMENTS: Mapping[str, str] = {
    "config.views.health": "public",
    "config.views.version": "authenticated",
    # Prometheus counters carry every workspace's name: admins (a scraper's own account).
    "config.observability.metrics": "admin",
}
# spec §2: the only paths served without credentials.
PUBLIC_PATH_PREFIXES = ("/health", "/static/", "/favicon.ico")
# Looked up by name: logged models may not exist yet in the tracking app.
LOGGED_MODEL = "LoggedModel"
ARTIFACT_EXPERIMENT = re.compile(r"^(?:workspaces/[^/]+/)?(\d+)(?:/|$)")


@dataclass(frozen=True)
class Requirement:
    """What an action needs: a special kind, or a capability on a target."""

    kind: str  # "public" | "authenticated" | "admin" | "self" | "resource"
    capability: str = ""  # for "resource": a key of CAPABILITY_LEVELS
    target: str = ""  # for "resource": a key of TARGETS, or "" to infer from the request


def parse_requirement(text: str) -> Requirement:
    """A declared requirement; ``ValueError`` for anything outside the grammar."""
    if text in SPECIAL_REQUIREMENTS:
        return Requirement(kind=text)
    word, _, target = text.partition(":")
    if word not in LEVEL_WORDS:
        raise ValueError(f"unknown permission level {word!r} in {text!r}")
    if target and target not in TARGETS:
        raise ValueError(f"unknown permission target {target!r} in {text!r}")
    return Requirement(kind="resource", capability=LEVEL_WORDS[word], target=target)


_requirements: dict[tuple[type, str | None], Requirement | None] = {}


def requirement_of(view_class: type, action: str | None) -> Requirement | None:
    """The requirement ``view_class`` declares for ``action``; None when it declares none.

    A request whose method maps to no action (answered 405) needs only authentication.
    Parsed once per (view, action) and remembered: declarations are class attributes.
    """
    key = (view_class, action)
    if key not in _requirements:
        _requirements[key] = _declared_requirement(view_class, action)
    return _requirements[key]


def _declared_requirement(view_class: type, action: str | None) -> Requirement | None:
    if action is None:
        return Requirement(kind="authenticated")
    declared: Mapping[str, str] = getattr(view_class, "required_permission", {}) or {}
    text = declared.get(action)
    if text is None:
        return None
    requirement = parse_requirement(text)
    if requirement.kind == "resource" and not requirement.target:
        default_target = getattr(view_class, "permission_resource", "") or ""
        if default_target and default_target not in TARGETS:
            raise ValueError(f"{view_class.__name__}.permission_resource {default_target!r}")
        requirement = Requirement("resource", requirement.capability, default_target)
    return requirement


def plain_view_requirement(view_func: Callable[..., Any]) -> Requirement | None:
    """The requirement of a plain Django view; None (admin only) when it has none."""
    declared = getattr(view_func, "required_permission", None)
    if declared is None:
        declared = PLAIN_VIEW_REQUIREMENTS.get(f"{view_func.__module__}.{view_func.__name__}")
    return None if declared is None else parse_requirement(declared)


def is_public_path(path: str) -> bool:
    """Whether a path is served without credentials (spec §2)."""
    return path.startswith(PUBLIC_PATH_PREFIXES)


# ---------------------------------------------------------------------------------------------
# Levels
# ---------------------------------------------------------------------------------------------


def default_permission() -> str:
    """The configured ``default_permission``."""
    return str(settings.MLFLOW_AUTH_DEFAULT_PERMISSION)


def workspace_level(row_level: str | None, workspace_name: str) -> str:
    """The level a workspace row, or its absence, gives on ``workspace_name`` (spec §7.4-6)."""
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        return default_permission()
    if row_level is not None:
        return row_level
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and workspace_name == DEFAULT_WORKSPACE:
        return default_permission()
    return Level.NO_PERMISSIONS


def has_capability(level: str | None, capability: str) -> bool:
    """Whether ``level`` allows ``capability`` (read, use, update, delete, manage)."""
    return level in CAPABILITY_LEVELS[capability]


def level_can_use(level: str) -> bool:
    """MLflow's ``can_use`` of a level, reported in workspace-permission JSON."""
    return has_capability(level, "use")


# ---------------------------------------------------------------------------------------------
# Locating the resource of a request
# ---------------------------------------------------------------------------------------------


class RequestParams:
    """The request's parameters: the query string first, then a JSON body's keys.

    The body is read only when a parameter is not in the query string, and only for a JSON
    POST, PATCH or DELETE: artifact uploads (PUT, or raw POST bodies) stream untouched.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.query = request.GET
        self._body: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        if self._body is None:
            self._body = {}
            request = self.request
            content_type = request.META.get("CONTENT_TYPE", "").lower()
            if request.method in ("POST", "PATCH", "DELETE") and "json" in content_type:
                try:
                    data = json.loads(request.body or b"{}")
                    if isinstance(data, str):
                        data = json.loads(data)
                except ValueError:
                    data = {}
                self._body = data if isinstance(data, dict) else {}
        return self._body

    def first(self, names: Iterable[str]) -> tuple[str, list[str]] | None:
        """The first of ``names`` the request carries, with its values: query string first."""
        names = tuple(names)
        for name in names:
            found = [value for value in self.query.getlist(name) if value != ""]
            if found:
                return name, found
        for name in names:
            value = self.body.get(name)
            items = value if isinstance(value, list) else [value]
            found = [str(item) for item in items if item is not None and item != ""]
            if found:
                return name, found
        return None

    def values(self, *names: str) -> list[str]:
        """Every value of the first of ``names`` present (a repeated key, a JSON list)."""
        found = self.first(names)
        return found[1] if found else []

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[-1] if found else None


@dataclass
class Target:
    """A located resource: the columns ``authorize`` adds to its one query, and the rule."""

    columns: list[Column] = field(default_factory=list)
    decide: Callable[[Mapping[str, Any], str], bool] = lambda row, workspace_name: False


def _experiments_target(
    named_sql: str,
    named_params: tuple[Any, ...],
    workspace: Workspace,
    capability: str,
    literal: int,
) -> Target:
    """The experiments a request names; each needs ``capability`` (spec §7).

    ``named_sql`` lists experiment ids: literal ids, or a subquery of the request workspace's
    rows. ``literal`` is how many ids the request named (0 for a subquery, whose members all
    exist in the workspace): a named id that is neither in the workspace nor covered by an
    explicit row denies (the reference's "lookup failure = deny").
    """
    levels = sorted(CAPABILITY_LEVELS[capability])
    rows = _table(ExperimentPermission)
    row_user = _column(ExperimentPermission, "user")
    row_experiment = _column(ExperimentPermission, "experiment")
    experiments = _table(Experiment)
    experiment_pk = _column(Experiment, "experiment_id")
    experiment_workspace = _column(Experiment, "workspace")
    permission = _column(ExperimentPermission, "permission")
    own_rows = (
        f"FROM {rows} p WHERE p.{row_user} = u.{USER_PK} AND p.{row_experiment} IN ({named_sql})"
    )
    columns = [
        Column("exp_rows", f"SELECT COUNT(*) {own_rows}", named_params),  # noqa: S608 (identifiers quoted, values bound)
        Column(
            "exp_granted",
            f"SELECT COUNT(*) {own_rows} AND p.{permission} IN ({_placeholders(levels)})",  # noqa: S608 (identifiers quoted, values bound)
            (*named_params, *levels),
        ),
        Column(
            "exp_unlisted",
            f"SELECT COUNT(*) FROM {experiments} e WHERE e.{experiment_workspace} = %s "  # noqa: S608 (identifiers quoted, values bound)
            f"AND e.{experiment_pk} IN ({named_sql}) AND NOT EXISTS (SELECT 1 FROM {rows} q "
            f"WHERE q.{row_user} = u.{USER_PK} AND q.{row_experiment} = e.{experiment_pk})",
            (workspace.pk, *named_params),
        ),
    ]

    def decide(row: Mapping[str, Any], workspace_name: str) -> bool:
        if row["exp_rows"] != row["exp_granted"]:
            return False  # an explicit row without the capability replaces the workspace level
        if literal and row["exp_rows"] + row["exp_unlisted"] < literal:
            return False  # a named experiment that is not in this workspace
        if row["exp_unlisted"]:
            return has_capability(workspace_level(row["ws_level"], workspace_name), capability)
        return True

    return Target(columns, decide)


def _one_experiment_target(
    named_sql: str,
    named_params: tuple[Any, ...],
    count_sql: str,
    count_params: tuple[Any, ...],
    capability: str,
    literal: bool,
) -> Target:
    """The cheaper form for a request naming one experiment (one id, run, name or model):
    the user's row on it and whether it is in the request workspace, two small subqueries.

    ``count_sql`` counts the named thing in the workspace. Not there: a named experiment id
    denies (the reference's "lookup failure = deny"); a missing run, name or model is the
    view's 404, as in the reference.
    """
    rows = _table(ExperimentPermission)
    columns = [
        Column(
            "exp_level",
            f"SELECT p.{_column(ExperimentPermission, 'permission')} FROM {rows} p "  # noqa: S608 (identifiers quoted, values bound)
            f"WHERE p.{_column(ExperimentPermission, 'user')} = u.{USER_PK} "
            f"AND p.{_column(ExperimentPermission, 'experiment')} IN ({named_sql})",
            named_params,
        ),
        Column("exp_here", count_sql, count_params),
    ]

    def decide(row: Mapping[str, Any], workspace_name: str) -> bool:
        if row["exp_level"] is not None:
            return has_capability(row["exp_level"], capability)
        if not row["exp_here"]:
            return not literal
        return has_capability(workspace_level(row["ws_level"], workspace_name), capability)

    return Target(columns, decide)


def _experiment_ids_target(ids: list[str], workspace: Workspace, capability: str) -> Target:
    numbers: list[int] = []
    for text in ids:
        try:
            numbers.append(int(text))
        except ValueError:
            return Target()  # not an id: nobody but an admin passes; the view says why
    if len(set(numbers)) == 1:
        count_sql = (
            f"SELECT COUNT(*) FROM {_table(Experiment)} e "  # noqa: S608 (identifiers quoted, values bound)
            f"WHERE e.{_column(Experiment, 'workspace')} = %s "
            f"AND e.{_column(Experiment, 'experiment_id')} = %s"
        )
        return _one_experiment_target(
            "%s", (numbers[0],), count_sql, (workspace.pk, numbers[0]), capability, literal=True
        )
    return _experiments_target(
        _placeholders(numbers), tuple(numbers), workspace, capability, len(numbers)
    )


def _experiments_of(
    model: type[Model],
    key: str,
    values: list[str],
    workspace: Workspace,
    capability: str,
    experiment: str = "experiment",
) -> Target:
    """The experiments of the request workspace's ``model`` rows whose ``key`` is in values."""
    where = (
        f"FROM {_table(model)} x WHERE x.{_column(model, 'workspace')} = %s "
        f"AND x.{_column(model, key)} IN ({_placeholders(values)})"
    )
    sql = f"SELECT x.{_column(model, experiment)} {where}"
    params = (workspace.pk, *values)
    if len(set(values)) == 1:
        count_sql = f"SELECT COUNT(*) {where}"
        return _one_experiment_target(sql, params, count_sql, params, capability, literal=False)
    return _experiments_target(sql, params, workspace, capability, 0)


def _workspace_target(capability: str) -> Target:
    def decide(row: Mapping[str, Any], workspace_name: str) -> bool:
        if not settings.MLFLOW_ENABLE_WORKSPACES:
            return True  # spec §9: without workspaces anyone may create
        return has_capability(workspace_level(row["ws_level"], workspace_name), capability)

    return Target([], decide)


def _workspace_name_target(name: str, capability: str) -> Target:
    rows = _table(WorkspacePermission)
    column = Column(
        "named_ws_level",
        f"SELECT p.{_column(WorkspacePermission, 'permission')} FROM {rows} p "  # noqa: S608 (identifiers quoted, values bound)
        f"INNER JOIN {_table(Workspace)} w "
        f"ON w.{_column(Workspace, 'id')} = p.{_column(WorkspacePermission, 'for_workspace')} "
        f"WHERE p.{_column(WorkspacePermission, 'user')} = u.{USER_PK} "
        f"AND w.{_column(Workspace, 'name')} = %s",
        (name,),
    )

    def decide(row: Mapping[str, Any], workspace_name: str) -> bool:
        if capability == "read":  # spec §13: visible exactly when the list would show it
            return has_capability(row["named_ws_level"], "read") or (
                settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and name == DEFAULT_WORKSPACE
            )
        return has_capability(workspace_level(row["named_ws_level"], name), capability)

    return Target([column], decide)


def registered_model_class() -> type[Model] | None:
    """The registry's ``RegisteredModel`` model, if the registry app defines it yet."""
    try:
        return apps.get_model("registry", "RegisteredModel")
    except LookupError:
        return None


def _registered_model_target(name: str, workspace: Workspace, capability: str) -> Target:
    rows = _table(RegisteredModelPermission)
    columns = [
        Column(
            "model_level",
            f"SELECT p.{_column(RegisteredModelPermission, 'permission')} FROM {rows} p "  # noqa: S608 (identifiers quoted, values bound)
            f"WHERE p.{_column(RegisteredModelPermission, 'user')} = u.{USER_PK} "
            f"AND p.{_column(RegisteredModelPermission, 'for_workspace')} = %s "
            f"AND p.{_column(RegisteredModelPermission, 'name')} = %s",
            (workspace.pk, name),
        )
    ]
    model = registered_model_class()
    if model is not None:
        columns.append(
            Column(
                "model_exists",
                f"SELECT COUNT(*) FROM {_table(model)} m "  # noqa: S608 (identifiers quoted, values bound)
                f"WHERE m.{_column(model, 'workspace')} = %s AND m.{_column(model, 'name')} = %s",
                (workspace.pk, name),
            )
        )

    def decide(row: Mapping[str, Any], workspace_name: str) -> bool:
        if row["model_level"] is not None:
            return has_capability(row["model_level"], capability)
        if not row.get("model_exists", 1):
            return False  # spec §15: a missing model is 403 for non-admins
        return has_capability(workspace_level(row["ws_level"], workspace_name), capability)

    return Target(columns, decide)


def _logged_model_target(model_id: str, workspace: Workspace, capability: str) -> Target:
    try:
        model = apps.get_model("tracking", LOGGED_MODEL)
    except LookupError:
        return Target()
    return _experiments_of(model, model._meta.pk.name, [model_id], workspace, capability)


def _infer_target(params: RequestParams, kwargs: Mapping[str, Any], path: str) -> str:
    for kwarg, target in INFERENCE_KWARGS:
        if kwarg in kwargs:
            return target
    if any(marker in path for marker in REGISTRY_ROUTE_MARKERS) and params.first(["name"]):
        return "registered_model"
    found = params.first(name for name, _ in INFERENCE_PARAMS)
    if found is not None:
        return dict(INFERENCE_PARAMS)[found[0]]
    return "workspace"


# What a request names, as a hashable value: ``(target, *identifiers)``. It keys remembered
# decisions (permissions/decisions.py) and is all ``target_of`` needs to build the query.
Resource = tuple[str, ...] | tuple[str, tuple[str, ...]]
NOWHERE: Resource = ("nowhere",)  # a resource outside every workspace: nobody but admins


def resource_of(
    requirement: Requirement,
    request: HttpRequest,
    kwargs: Mapping[str, Any],
    workspace: Workspace | None,
) -> Resource:
    """The resource a request names; 400 when a named target's id is missing."""
    params = RequestParams(request)
    target = requirement.target or _infer_target(params, kwargs, request.path_info)
    if target == "workspace":
        return ("workspace",)
    if target == "workspace_name":
        return ("workspace_name", str(kwargs.get("workspace_name", "")))
    if workspace is None:
        return NOWHERE  # only server-info is outside every workspace, and it needs none
    if target == "logged_model":
        return ("logged_model", str(kwargs.get("model_id", "")))
    if target == "artifact":
        path = str(kwargs.get("artifact_path") or params.value("path") or "")
        match = ARTIFACT_EXPERIMENT.match(path.lstrip("/"))
        return ("workspace",) if match is None else ("experiment", (match.group(1),))
    if target == "experiment":
        ids = params.values("experiment_id")
        if not ids:
            raise missing_value("experiment_id")
        return ("experiment", tuple(ids))
    if target == "experiment_name":
        name = params.value("experiment_name")
        if name is None:
            raise missing_value("experiment_name")
        return ("experiment_name", name)
    if target == "run":
        run_ids = params.values("run_id", "run_uuid", "run_ids")
        if not run_ids:
            raise missing_value("run_id")
        return ("run", tuple(run_ids))
    if target == "registered_model":
        name = params.value("name")
        if name is None:
            raise missing_value("name")
        return ("registered_model", name)
    raise ValueError(f"unknown permission target {target!r}")  # parse_requirement prevents it


def target_of(resource: Resource, workspace: Workspace | None, capability: str) -> Target:
    """The columns and rule that decide ``capability`` on ``resource`` (from ``resource_of``)."""
    kind = resource[0]
    if kind == "workspace":
        return _workspace_target(capability)
    if kind == "workspace_name":
        return _workspace_name_target(str(resource[1]), capability)
    if workspace is None or kind == NOWHERE[0]:
        return Target()
    if kind == "logged_model":
        return _logged_model_target(str(resource[1]), workspace, capability)
    if kind == "experiment":
        return _experiment_ids_target(list(resource[1]), workspace, capability)
    if kind == "experiment_name":
        return _experiments_of(
            Experiment,
            "name",
            [str(resource[1])],
            workspace,
            capability,
            experiment="experiment_id",
        )
    if kind == "run":
        return _experiments_of(Run, "run_uuid", list(resource[1]), workspace, capability)
    if kind == "registered_model":
        return _registered_model_target(str(resource[1]), workspace, capability)
    raise ValueError(f"unknown resource {resource!r}")


# ---------------------------------------------------------------------------------------------
# Deciding one request
# ---------------------------------------------------------------------------------------------


# Where ``authorize`` leaves a granted check on the request, for the after-request hooks.
GRANT_ATTRIBUTE = "permission_grant"
# A granted capability implies those whose levels include all of its levels (update → read).
IMPLIED_CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    capability: tuple(
        other
        for other, levels in CAPABILITY_LEVELS.items()
        if CAPABILITY_LEVELS[capability] <= levels
    )
    for capability in CAPABILITY_LEVELS
}
# Resources whose rule is monotone in the level (every ``decide`` over experiments): a grant of
# a capability there is a grant of every capability it implies. Not ``workspace_name``, whose
# READ follows the workspace list rather than the level.
IMPLYING_RESOURCES = frozenset({"experiment", "experiment_name", "run", "logged_model"})

Caller = tuple[bytes, str]  # (digest of the Authorization header, client address)


def _decision_key(
    caller: Caller, workspace_pk: int | None, kind: str, capability: str, resource: Any
) -> tuple[Any, ...]:
    return (caller, workspace_pk, kind, capability, resource)


@dataclass(frozen=True)
class Grant:
    """A granted check of a non-admin, kept on the request (``GRANT_ATTRIBUTE``) so that the
    after-request hooks can remember what a successful create implies."""

    caller: Caller
    workspace_pk: int | None
    capability: str
    resource: Resource
    user: User
    generation: int  # of the remembered decisions when the check was made
    deadline: float  # nothing learned from this grant is remembered longer


def authorize(
    request: HttpRequest, requirement: Requirement | None, kwargs: Mapping[str, Any]
) -> User | None:
    """Authenticate the caller and apply ``requirement``; returns the user (None if public).

    Raises ``UnauthenticatedError`` (401) or ``PermissionDeniedError`` (403). One query
    fetches the user with every permission column the decision needs, unless this process
    granted the same request shortly before (``permissions.decisions``). ``None`` (an action
    without a declaration) lets only admins through.
    """
    if requirement is not None and requirement.kind == "public":
        return None
    header = request.META.get("HTTP_AUTHORIZATION")
    credentials = credentials_from_header(header)
    if header is None or credentials is None:
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    workspace: Workspace | None = getattr(request, "workspace", None)
    workspace_pk = workspace.pk if workspace is not None else None
    kind = "undeclared" if requirement is None else requirement.kind
    capability = requirement.capability if requirement is not None else ""
    resource: Resource | None = None
    if requirement is not None and kind == "resource":
        resource = resource_of(requirement, request, kwargs, workspace)
    elif kind == "self":
        resource = ("self", RequestParams(request).value("username") or "")
    caller: Caller = (decisions.credentials_key(header), client_ip(request))
    key = _decision_key(caller, workspace_pk, kind, capability, resource)
    generation = decisions.generation  # before reading: a later forget makes learning void
    remembered = decisions.get(key) or decisions.get(caller)
    if remembered is not None:
        user, deadline = remembered
        request.user = user
        if kind == "resource" and resource is not None and not user.is_superuser:
            grant = Grant(caller, workspace_pk, capability, resource, user, generation, deadline)
            setattr(request, GRANT_ATTRIBUTE, grant)
        return user
    ensure_bootstrap_admin()
    target: Target | None = None
    columns: list[Column] = []
    if requirement is not None and resource is not None and kind == "resource":
        target = target_of(resource, workspace, capability)
        if workspace is not None and settings.MLFLOW_ENABLE_WORKSPACES:
            columns.append(_own_workspace_level(workspace))
        columns.extend(target.columns)
    found = user_with_columns(credentials, caller[1], columns)
    if found is None or not credentials_verify(found[0], credentials, caller[1], found[1]):
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    user, row = found
    request.user = user  # known from here on, so request logs name a refused caller too
    deadline = decisions.deadline(row.get("token_expires_at"))
    if user.is_superuser:
        decisions.put(caller, user, generation, deadline)
        return user
    if not _allowed(requirement, target, row, user, request, workspace):
        raise PermissionDeniedError(PERMISSION_DENIED_MESSAGE)
    if kind == "resource" and resource is not None:
        grant = Grant(caller, workspace_pk, capability, resource, user, generation, deadline)
        setattr(request, GRANT_ATTRIBUTE, grant)
        _remember(grant, resource, capability)
    else:
        decisions.put(key, user, generation, deadline)
    return user


def _remember(grant: Grant, resource: Resource, capability: str) -> None:
    """Remember that ``grant``'s caller may do ``capability`` (and what it implies) on
    ``resource`` in ``grant``'s workspace, for no longer than ``grant`` itself."""
    implied = IMPLIED_CAPABILITIES[capability] if resource[0] in IMPLYING_RESOURCES else ()
    for each in implied or (capability,):
        key = _decision_key(grant.caller, grant.workspace_pk, "resource", each, resource)
        decisions.put(key, grant.user, grant.generation, grant.deadline)


def remember_created_experiment(request: HttpRequest, experiment_id: str) -> None:
    """After the creator's MANAGE row on a new experiment is written (spec §9): the creator
    may do everything on it, as the one query would find."""
    grant: Grant | None = getattr(request, GRANT_ATTRIBUTE, None)
    if grant is not None:
        _remember(grant, ("experiment", (experiment_id,)), "manage")


def remember_created_run(request: HttpRequest, run_id: str, experiment_id: str) -> None:
    """After a run is created in an experiment the caller was granted: the same capabilities
    on the run, which the one query would resolve through the run's experiment."""
    grant: Grant | None = getattr(request, GRANT_ATTRIBUTE, None)
    if grant is not None and grant.resource == ("experiment", (experiment_id,)):
        _remember(grant, ("run", (run_id,)), grant.capability)


def _own_workspace_level(workspace: Workspace) -> Column:
    return Column(
        "ws_level",
        f"SELECT p.{_column(WorkspacePermission, 'permission')} "  # noqa: S608 (identifiers quoted, values bound)
        f"FROM {_table(WorkspacePermission)} p "
        f"WHERE p.{_column(WorkspacePermission, 'user')} = u.{USER_PK} "
        f"AND p.{_column(WorkspacePermission, 'for_workspace')} = %s",
        (workspace.pk,),
    )


def _allowed(
    requirement: Requirement | None,
    target: Target | None,
    row: Mapping[str, Any],
    user: User,
    request: HttpRequest,
    workspace: Workspace | None,
) -> bool:
    if requirement is None or requirement.kind == "admin":
        return False
    if requirement.kind == "authenticated":
        return True
    if requirement.kind == "self":
        username = RequestParams(request).value("username")
        if username is None:
            raise missing_value("username")
        return username == user.username
    assert target is not None  # "resource" requirements always locate a target
    workspace_name = workspace.name if workspace is not None else DEFAULT_WORKSPACE
    return target.decide({"ws_level": None, **row}, workspace_name)


# ---------------------------------------------------------------------------------------------
# What a user may see: filters for selectors (searches and lists), applied in SQL
# ---------------------------------------------------------------------------------------------


def _unrestricted(user: UserLike) -> bool:
    return not settings.MLFLOW_AUTH_ENABLED or bool(getattr(user, "is_superuser", False))


def _nothing() -> Q:
    return Q(pk__in=[])


def _in_subquery(field: str, sql: str, params: Iterable[Any]) -> Q:
    """``field IN (sql)`` with an uncorrelated subquery over permission rows.

    Written as SQL because the ORM took ~2 ms of Python to compose the correlated ``Exists``
    form on every search; an uncorrelated ``IN`` also runs once per query, not once per row.
    """
    return Q(**{f"{field}__in": RawSQL(sql, tuple(params))})  # noqa: S611 (identifiers quoted, values bound)


def _readable_levels() -> list[str]:
    return sorted(CAPABILITY_LEVELS["read"])


def _workspace_rows_sql(user: User, readable: bool) -> tuple[str, list[Any]]:
    """The ids of the workspaces where ``user`` has a row (that can read, if ``readable``)."""
    rows = _table(WorkspacePermission)
    sql = (
        f"SELECT p.{_column(WorkspacePermission, 'for_workspace')} FROM {rows} p "  # noqa: S608 (identifiers quoted, values bound)
        f"WHERE p.{_column(WorkspacePermission, 'user')} = %s"
    )
    params: list[Any] = [user.pk]
    if readable:
        levels = _readable_levels()
        sql += f" AND p.{_column(WorkspacePermission, 'permission')} IN ({_placeholders(levels)})"
        params.extend(levels)
    return sql, params


def _workspace_readable_q(user: User, workspace_field: str) -> Q | None:
    """Rows whose workspace the user may read; None means every workspace qualifies."""
    readable = CAPABILITY_LEVELS["read"]
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        return None if default_permission() in readable else _nothing()
    condition = _in_subquery(workspace_field, *_workspace_rows_sql(user, readable=True))
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and default_permission() in readable:
        any_rows, any_params = _workspace_rows_sql(user, readable=False)
        workspace_id = _column(Workspace, "id")
        condition |= _in_subquery(
            workspace_field,
            f"SELECT w.{workspace_id} FROM {_table(Workspace)} w "  # noqa: S608 (identifiers quoted, values bound)
            f"WHERE w.{_column(Workspace, 'name')} = %s AND w.{workspace_id} NOT IN ({any_rows})",
            [DEFAULT_WORKSPACE, *any_params],
        )
    return condition


def _explicit_or_workspace(explicit_ok: Q, explicit_any: Q, user: User, workspace_field: str) -> Q:
    """Readable through an explicit row, or, without any explicit row, through the workspace."""
    workspace_ok = _workspace_readable_q(user, workspace_field)
    if workspace_ok is None:
        return explicit_ok | ~explicit_any
    return explicit_ok | (workspace_ok & ~explicit_any)


def experiments_readable_q(
    user: UserLike, *, experiment_field: str = "pk", workspace_field: str = "workspace"
) -> Q:
    """A filter keeping the rows whose experiment ``user`` may read (spec §11).

    For ``Experiment`` use the defaults; for runs or logged models pass
    ``experiment_field="experiment_id"``. Every workspace-owned model has ``workspace``.

    A user has at most one row per experiment, so "the explicit row reads, or there is none and
    the workspace reads" is "no refusing row, and the workspace or a row reads": the workspace
    test comes first and is cheap, and the refusing rows (NO_PERMISSIONS) are usually none, so
    a search over thousands of runs probes two tiny sets per run.
    """
    if _unrestricted(user):
        return Q()
    if not isinstance(user, User):
        return _nothing()
    rows = (
        f"SELECT p.{_column(ExperimentPermission, 'experiment')} "  # noqa: S608 (identifiers quoted, values bound)
        f"FROM {_table(ExperimentPermission)} p "
        f"WHERE p.{_column(ExperimentPermission, 'user')} = %s "
        f"AND p.{_column(ExperimentPermission, 'permission')}"
    )
    levels = _readable_levels()
    levels_sql = f"({_placeholders(levels)})"
    refusing = _in_subquery(experiment_field, f"{rows} NOT IN {levels_sql}", [user.pk, *levels])
    workspace_ok = _workspace_readable_q(user, workspace_field)
    if workspace_ok is None:
        return ~refusing
    reading = _in_subquery(experiment_field, f"{rows} IN {levels_sql}", [user.pk, *levels])
    return (workspace_ok | reading) & ~refusing


def registered_models_readable_q(
    user: UserLike, *, name_field: str = "name", workspace_field: str = "workspace"
) -> Q:
    """A filter keeping the registered models, prompts (or their versions, through
    ``name_field``) that ``user`` may read (spec §11)."""
    if _unrestricted(user):
        return Q()
    if not isinstance(user, User):
        return _nothing()
    # (workspace, name) pairs: correlated, as not every database compares row values with IN.
    explicit = RegisteredModelPermission.objects.filter(
        user=user, for_workspace=OuterRef(workspace_field), name=OuterRef(name_field)
    )
    explicit_ok = Q(Exists(explicit.filter(permission__in=_readable_levels())))
    return _explicit_or_workspace(explicit_ok, Q(Exists(explicit)), user, workspace_field)


def workspaces_visible(user: UserLike) -> QuerySet[Workspace]:
    """The workspaces ``user`` sees in the workspace list, by name (spec §13).

    Admins (and everyone with authentication off) see all; others those where their row can
    read, plus ``default`` when ``grant_default_workspace_access`` is on.
    """
    workspaces = Workspace.objects.order_by("name")
    if _unrestricted(user):
        return workspaces
    if not isinstance(user, User):
        return workspaces.none()
    condition = _in_subquery("pk", *_workspace_rows_sql(user, readable=True))
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS:
        condition |= Q(name=DEFAULT_WORKSPACE)
    return workspaces.filter(condition)
