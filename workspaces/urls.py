"""Route table of the workspace endpoints (mounted under api/ and ajax-api/)."""

from workspaces.api import operation
from workspaces.views import ServerInfoViewSet, WorkspaceCrudViewSet

urlpatterns = [
    operation("3.0/mlflow/server-info", ServerInfoViewSet, get="server_info"),
    operation(
        "3.0/mlflow/workspaces",
        WorkspaceCrudViewSet,
        get="list_workspaces",
        post="create_workspace",
    ),
    operation(
        "3.0/mlflow/workspaces/<str:workspace_name>",
        WorkspaceCrudViewSet,
        get="get_workspace",
        patch="update_workspace",
        delete="delete_workspace",
    ),
]
