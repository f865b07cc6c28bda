"""Reads of users and permission rows, with MLflow's not-found messages."""

from __future__ import annotations

from django.contrib.auth.models import User

from config.errors import ResourceDoesNotExistError
from permissions.models import ExperimentPermission, RegisteredModelPermission, WorkspacePermission
from workspaces.models import Workspace


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
