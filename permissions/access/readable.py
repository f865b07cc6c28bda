"""What a user may see: filters for selectors (searches and lists), applied in SQL, so pages
keep their size."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL

from config.sql import placeholders as _placeholders
from config.sql import quoted_column as _column
from config.sql import quoted_table as _table
from permissions.access.requirements import CAPABILITY_LEVELS, UserLike, default_permission
from permissions.models import (
    ExperimentPermission,
    RegisteredModelPermission,
    WorkspacePermission,
)
from workspaces.models import DEFAULT_WORKSPACE, Workspace


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
