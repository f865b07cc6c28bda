"""Request and response shapes of the users and permission endpoints.

spec: auth-workspace-permissions.md §5, §6, §8 (MLflow 3.10.1's ``AuthServiceClient``).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest

from config import wire
from config.errors import InvalidParameterValueError
from permissions.access import level_can_use
from permissions.models import ExperimentPermission, RegisteredModelPermission, WorkspacePermission


class CreateUserIn(wire.Schema):
    """``users/create``: a JSON body only, and both fields non-empty (spec §5)."""

    username = wire.String()
    password = wire.String()

    @classmethod
    def parse_http(cls, request: HttpRequest) -> dict[str, str]:
        content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != wire.JSON_CONTENT_TYPE:
            raise InvalidParameterValueError("Invalid content type. Must be application/json")
        data = cls.parse(wire.decode_json_body(request))
        if not data.get("username") or not data.get("password"):
            raise InvalidParameterValueError("Username and password cannot be empty.")
        return data


class UsernameIn(wire.Schema):
    username = wire.String(required=True)


class UpdatePasswordIn(wire.Schema):
    username = wire.String(required=True)
    password = wire.String(required=True)


class UpdateAdminIn(wire.Schema):
    username = wire.String(required=True)
    is_admin = wire.Bool(required=True)


class ExperimentPermissionIn(wire.Schema):
    experiment_id = wire.Int64(required=True)
    username = wire.String(required=True)
    permission = wire.String(required=True)


class ExperimentPermissionKeyIn(wire.Schema):
    experiment_id = wire.Int64(required=True)
    username = wire.String(required=True)


class RegisteredModelPermissionIn(wire.Schema):
    name = wire.String(required=True)
    username = wire.String(required=True)
    permission = wire.String(required=True)


class RegisteredModelPermissionKeyIn(wire.Schema):
    name = wire.String(required=True)
    username = wire.String(required=True)


class SetWorkspacePermissionIn(wire.Schema):
    """``POST workspaces/{ws}/permissions``; missing keys are reported together (spec §8)."""

    username = wire.String()
    permission = wire.String()

    @classmethod
    def parse_http(cls, request: HttpRequest) -> dict[str, str]:
        data = cls.parse(wire.decode_json_body(request))
        missing = sorted(name for name in cls.fields if not data.get(name))
        if missing:
            raise InvalidParameterValueError(
                f"Workspace permission payload missing keys: {', '.join(missing)}"
            )
        return data


def username_from_query_or_body(request: HttpRequest) -> str:
    """``DELETE workspaces/{ws}/permissions``: ``?username=``, or a JSON body (spec §8)."""
    username = request.GET.get("username")
    if not username and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            body = {}
        if isinstance(body, dict) and isinstance(body.get("username"), str):
            username = body["username"]
    if not username:
        raise wire.missing_value("username")
    return username


class ExperimentPermissionOut:
    @staticmethod
    def render(row: ExperimentPermission) -> dict[str, Any]:
        return {
            "experiment_id": str(row.experiment_id),
            "permission": row.permission,
            "user_id": row.user_id,
        }


class RegisteredModelPermissionOut:
    @staticmethod
    def render(row: RegisteredModelPermission) -> dict[str, Any]:
        return {
            "name": row.name,
            "permission": row.permission,
            "user_id": row.user_id,
            "workspace": row.for_workspace.name,
        }


class WorkspacePermissionOut:
    """The user is named by ``user_id`` only; ``can_use`` is the level's (spec §8)."""

    @staticmethod
    def render(row: WorkspacePermission) -> dict[str, Any]:
        return {
            "workspace": row.for_workspace.name,
            "user_id": row.user_id,
            "permission": row.permission,
            "can_use": level_can_use(row.permission),
        }


class UserOut:
    """A user as 3.10's ``AuthServiceClient`` reads it: all three lists, empty or not."""

    @staticmethod
    def render(
        user: User,
        experiment_rows: list[ExperimentPermission],
        model_rows: list[RegisteredModelPermission],
    ) -> dict[str, Any]:
        return {
            "id": user.pk,
            "username": user.username,
            "is_admin": user.is_superuser,
            "experiment_permissions": [ExperimentPermissionOut.render(r) for r in experiment_rows],
            "registered_model_permissions": [
                RegisteredModelPermissionOut.render(r) for r in model_rows
            ],
            "scorer_permissions": [],
        }


class UserListItemOut:
    """``users/list`` gives only id and username (spec §5)."""

    @staticmethod
    def render(user: User) -> dict[str, Any]:
        return {"id": user.pk, "username": user.username}
