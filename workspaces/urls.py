"""Route table of the workspace endpoints (mounted under api/ and ajax-api/)."""

from workspaces.api import operation
from workspaces.views import ServerInfoViewSet, WorkspaceCrudViewSet

urlpatterns = [
    operation("3.0/mlflow/server-info", ServerInfoViewSet, get="get"),
    operation("3.0/mlflow/workspaces", WorkspaceCrudViewSet, get="list", post="create"),
    operation(
        "3.0/mlflow/workspaces/<str:workspace_name>",
        WorkspaceCrudViewSet,
        get="get",
        patch="update",
        delete="delete",
    ),
]
