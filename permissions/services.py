"""Every write of the permissions app: users, tokens, permission rows, login failures."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import (
    InvalidParameterValueError,
    ResourceAlreadyExistsError,
    ResourceDoesNotExistError,
)
from permissions.authentication import new_token_secret, token_hash
from permissions.decisions import decisions_forget
from permissions.models import (
    ExperimentPermission,
    Level,
    LoginFailure,
    RegisteredModelPermission,
    Token,
    WorkspacePermission,
)
from permissions.selectors import (
    experiment_permission_get,
    registered_model_permission_get,
    user_get,
)
from permissions.validators import validate_level, validate_password, validate_username
from tracking.selectors.lookups import experiment_get
from workspaces.models import Workspace
from workspaces.selectors import workspace_get

logger = logging.getLogger(__name__)
PermissionRow = TypeVar("PermissionRow", ExperimentPermission, RegisteredModelPermission)


# ---------------------------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------------------------


def user_create(*, username: str, password: str, is_admin: bool = False) -> User:
    """Create a user; usernames are unique and passwords at least 12 characters (spec §5)."""
    validate_username(username)
    validate_password(password)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, password=password, is_superuser=is_admin, is_staff=is_admin
            )
    except IntegrityError:
        # differs from reference: it appends the SQL error, which holds the password's hash.
        raise ResourceAlreadyExistsError(f"User (username={username}) already exists.") from None


@transaction.atomic
def user_set_password(*, username: str, password: str) -> None:
    """Change a password; the creation rule applies (the reference forgets to check, §16.6)."""
    decisions_forget()
    user = user_get(username)
    validate_password(password)
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def user_set_admin(*, username: str, is_admin: bool) -> None:
    """Make a user an admin or not; admins may also use the Django admin site."""
    decisions_forget()
    user = user_get(username)
    user.is_superuser = is_admin
    user.is_staff = is_admin
    user.save(update_fields=["is_superuser", "is_staff"])


@transaction.atomic
def user_delete(*, username: str) -> None:
    """Delete a user with their tokens and permission rows (the reference refuses, §16.1)."""
    decisions_forget()
    user_get(username).delete()


def user_bootstrap_admin() -> User | None:
    """Create the configured admin if authentication is on and no such user exists.

    An existing user is left alone, so changing the configured password later changes nothing
    (spec §1). Without a configured password there is nothing to create.
    """
    username = settings.MLFLOW_AUTH_ADMIN_USERNAME
    password = settings.MLFLOW_AUTH_ADMIN_PASSWORD
    if not settings.MLFLOW_AUTH_ENABLED or not username or not password:
        return None
    if User.objects.filter(username=username).exists():
        return None
    try:
        user = user_create(username=username, password=password, is_admin=True)
    except ResourceAlreadyExistsError:
        return None  # another process created it first
    logger.info("created the bootstrap admin %r", username)
    return user


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def token_set_secret(token: Token) -> str:
    """Give an unsaved token a fresh secret; returns the secret, of which only a hash is kept."""
    secret = new_token_secret()
    token.key_hash = token_hash(secret)
    token.prefix = secret[:12]
    return secret


def token_issue(*, user: User, name: str = "", expires_at: datetime | None = None) -> str:
    """Issue a bearer token for ``user`` and return its secret, which is never stored."""
    token = Token(user=user, name=name, expires_at=expires_at)
    secret = token_set_secret(token)
    token.save()
    return secret


# ---------------------------------------------------------------------------------------------
# Experiment permissions (spec §6.1)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def experiment_permission_create(
    *, experiment_id: int, username: str, permission: str
) -> ExperimentPermission:
    """Give a user a level on an experiment of the active workspace; never updates a row.

    differs from reference: the experiment must exist here (404 otherwise), because rows are
    deleted with their experiment and so cannot point at none (spec §16.3).
    """
    decisions_forget()
    validate_level(permission)
    user = user_get(username)
    experiment = experiment_get(experiment_id)
    try:
        with transaction.atomic():
            return ExperimentPermission.objects.create(
                experiment=experiment, user=user, permission=permission
            )
    except IntegrityError:
        raise ResourceAlreadyExistsError(
            f"Experiment permission (experiment_id={experiment_id}, username={username}) "
            "already exists."
        ) from None


@transaction.atomic
def experiment_permission_update(*, experiment_id: int, username: str, permission: str) -> None:
    """Change a user's existing level on an experiment."""
    decisions_forget()
    validate_level(permission)
    row = experiment_permission_get(experiment_id=experiment_id, user=user_get(username))
    row.permission = permission
    row.save(update_fields=["permission"])


@transaction.atomic
def experiment_permission_delete(*, experiment_id: int, username: str) -> None:
    """Remove a user's row on an experiment."""
    decisions_forget()
    experiment_permission_get(experiment_id=experiment_id, user=user_get(username)).delete()


def experiment_permission_grant_creator(*, user: User, experiment_id: int) -> None:
    """The creator of an experiment gets MANAGE on it, admins too (spec §9). Idempotent.

    Remembered decisions stay: MANAGE allows everything, so it takes nothing away."""
    _grant_manage(
        ExperimentPermission(experiment_id=experiment_id, user=user, permission=Level.MANAGE),
        unique_fields=["user", "experiment"],
    )


# ---------------------------------------------------------------------------------------------
# Registered-model and prompt permissions (spec §6.2)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def registered_model_permission_create(
    *, workspace: Workspace, name: str, username: str, permission: str
) -> RegisteredModelPermission:
    """Give a user a level on a registered model or prompt name of ``workspace``."""
    decisions_forget()
    validate_level(permission)
    user = user_get(username)
    try:
        with transaction.atomic():
            return RegisteredModelPermission.objects.create(
                for_workspace=workspace, name=name, user=user, permission=permission
            )
    except IntegrityError:
        raise ResourceAlreadyExistsError(
            f"Registered model permission with workspace={workspace.name}, name={name} and "
            f"username={username} already exists."
        ) from None


@transaction.atomic
def registered_model_permission_update(
    *, workspace: Workspace, name: str, username: str, permission: str
) -> None:
    """Change a user's existing level on a registered model or prompt."""
    decisions_forget()
    validate_level(permission)
    row = registered_model_permission_get(workspace=workspace, name=name, user=user_get(username))
    row.permission = permission
    row.save(update_fields=["permission"])


@transaction.atomic
def registered_model_permission_delete(*, workspace: Workspace, name: str, username: str) -> None:
    """Remove a user's row on a registered model or prompt."""
    decisions_forget()
    registered_model_permission_get(
        workspace=workspace, name=name, user=user_get(username)
    ).delete()


def registered_model_permission_grant_creator(
    *, user: User, workspace: Workspace, name: str
) -> None:
    """The creator of a registered model or prompt gets MANAGE on it (spec §9). Idempotent.

    Remembered decisions stay: MANAGE allows everything, so it takes nothing away."""
    _grant_manage(
        RegisteredModelPermission(
            for_workspace=workspace, name=name, user=user, permission=Level.MANAGE
        ),
        unique_fields=["for_workspace", "name", "user"],
    )


def _grant_manage(row: PermissionRow, unique_fields: list[str]) -> None:
    """Insert ``row`` or raise the existing one to MANAGE, in one statement where the database
    has an upsert (the creator hooks run after every create: update_or_create costs a
    transaction, a locking read and a savepoint)."""
    manager = type(row)._default_manager
    features = connection.features
    if features.supports_update_conflicts_with_target:  # PostgreSQL, SQLite: ON CONFLICT
        manager.bulk_create(
            [row], update_conflicts=True, unique_fields=unique_fields, update_fields=["permission"]
        )
    elif features.supports_update_conflicts:  # MySQL, MariaDB: ON DUPLICATE KEY UPDATE
        manager.bulk_create([row], update_conflicts=True, update_fields=["permission"])
    else:
        lookup = {name: getattr(row, name) for name in unique_fields}
        manager.update_or_create(**lookup, defaults={"permission": row.permission})


def registered_model_permissions_rename(*, workspace: Workspace, name: str, new_name: str) -> None:
    """Move every row of a renamed registered model to its new name (spec §6.2)."""
    decisions_forget()
    RegisteredModelPermission.objects.filter(for_workspace=workspace, name=name).update(
        name=new_name
    )


def registered_model_permissions_delete(*, workspace: Workspace, name: str) -> None:
    """Delete every row of a deleted registered model, so a new one inherits none (§16.3)."""
    decisions_forget()
    RegisteredModelPermission.objects.filter(for_workspace=workspace, name=name).delete()


# ---------------------------------------------------------------------------------------------
# Workspace permissions (spec §8)
# ---------------------------------------------------------------------------------------------


def workspace_permission_set(
    *, workspace_name: str, username: str, permission: str
) -> WorkspacePermission:
    """Create or replace a user's level on a workspace (an upsert)."""
    decisions_forget()
    validate_level(permission)
    user = user_get(username)
    workspace = workspace_get(workspace_name)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, _created = WorkspacePermission.objects.update_or_create(
                    for_workspace=workspace, user=user, defaults={"permission": permission}
                )
                return row
        except IntegrityError:
            continue  # a concurrent first grant won the insert; update it instead
    raise InvalidParameterValueError("Workspace permission changed concurrently; try again.")


@transaction.atomic
def workspace_permission_delete(*, workspace_name: str, username: str) -> None:
    """Remove a user's level on a workspace."""
    decisions_forget()
    user = user_get(username)
    deleted, _ = WorkspacePermission.objects.filter(
        for_workspace__name=workspace_name, user=user
    ).delete()
    if not deleted:
        raise ResourceDoesNotExistError(
            f"Workspace permission does not exist for workspace='{workspace_name}', "
            f"username='{username}'"
        )


# ---------------------------------------------------------------------------------------------
# Login throttling
# ---------------------------------------------------------------------------------------------


def login_failure_record(*, username: str, client_ip: str) -> None:
    """Count a failed password check, starting a new window when the last one has passed.

    Remembered decisions are forgotten, so this process applies a lock at once and the next
    successful login reaches the database and clears the count."""
    decisions_forget()
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.MLFLOW_AUTH_FAILED_LOGIN_WINDOW_SECONDS)
    rows = LoginFailure.objects.filter(username=username, client_ip=client_ip)
    if rows.filter(window_started_at__gte=cutoff).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            LoginFailure.objects.update_or_create(
                username=username,
                client_ip=client_ip,
                defaults={"count": 1, "window_started_at": now},
            )
    except IntegrityError:
        rows.update(count=F("count") + 1)  # another process started the window
