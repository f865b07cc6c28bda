"""Reads of users and permission rows, with MLflow's not-found messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.errors import ResourceDoesNotExistError
from permissions.authentication import BasicCredentials, Credentials, token_hash
from permissions.models import (
    ExperimentPermission,
    LoginFailure,
    RegisteredModelPermission,
    Token,
    WorkspacePermission,
)
from workspaces.models import Workspace

_quote = connection.ops.quote_name
# The user table's key as ``Column`` SQL refers to it: ``u.<USER_PK>``.
USER_PK = _quote(User._meta.pk.column or "id")


@dataclass(frozen=True)
class Column:
    """A scalar subquery over the user row ``u``, added to the one authorization query.

    Permission columns are written as SQL once per request shape, not through the ORM: the
    ORM spent more time composing the nested subqueries than the database spent running them.
    Every subquery that reads workspace-owned tables names its workspace id explicitly.
    """

    alias: str
    sql: str
    params: tuple[Any, ...] = ()


def _field(model: Any, name: str) -> str:
    return str(_quote(model._meta.get_field(name).column))


def user_with_columns(
    credentials: Credentials, client_ip: str, columns: Sequence[Column]
) -> tuple[User, dict[str, Any]] | None:
    """The active user the credentials name and the values of ``columns`` for them, in ONE
    query; None when no such user exists. ``recent_failures`` (login throttling) is always
    among the values, and for a bearer token ``token_expires_at`` (aware, or None)."""
    cutoff = timezone.now() - timedelta(seconds=settings.MLFLOW_AUTH_FAILED_LOGIN_WINDOW_SECONDS)
    failures = Column(
        "recent_failures",
        f"SELECT f.{_field(LoginFailure, 'count')} FROM {_quote(LoginFailure._meta.db_table)} f "  # noqa: S608 (identifiers quoted, values bound)
        f"WHERE f.{_field(LoginFailure, 'username')} = %s "
        f"AND f.{_field(LoginFailure, 'client_ip')} = %s "
        f"AND f.{_field(LoginFailure, 'window_started_at')} >= %s",
        (
            getattr(credentials, "username", ""),
            client_ip,
            connection.ops.adapt_datetimefield_value(cutoff),
        ),
    )
    all_columns = [failures, *columns]
    active = f"u.{_field(User, 'is_active')} = %s"
    where_params: list[Any]
    if isinstance(credentials, BasicCredentials):
        where = f"u.{_field(User, 'username')} = %s AND {active}"
        where_params = [credentials.username, True]
    else:
        tokens = _quote(Token._meta.db_table)
        expires = _field(Token, "expires_at")
        key_hash = token_hash(credentials.token)
        all_columns.append(
            Column(
                "token_expires_at",
                f"SELECT t.{expires} FROM {tokens} t WHERE t.{_field(Token, 'key_hash')} = %s",  # noqa: S608 (identifiers quoted, values bound)
                (key_hash,),
            )
        )
        where = (
            f"{active} AND u.{USER_PK} IN (SELECT t.{_field(Token, 'user')} "  # noqa: S608 (identifiers quoted, values bound)
            f"FROM {tokens} t WHERE t.{_field(Token, 'key_hash')} = %s "
            f"AND (t.{expires} IS NULL OR t.{expires} > %s))"
        )
        where_params = [
            True,
            key_hash,
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ]
    selected = [f"u.{_quote(field.column or field.name)}" for field in User._meta.concrete_fields]
    params: list[Any] = []
    for column in all_columns:
        selected.append(f"({column.sql}) AS {_quote(column.alias)}")
        params.extend(column.params)
    params.extend(where_params)
    sql = f"SELECT {', '.join(selected)} FROM {_quote(User._meta.db_table)} u WHERE {where}"  # noqa: S608 (identifiers quoted, values bound)
    found = list(User.objects.raw(sql, params))
    if not found:
        return None
    user = found[0]
    values = {column.alias: getattr(user, column.alias) for column in all_columns}
    values["recent_failures"] = values["recent_failures"] or 0
    if "token_expires_at" in values:
        values["token_expires_at"] = _aware(values["token_expires_at"])
    return user, values


def _aware(value: Any) -> datetime | None:
    """A datetime column read through raw SQL: SQLite gives text, MySQL a naive UTC value."""
    if value is None:
        return None
    expired = datetime.min.replace(tzinfo=UTC)  # an unreadable value: treat as expired
    if isinstance(value, str):
        value = parse_datetime(value) or expired
    if not isinstance(value, datetime):
        return expired
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def user_get(username: str) -> User:
    """The user called ``username``, or RESOURCE_DOES_NOT_EXIST."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise ResourceDoesNotExistError(f"User with username={username} not found") from None


def user_list() -> list[User]:
    """Every user, in creation order (the reference lists by id)."""
    return list(User.objects.order_by("pk"))


def user_permission_rows(
    user: User,
) -> tuple[list[ExperimentPermission], list[RegisteredModelPermission]]:
    """A user's experiment rows and registered-model rows of every workspace (spec §5)."""
    experiments = list(ExperimentPermission.objects.filter(user=user).order_by("experiment_id"))
    models = list(
        RegisteredModelPermission.objects.filter(user=user)
        .select_related("for_workspace")
        .order_by("pk")
    )
    return experiments, models


def experiment_permission_get(*, experiment_id: int, user: User) -> ExperimentPermission:
    """The user's row on an experiment, or RESOURCE_DOES_NOT_EXIST (spec §6.1)."""
    try:
        return ExperimentPermission.objects.get(experiment_id=experiment_id, user=user)
    except ExperimentPermission.DoesNotExist:
        raise ResourceDoesNotExistError(
            f"Experiment permission with experiment_id={experiment_id} and "
            f"username={user.username} not found"
        ) from None


def registered_model_permission_get(
    *, workspace: Workspace, name: str, user: User
) -> RegisteredModelPermission:
    """The user's row on (workspace, name), or RESOURCE_DOES_NOT_EXIST (spec §6.2)."""
    try:
        return RegisteredModelPermission.objects.select_related("for_workspace").get(
            for_workspace=workspace, name=name, user=user
        )
    except RegisteredModelPermission.DoesNotExist:
        raise ResourceDoesNotExistError(
            f"Registered model permission with workspace={workspace.name}, name={name} and "
            f"username={user.username} not found"
        ) from None


def workspace_permission_list(workspace_name: str) -> list[WorkspacePermission]:
    """The rows of one workspace in the order they were first granted (spec §8)."""
    return list(
        WorkspacePermission.objects.filter(for_workspace__name=workspace_name)
        .select_related("for_workspace")
        .order_by("pk")
    )


def workspace_permission_list_for_user(user: User) -> list[WorkspacePermission]:
    """One user's rows across workspaces, by workspace name (spec §8)."""
    return list(
        WorkspacePermission.objects.filter(user=user)
        .select_related("for_workspace")
        .order_by("for_workspace__name")
    )
