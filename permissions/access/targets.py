"""Locating the resource of a request: its parameters, and for each target the SQL columns
``authorize`` adds to its one query and the rule that decides on them (spec §7)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import (
    Model,
)
from django.http import HttpRequest

from config.sql import placeholders as _placeholders
from config.sql import quoted_column as _column
from config.sql import quoted_table as _table
from config.wire import missing_value
from permissions.access.requirements import (
    ARTIFACT_EXPERIMENT,
    CAPABILITY_LEVELS,
    INFERENCE_KWARGS,
    INFERENCE_PARAMS,
    LOGGED_MODEL,
    REGISTRY_ROUTE_MARKERS,
    Requirement,
    has_capability,
    workspace_level,
)
from permissions.models import (
    ExperimentPermission,
    RegisteredModelPermission,
    WorkspacePermission,
)
from permissions.selectors import USER_PK, Column
from tracking.models import Experiment, Run
from workspaces.models import DEFAULT_WORKSPACE, Workspace


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
