"""Route table of the users and permission endpoints (mounted under api/ and ajax-api/).

spec: auth-workspace-permissions.md §5, §6, §8. The views refuse /ajax-api/ where the
reference has no such route.
"""

from permissions.views import (
    ExperimentPermissionViewSet,
    RegisteredModelPermissionViewSet,
    UserViewSet,
    WorkspacePermissionViewSet,
)
from workspaces.api import operation

user_routes = [
    operation("2.0/mlflow/users/create", UserViewSet, post="create"),
    operation("2.0/mlflow/users/get", UserViewSet, get="get_user"),
    operation("2.0/mlflow/users/list", UserViewSet, get="list_users"),
    operation("2.0/mlflow/users/update-password", UserViewSet, patch="update_password"),
    operation("2.0/mlflow/users/update-admin", UserViewSet, patch="update_admin"),
    operation("2.0/mlflow/users/delete", UserViewSet, delete="delete_user"),
]

experiment_permission_routes = [
    operation(
        "2.0/mlflow/experiments/permissions/create", ExperimentPermissionViewSet, post="create"
    ),
    operation(
        "2.0/mlflow/experiments/permissions/get", ExperimentPermissionViewSet, get="get_permission"
    ),
    operation(
        "2.0/mlflow/experiments/permissions/update", ExperimentPermissionViewSet, patch="update"
    ),
    operation(
        "2.0/mlflow/experiments/permissions/delete",
        ExperimentPermissionViewSet,
        delete="delete_permission",
    ),
]

# Prompts are registered models here (spec §6.2): these rows govern them too.
registered_model_permission_routes = [
    operation(
        "2.0/mlflow/registered-models/permissions/create",
        RegisteredModelPermissionViewSet,
        post="create",
    ),
    operation(
        "2.0/mlflow/registered-models/permissions/get",
        RegisteredModelPermissionViewSet,
        get="get_permission",
    ),
    operation(
        "2.0/mlflow/registered-models/permissions/update",
        RegisteredModelPermissionViewSet,
        patch="update",
    ),
    operation(
        "2.0/mlflow/registered-models/permissions/delete",
        RegisteredModelPermissionViewSet,
        delete="delete_permission",
    ),
]

workspace_permission_routes = [
    operation(
        "3.0/mlflow/workspaces/<str:workspace_name>/permissions",
        WorkspacePermissionViewSet,
        get="list_permissions",
        post="set_permission",
        delete="delete_permission",
    ),
    operation("3.0/mlflow/workspace-permissions", WorkspacePermissionViewSet, get="list_for_user"),
]

urlpatterns = (
    user_routes
    + experiment_permission_routes
    + registered_model_permission_routes
    + workspace_permission_routes
)
