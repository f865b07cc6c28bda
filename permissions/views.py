"""Users, resource permissions and workspace permissions endpoints (MLflow 3.10.1).

spec: auth-workspace-permissions.md §5, §6, §8. These routes exist under ``/api/`` only (the
URL table mounts every route under both prefixes, so ``/ajax-api/`` answers 404 here), except
``users/list``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request

from config.errors import EndpointNotFoundError
from permissions.selectors import (
    experiment_permission_get,
    registered_model_permission_get,
    user_get,
    user_list,
    user_permission_rows,
    workspace_permission_list,
    workspace_permission_list_for_user,
)
from permissions.serializers import (
    CreateUserIn,
    ExperimentPermissionIn,
    ExperimentPermissionKeyIn,
    ExperimentPermissionOut,
    RegisteredModelPermissionIn,
    RegisteredModelPermissionKeyIn,
    RegisteredModelPermissionOut,
    SetWorkspacePermissionIn,
    UpdateAdminIn,
    UpdatePasswordIn,
    UserListItemOut,
    UsernameIn,
    UserOut,
    WorkspacePermissionOut,
    username_from_query_or_body,
)
from permissions.services import (
    experiment_permission_create,
    experiment_permission_delete,
    experiment_permission_update,
    registered_model_permission_create,
    registered_model_permission_delete,
    registered_model_permission_update,
    user_create,
    user_delete,
    user_set_admin,
    user_set_password,
    workspace_permission_delete,
    workspace_permission_set,
)
from workspaces.api import (
    ApiViewSet,
    WorkspaceRequest,
    WorkspaceViewSet,
    global_view,
    json_response,
)


def _refuse_ajax(request: Request, *, allowed: tuple[str, ...] = ()) -> None:
    """The reference serves these routes under /api/ only (Flask's 404 under /ajax-api/)."""
    if request.path_info.startswith("/ajax-api/") and not request.path_info.endswith(allowed):
        raise EndpointNotFoundError(
            f"No API endpoint at {request.path_info} (method {request.method})."
        )


@global_view
class UserViewSet(ApiViewSet):
    """Users: admins manage them; a user may read themselves and change their own password."""

    required_permission = {
        "create": "admin",
        "get_user": "self",
        "list_users": "admin",
        "update_password": "self",
        "update_admin": "admin",
        "delete_user": "admin",
    }

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _refuse_ajax(request, allowed=("/users/list",))
        super().initial(request, *args, **kwargs)

    def create(self, request: Request) -> HttpResponse:
        data = CreateUserIn.parse_http(request._request)
        user = user_create(username=data["username"], password=data["password"])
        return json_response({"user": UserOut.render(user, [], [])})

    def get_user(self, request: Request) -> HttpResponse:
        data = self.parse(UsernameIn, request)
        user = user_get(data["username"])
        experiment_rows, model_rows = user_permission_rows(user)
        return json_response({"user": UserOut.render(user, experiment_rows, model_rows)})

    def list_users(self, request: Request) -> HttpResponse:
        return json_response({"users": [UserListItemOut.render(user) for user in user_list()]})

    def update_password(self, request: Request) -> HttpResponse:
        data = self.parse(UpdatePasswordIn, request)
        user_set_password(username=data["username"], password=data["password"])
        return json_response({})

    def update_admin(self, request: Request) -> HttpResponse:
        data = self.parse(UpdateAdminIn, request)
        user_set_admin(username=data["username"], is_admin=data["is_admin"])
        return json_response({})

    def delete_user(self, request: Request) -> HttpResponse:
        data = self.parse(UsernameIn, request)
        user_delete(username=data["username"])
        return json_response({})


class ExperimentPermissionViewSet(WorkspaceViewSet):
    """A user's explicit level on one experiment; MANAGE on the experiment is needed (§6.1)."""

    required_permission = {
        "create": "manage:experiment",
        "get_permission": "manage:experiment",
        "update": "manage:experiment",
        "delete_permission": "manage:experiment",
    }

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _refuse_ajax(request)
        super().initial(request, *args, **kwargs)

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(ExperimentPermissionIn, request)
        row = experiment_permission_create(
            experiment_id=data["experiment_id"],
            username=data["username"],
            permission=data["permission"],
        )
        return json_response({"experiment_permission": ExperimentPermissionOut.render(row)})

    def get_permission(self, request: Request) -> HttpResponse:
        data = self.parse(ExperimentPermissionKeyIn, request)
        row = experiment_permission_get(
            experiment_id=data["experiment_id"], user=user_get(data["username"])
        )
        return json_response({"experiment_permission": ExperimentPermissionOut.render(row)})

    def update(self, request: Request) -> HttpResponse:
        data = self.parse(ExperimentPermissionIn, request)
        experiment_permission_update(
            experiment_id=data["experiment_id"],
            username=data["username"],
            permission=data["permission"],
        )
        return json_response({})

    def delete_permission(self, request: Request) -> HttpResponse:
        data = self.parse(ExperimentPermissionKeyIn, request)
        experiment_permission_delete(experiment_id=data["experiment_id"], username=data["username"])
        return json_response({})


class RegisteredModelPermissionViewSet(WorkspaceViewSet):
    """A user's explicit level on a registered model or prompt of the request's workspace."""

    required_permission = {
        "create": "manage:registered_model",
        "get_permission": "manage:registered_model",
        "update": "manage:registered_model",
        "delete_permission": "manage:registered_model",
    }

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _refuse_ajax(request)
        super().initial(request, *args, **kwargs)

    def create(self, request: WorkspaceRequest) -> HttpResponse:
        data = self.parse(RegisteredModelPermissionIn, request)
        row = registered_model_permission_create(
            workspace=request.workspace,
            name=data["name"],
            username=data["username"],
            permission=data["permission"],
        )
        return json_response(
            {"registered_model_permission": RegisteredModelPermissionOut.render(row)}
        )

    def get_permission(self, request: WorkspaceRequest) -> HttpResponse:
        data = self.parse(RegisteredModelPermissionKeyIn, request)
        row = registered_model_permission_get(
            workspace=request.workspace, name=data["name"], user=user_get(data["username"])
        )
        return json_response(
            {"registered_model_permission": RegisteredModelPermissionOut.render(row)}
        )

    def update(self, request: WorkspaceRequest) -> HttpResponse:
        data = self.parse(RegisteredModelPermissionIn, request)
        registered_model_permission_update(
            workspace=request.workspace,
            name=data["name"],
            username=data["username"],
            permission=data["permission"],
        )
        return json_response({})

    def delete_permission(self, request: WorkspaceRequest) -> HttpResponse:
        data = self.parse(RegisteredModelPermissionKeyIn, request)
        registered_model_permission_delete(
            workspace=request.workspace, name=data["name"], username=data["username"]
        )
        return json_response({})


@global_view
class WorkspacePermissionViewSet(ApiViewSet):
    """Users' levels on whole workspaces; MANAGE on the workspace in the URL is needed (§8)."""

    required_permission = {
        "list_permissions": "manage:workspace_name",
        "set_permission": "manage:workspace_name",
        "delete_permission": "manage:workspace_name",
        "list_for_user": "admin",
    }

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        _refuse_ajax(request)
        if not settings.MLFLOW_ENABLE_WORKSPACES:
            # differs from reference: 503 there, which the client retries for minutes.
            route = request.path_info.removeprefix("/api/")
            template = (
                "/api/3.0/mlflow/workspace-permissions"
                if route.startswith("3.0/mlflow/workspace-permissions")
                else "/api/3.0/mlflow/workspaces/<workspace_name>/permissions"
            )
            raise EndpointNotFoundError(
                f"Endpoint: {template} disabled because the server is running without "
                "workspaces support. Set MLFLOW_ENABLE_WORKSPACES=true to enable workspaces."
            )
        super().initial(request, *args, **kwargs)

    def list_permissions(self, request: Request, workspace_name: str) -> HttpResponse:
        rows = workspace_permission_list(workspace_name)
        return json_response({"permissions": [WorkspacePermissionOut.render(r) for r in rows]})

    def set_permission(self, request: Request, workspace_name: str) -> HttpResponse:
        data = SetWorkspacePermissionIn.parse_http(request._request)
        row = workspace_permission_set(
            workspace_name=workspace_name,
            username=data["username"],
            permission=data["permission"],
        )
        return json_response({"permission": WorkspacePermissionOut.render(row)})

    def delete_permission(self, request: Request, workspace_name: str) -> HttpResponse:
        username = username_from_query_or_body(request._request)
        workspace_permission_delete(workspace_name=workspace_name, username=username)
        return HttpResponse(status=204)

    def list_for_user(self, request: Request) -> HttpResponse:
        data = self.parse(UsernameIn, request)
        rows = workspace_permission_list_for_user(user_get(data["username"]))
        return json_response({"permissions": [WorkspacePermissionOut.render(r) for r in rows]})
