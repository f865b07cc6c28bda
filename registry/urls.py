"""Route table of the registry endpoints (mounted under api/ and ajax-api/). spec: registry.md."""

from django.urls import URLPattern

from registry.views import ModelVersionArtifactViewSet, ModelVersionViewSet, RegisteredModelViewSet
from registry.views_webhooks import WebhookViewSet
from workspaces.api import operation

RM = RegisteredModelViewSet
MV = ModelVersionViewSet

# Registered models and prompts (registry/views.py, RegisteredModelViewSet)
registered_model_routes: list[URLPattern] = [
    operation("2.0/mlflow/registered-models/create", RM, post="create"),
    operation("2.0/mlflow/registered-models/get", RM, get="get_model"),
    operation("2.0/mlflow/registered-models/update", RM, patch="update"),
    operation("2.0/mlflow/registered-models/rename", RM, post="rename"),
    operation("2.0/mlflow/registered-models/delete", RM, delete="delete_model"),
    operation("2.0/mlflow/registered-models/search", RM, get="search"),
    operation(
        "2.0/mlflow/registered-models/get-latest-versions",
        RM,
        get="latest_versions",
        post="latest_versions",
    ),
    operation("2.0/mlflow/registered-models/set-tag", RM, post="set_tag"),
    operation("2.0/mlflow/registered-models/delete-tag", RM, delete="delete_tag"),
    operation(
        "2.0/mlflow/registered-models/alias",
        RM,
        post="set_alias",
        delete="delete_alias",
        get="get_by_alias",
    ),
]

# Model versions and prompt versions (registry/views.py, ModelVersionViewSet)
model_version_routes: list[URLPattern] = [
    operation("2.0/mlflow/model-versions/create", MV, post="create"),
    operation("2.0/mlflow/model-versions/get", MV, get="get_version"),
    operation("2.0/mlflow/model-versions/update", MV, patch="update"),
    operation("2.0/mlflow/model-versions/transition-stage", MV, post="transition_stage"),
    operation("2.0/mlflow/model-versions/delete", MV, delete="delete_version"),
    operation("2.0/mlflow/model-versions/search", MV, get="search"),
    operation("2.0/mlflow/model-versions/get-download-uri", MV, get="download_uri"),
    operation("2.0/mlflow/model-versions/set-tag", MV, post="set_tag"),
    operation("2.0/mlflow/model-versions/delete-tag", MV, delete="delete_tag"),
]

urlpatterns = registered_model_routes + model_version_routes

# Webhooks (registry/views_webhooks.py, WebhookViewSet); spec: registry.md §7.
webhook_routes: list[URLPattern] = [
    operation("2.0/mlflow/webhooks", WebhookViewSet, post="create", get="list_webhooks"),
    operation(
        "2.0/mlflow/webhooks/<str:webhook_id>",
        WebhookViewSet,
        get="get_webhook",
        patch="update_webhook",
        delete="delete_webhook",
    ),
    operation("2.0/mlflow/webhooks/<str:webhook_id>/test", WebhookViewSet, post="test_webhook"),
]

urlpatterns += webhook_routes

# The UI's download outside api/ (mounted at the top level by config/urls.py).
artifact_ui_routes: list[URLPattern] = [
    operation("model-versions/get-artifact", ModelVersionArtifactViewSet, get="get_artifact"),
]
