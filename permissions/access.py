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
(``authorize``); searches filter in SQL with ``*_readable_q`` so pages keep their size.
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
    CharField,
    Count,
    Exists,
    Expression,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from config.errors import PermissionDeniedError, UnauthenticatedError
from config.wire import missing_value
from permissions.authentication import (
    PERMISSION_DENIED_MESSAGE,
    UNAUTHENTICATED_MESSAGE,
    client_ip,
    credentials_from_header,
    credentials_verify,
    ensure_bootstrap_admin,
    user_candidates,
)
from permissions.models import (
    ExperimentPermission,
    Level,
    RegisteredModelPermission,
    WorkspacePermission,
)
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

    annotations: dict[str, Expression | Subquery | Exists] = field(default_factory=dict)
    decide: Callable[[Any, str], bool] = lambda row, capability: False


def _rows_of(user_ref: Any, experiment_ids: Any, levels: Iterable[str] | None) -> Coalesce:
    rows = ExperimentPermission.objects.filter(user=user_ref, experiment_id__in=experiment_ids)
    if levels is not None:
        rows = rows.filter(permission__in=list(levels))
    counted = rows.order_by().values("user_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), Value(0), output_field=IntegerField())


def _experiments_target(
    experiments_in_workspace: QuerySet[Experiment], named_ids: Any, capability: str, literal: int
) -> Target:
    """The experiments a request names; each needs ``capability`` (spec §7).

    ``named_ids`` is a list of ids or a subquery of them; ``experiments_in_workspace`` those of
    them in the request's workspace. ``literal`` is how many ids the request named (0 for a
    subquery, whose members all exist in the workspace): a named id that is neither in the
    workspace nor covered by an explicit row denies (the reference's "lookup failure = deny").
    """
    levels = CAPABILITY_LEVELS[capability]
    user_ref = OuterRef("pk")
    without_row = experiments_in_workspace.exclude(
        Exists(
            ExperimentPermission.objects.filter(
                user=OuterRef(OuterRef("pk")), experiment_id=OuterRef("pk")
            )
        )
    )
    unlisted = without_row.order_by().values("workspace_id").annotate(n=Count("pk")).values("n")
    annotations: dict[str, Expression | Subquery | Exists] = {
        "exp_rows": _rows_of(user_ref, named_ids, None),
        "exp_granted": _rows_of(user_ref, named_ids, levels),
        "exp_unlisted": Coalesce(Subquery(unlisted), Value(0), output_field=IntegerField()),
    }

    def decide(row: Any, workspace_name: str) -> bool:
        if row.exp_rows != row.exp_granted:
            return False  # an explicit row without the capability replaces the workspace level
        if literal and row.exp_rows + row.exp_unlisted < literal:
            return False  # a named experiment that is not in this workspace
        if row.exp_unlisted:
            return has_capability(workspace_level(row.ws_level, workspace_name), capability)
        return True

    return Target(annotations, decide)


def _experiment_ids_target(ids: list[str], capability: str) -> Target:
    numbers: list[int] = []
    for text in ids:
        try:
            numbers.append(int(text))
        except ValueError:
            return Target()  # not an id: nobody but an admin passes; the view says why
    return _experiments_target(
        Experiment.objects.filter(pk__in=numbers), numbers, capability, len(numbers)
    )


def _scoped_experiments_target(experiment_ids: QuerySet[Any], capability: str) -> Target:
    return _experiments_target(
        Experiment.objects.filter(pk__in=experiment_ids), experiment_ids, capability, 0
    )


def _workspace_target(capability: str) -> Target:
    def decide(row: Any, workspace_name: str) -> bool:
        if not settings.MLFLOW_ENABLE_WORKSPACES:
            return True  # spec §9: without workspaces anyone may create
        return has_capability(workspace_level(row.ws_level, workspace_name), capability)

    return Target({}, decide)


def _workspace_name_target(name: str, capability: str) -> Target:
    rows = WorkspacePermission.objects.filter(user=OuterRef("pk"), for_workspace__name=name)
    annotations: dict[str, Expression | Subquery | Exists] = {
        "named_ws_level": Subquery(rows.values("permission")[:1])
    }

    def decide(row: Any, workspace_name: str) -> bool:
        if capability == "read":  # spec §13: visible exactly when the list would show it
            return has_capability(row.named_ws_level, "read") or (
                settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and name == DEFAULT_WORKSPACE
            )
        return has_capability(workspace_level(row.named_ws_level, name), capability)

    return Target(annotations, decide)


def registered_model_class() -> type[Model] | None:
    """The registry's ``RegisteredModel`` model, if the registry app defines it yet."""
    try:
        return apps.get_model("registry", "RegisteredModel")
    except LookupError:
        return None


def _registered_model_target(name: str, workspace: Workspace, capability: str) -> Target:
    rows = RegisteredModelPermission.objects.filter(
        user=OuterRef("pk"), for_workspace=workspace, name=name
    )
    annotations: dict[str, Expression | Subquery | Exists] = {
        "model_level": Subquery(rows.values("permission")[:1])
    }
    model = registered_model_class()
    if model is not None:
        annotations["model_exists"] = Exists(model._default_manager.filter(name=name))

    def decide(row: Any, workspace_name: str) -> bool:
        if row.model_level is not None:
            return has_capability(row.model_level, capability)
        if not getattr(row, "model_exists", True):
            return False  # spec §15: a missing model is 403 for non-admins
        return has_capability(workspace_level(row.ws_level, workspace_name), capability)

    return Target(annotations, decide)


def _logged_model_target(model_id: str, capability: str) -> Target:
    try:
        model = apps.get_model("tracking", LOGGED_MODEL)
    except LookupError:
        return Target()
    experiment_ids = model._default_manager.filter(pk=model_id).values("experiment_id")
    return _scoped_experiments_target(experiment_ids, capability)


def _artifact_target(path: str, capability: str) -> Target:
    match = ARTIFACT_EXPERIMENT.match(path.lstrip("/"))
    if match is None:
        return _workspace_target(capability)
    return _experiment_ids_target([match.group(1)], capability)


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


def locate(
    requirement: Requirement,
    request: HttpRequest,
    kwargs: Mapping[str, Any],
    workspace: Workspace | None,
) -> Target:
    """The resource a request names, as a ``Target``; 400 when a named target's id is missing."""
    params = RequestParams(request)
    target = requirement.target or _infer_target(params, kwargs, request.path_info)
    capability = requirement.capability
    if target == "workspace":
        return _workspace_target(capability)
    if target == "workspace_name":
        return _workspace_name_target(str(kwargs.get("workspace_name", "")), capability)
    if target == "logged_model":
        return _logged_model_target(str(kwargs.get("model_id", "")), capability)
    if target == "artifact":
        path = kwargs.get("artifact_path") or params.value("path") or ""
        return _artifact_target(str(path), capability)
    if target == "experiment":
        ids = params.values("experiment_id")
        if not ids:
            raise missing_value("experiment_id")
        return _experiment_ids_target(ids, capability)
    if target == "experiment_name":
        name = params.value("experiment_name")
        if name is None:
            raise missing_value("experiment_name")
        by_name = Experiment.objects.filter(name=name).values("experiment_id")
        return _scoped_experiments_target(by_name, capability)
    if target == "run":
        run_ids = params.values("run_id", "run_uuid", "run_ids")
        if not run_ids:
            raise missing_value("run_id")
        of_runs = Run.objects.filter(run_uuid__in=run_ids).values("experiment_id")
        return _scoped_experiments_target(of_runs, capability)
    if target == "registered_model":
        name = params.value("name")
        if name is None:
            raise missing_value("name")
        if workspace is None:
            return Target()
        return _registered_model_target(name, workspace, capability)
    raise ValueError(f"unknown permission target {target!r}")  # parse_requirement prevents it


# ---------------------------------------------------------------------------------------------
# Deciding one request
# ---------------------------------------------------------------------------------------------


def authorize(
    request: HttpRequest, requirement: Requirement | None, kwargs: Mapping[str, Any]
) -> User | None:
    """Authenticate the caller and apply ``requirement``; returns the user (None if public).

    Raises ``UnauthenticatedError`` (401) or ``PermissionDeniedError`` (403). One query
    fetches the user with every permission column the decision needs. ``None`` (an action
    without a declaration) lets only admins through.
    """
    if requirement is not None and requirement.kind == "public":
        return None
    credentials = credentials_from_header(request.META.get("HTTP_AUTHORIZATION"))
    if credentials is None:
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    ensure_bootstrap_admin()
    workspace: Workspace | None = getattr(request, "workspace", None)
    target: Target | None = None
    if requirement is not None and requirement.kind == "resource":
        target = locate(requirement, request, kwargs, workspace)
    ip = client_ip(request)
    candidates = user_candidates(credentials, ip)
    if target is not None:
        if workspace is not None and settings.MLFLOW_ENABLE_WORKSPACES:
            own_row = WorkspacePermission.objects.filter(
                user=OuterRef("pk"), for_workspace=workspace
            )
            candidates = candidates.annotate(ws_level=Subquery(own_row.values("permission")[:1]))
        else:
            candidates = candidates.annotate(ws_level=Value(None, output_field=CharField()))
        if target.annotations:
            candidates = candidates.annotate(**target.annotations)
    found = list(candidates[:1])
    if not found or not credentials_verify(found[0], credentials, ip):
        raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
    user = found[0]
    request.user = user  # known from here on, so request logs name a refused caller too
    if user.is_superuser or _allowed(requirement, target, user, request, workspace):
        return user
    raise PermissionDeniedError(PERMISSION_DENIED_MESSAGE)


def _allowed(
    requirement: Requirement | None,
    target: Target | None,
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
    return target.decide(user, workspace_name)


# ---------------------------------------------------------------------------------------------
# What a user may see: filters for selectors (searches and lists), applied in SQL
# ---------------------------------------------------------------------------------------------


def _unrestricted(user: UserLike) -> bool:
    return not settings.MLFLOW_AUTH_ENABLED or bool(getattr(user, "is_superuser", False))


def _nothing() -> Q:
    return Q(pk__in=[])


def _workspace_readable_q(user: User, workspace_field: str) -> Q | None:
    """Rows whose workspace the user may read; None means every workspace qualifies."""
    readable = CAPABILITY_LEVELS["read"]
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        return None if default_permission() in readable else _nothing()
    rows = WorkspacePermission.objects.filter(user=user, for_workspace=OuterRef(workspace_field))
    condition = Q(Exists(rows.filter(permission__in=list(readable))))
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and default_permission() in readable:
        condition |= Q(**{f"{workspace_field}__name": DEFAULT_WORKSPACE}) & ~Q(Exists(rows))
    return condition


def _explicit_or_workspace(explicit_any: QuerySet[Any], user: User, workspace_field: str) -> Q:
    readable = list(CAPABILITY_LEVELS["read"])
    explicit_ok = Q(Exists(explicit_any.filter(permission__in=readable)))
    workspace_ok = _workspace_readable_q(user, workspace_field)
    if workspace_ok is None:
        return explicit_ok | ~Q(Exists(explicit_any))
    return explicit_ok | (workspace_ok & ~Q(Exists(explicit_any)))


def experiments_readable_q(
    user: UserLike, *, experiment_field: str = "pk", workspace_field: str = "workspace"
) -> Q:
    """A filter keeping the rows whose experiment ``user`` may read (spec §11).

    For ``Experiment`` use the defaults; for runs or logged models pass
    ``experiment_field="experiment_id"``. Every workspace-owned model has ``workspace``.
    """
    if _unrestricted(user):
        return Q()
    if not isinstance(user, User):
        return _nothing()
    explicit = ExperimentPermission.objects.filter(
        user=user, experiment_id=OuterRef(experiment_field)
    )
    return _explicit_or_workspace(explicit, user, workspace_field)


def registered_models_readable_q(
    user: UserLike, *, name_field: str = "name", workspace_field: str = "workspace"
) -> Q:
    """A filter keeping the registered models, prompts (or their versions, through
    ``name_field``) that ``user`` may read (spec §11)."""
    if _unrestricted(user):
        return Q()
    if not isinstance(user, User):
        return _nothing()
    explicit = RegisteredModelPermission.objects.filter(
        user=user, for_workspace=OuterRef(workspace_field), name=OuterRef(name_field)
    )
    return _explicit_or_workspace(explicit, user, workspace_field)


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
    readable = WorkspacePermission.objects.filter(
        user=user, for_workspace=OuterRef("pk"), permission__in=list(CAPABILITY_LEVELS["read"])
    )
    condition = Q(Exists(readable))
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS:
        condition |= Q(name=DEFAULT_WORKSPACE)
    return workspaces.filter(condition)
