"""The workspace endpoints and server-info. spec: workspaces.md §5, §8."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request

from config.errors import EndpointNotFoundError
from permissions.access import workspaces_visible
from workspaces.api import ApiViewSet, global_view, json_response
from workspaces.selectors import workspace_get
from workspaces.serializers import CreateWorkspaceIn, UpdateWorkspaceIn, WorkspaceOut
from workspaces.services import workspace_create, workspace_delete, workspace_update
from workspaces.validators import validate_existing_workspace_name


@global_view
class WorkspaceCrudViewSet(ApiViewSet):
    """Workspace CRUD: the workspace list itself belongs to no workspace."""

    # spec: auth-workspace-permissions.md §13. The list is filtered per user.
    required_permission = {
        "list_workspaces": "authenticated",
        "create_workspace": "admin",
        "get_workspace": "read:workspace_name",
        "update_workspace": "admin",
        "delete_workspace": "admin",
    }

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        if not settings.MLFLOW_ENABLE_WORKSPACES:
            # differs from reference: it answers 503 text, which the client retries for minutes.
            raise EndpointNotFoundError(
                f"Endpoint: {request.path} disabled because the server is running without "
                "workspaces support. Set MLFLOW_ENABLE_WORKSPACES=true to enable workspaces."
            )

    def list_workspaces(self, request: Request) -> HttpResponse:
        workspaces = list(workspaces_visible(request.user))
        if not workspaces:
            return json_response({})
        return json_response({"workspaces": [WorkspaceOut.render(ws) for ws in workspaces]})

    def create_workspace(self, request: Request) -> HttpResponse:
        data = self.parse(CreateWorkspaceIn, request)
        name = data.pop("name")
        workspace = workspace_create(name=name, fields=data)
        return json_response({"workspace": WorkspaceOut.render(workspace)}, status=201)

    def get_workspace(self, request: Request, workspace_name: str) -> HttpResponse:
        workspace = workspace_get(validate_existing_workspace_name(workspace_name))
        return json_response({"workspace": WorkspaceOut.render(workspace)})

    def update_workspace(self, request: Request, workspace_name: str) -> HttpResponse:
        validate_existing_workspace_name(workspace_name)
        data = self.parse(UpdateWorkspaceIn, request)
        workspace = workspace_update(name=workspace_name, fields=data)
        return json_response({"workspace": WorkspaceOut.render(workspace)})

    def delete_workspace(self, request: Request, workspace_name: str) -> HttpResponse:
        mode = request.query_params.get("mode", "RESTRICT")
        if workspace_name != "default":
            validate_existing_workspace_name(workspace_name)
        workspace_delete(name=workspace_name, mode=mode)
        return HttpResponse(status=204)


@global_view
class ServerInfoViewSet(ApiViewSet):
    """What this server supports; blind to the workspace header."""

    # spec: auth-workspace-permissions.md §2, credentials needed in 3.10 (public in 3.17).
    required_permission = {"server_info": "authenticated"}

    def server_info(self, request: Request) -> HttpResponse:
        return json_response(
            {
                "store_type": "SqlStore",
                "workspaces_enabled": settings.MLFLOW_ENABLE_WORKSPACES,
                "trace_archival_enabled": False,
                "multipart_uploads_enabled": False,
                "multipart_downloads_enabled": False,
                "presigned_upload_run_id_supported": True,
                "presigned_upload_model_id_supported": True,
                "features_enabled": {"gateway": False},
            }
        )
