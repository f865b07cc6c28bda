"""Route table of the tracking endpoints (mounted under api/ and ajax-api/). spec: tracking.md."""

from django.urls import URLPattern, register_converter

from tracking.views.artifacts import ProxyArtifactViewSet, RunArtifactViewSet
from tracking.views.experiments import ExperimentViewSet
from tracking.views.logged_models import LoggedModelViewSet
from tracking.views.metrics import MetricHistoryViewSet
from tracking.views.runs import RunViewSet
from tracking.views.search import SearchViewSet
from workspaces.api import operation

# Experiments (tracking/views/experiments.py)
experiment_routes: list[URLPattern] = [
    operation("2.0/mlflow/experiments/create", ExperimentViewSet, post="create"),
    operation("2.0/mlflow/experiments/get", ExperimentViewSet, get="get_experiment"),
    operation("2.0/mlflow/experiments/get-by-name", ExperimentViewSet, get="get_by_name"),
    operation("2.0/mlflow/experiments/update", ExperimentViewSet, post="update"),
    operation("2.0/mlflow/experiments/delete", ExperimentViewSet, post="delete_experiment"),
    operation("2.0/mlflow/experiments/restore", ExperimentViewSet, post="restore"),
    operation("2.0/mlflow/experiments/set-experiment-tag", ExperimentViewSet, post="set_tag"),
    operation("2.0/mlflow/experiments/delete-experiment-tag", ExperimentViewSet, post="delete_tag"),
]

# Runs, params, metrics, tags, batch, inputs, outputs (tracking/views/runs.py)
run_routes: list[URLPattern] = [
    operation("2.0/mlflow/runs/create", RunViewSet, post="create"),
    operation("2.0/mlflow/runs/get", RunViewSet, get="get_run"),
    operation("2.0/mlflow/runs/update", RunViewSet, post="update"),
    operation("2.0/mlflow/runs/delete", RunViewSet, post="delete_run"),
    operation("2.0/mlflow/runs/restore", RunViewSet, post="restore"),
    operation("2.0/mlflow/runs/log-parameter", RunViewSet, post="log_parameter"),
    operation("2.0/mlflow/runs/log-metric", RunViewSet, post="log_metric"),
    operation("2.0/mlflow/runs/set-tag", RunViewSet, post="set_tag"),
    operation("2.0/mlflow/runs/delete-tag", RunViewSet, post="delete_tag"),
    operation("2.0/mlflow/runs/log-batch", RunViewSet, post="log_batch"),
    operation("2.0/mlflow/runs/log-inputs", RunViewSet, post="log_inputs"),
    operation("2.0/mlflow/runs/outputs", RunViewSet, post="log_outputs"),
    operation("2.0/mlflow/runs/log-model", RunViewSet, post="log_model"),
]

# Metric history (tracking/views/metrics.py)
metric_routes: list[URLPattern] = [
    operation("2.0/mlflow/metrics/get-history", MetricHistoryViewSet, get="get_history"),
    operation(
        "2.0/mlflow/metrics/get-history-bulk-interval",
        MetricHistoryViewSet,
        get="get_history_bulk_interval",
    ),
    # UI only: the view answers ENDPOINT_NOT_FOUND under /api/.
    operation("2.0/mlflow/metrics/get-history-bulk", MetricHistoryViewSet, get="get_history_bulk"),
]

# Searches of experiments and runs (tracking/views/search.py)
search_routes: list[URLPattern] = [
    operation(
        "2.0/mlflow/experiments/search",
        SearchViewSet,
        get="search_experiments",
        post="search_experiments",
    ),
    operation("2.0/mlflow/runs/search", SearchViewSet, post="search_runs"),  # no GET: 405
]

# Artifacts: the mlflow-artifacts proxy and run artifacts (tracking/views/artifacts.py)


class ArtifactPathConverter:
    """Any non-empty rest of the URL, newlines included (``path`` stops at one), so every odd
    path reaches tracking/storage/ and is refused there with INVALID_PARAMETER_VALUE."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ArtifactPathConverter, "artifact_path")

ARTIFACT = "2.0/mlflow-artifacts/artifacts/<artifact_path:artifact_path>"
artifact_routes: list[URLPattern] = [
    operation("2.0/mlflow-artifacts/artifacts", ProxyArtifactViewSet, get="list_artifacts"),
    operation(
        ARTIFACT, ProxyArtifactViewSet, get="download", put="upload", delete="delete_artifact"
    ),
    operation(
        "2.0/mlflow-artifacts/mpu/create/<artifact_path:artifact_path>",
        ProxyArtifactViewSet,
        post="create_multipart",
    ),
    operation(
        "2.0/mlflow-artifacts/mpu/complete/<artifact_path:artifact_path>",
        ProxyArtifactViewSet,
        post="complete_multipart",
    ),
    operation(
        "2.0/mlflow-artifacts/mpu/abort/<artifact_path:artifact_path>",
        ProxyArtifactViewSet,
        post="abort_multipart",
    ),
    operation(
        "2.0/mlflow-artifacts/presigned/<artifact_path:artifact_path>",
        ProxyArtifactViewSet,
        get="presigned_download",
    ),
    operation("2.0/mlflow/artifacts/list", RunArtifactViewSet, get="list_artifacts"),
    operation(
        "2.0/mlflow/artifacts/presigned-upload-url", RunArtifactViewSet, post="presigned_upload_url"
    ),
    operation(
        "2.0/mlflow/artifacts/presigned-download-url",
        RunArtifactViewSet,
        post="presigned_download_url",
    ),
    # UI only: the view answers ENDPOINT_NOT_FOUND under /api/.
    operation("2.0/mlflow/upload-artifact", RunArtifactViewSet, post="upload_artifact"),
]

# The UI's downloads outside api/ (mounted at the top level by config/urls.py).
artifact_ui_routes: list[URLPattern] = [
    operation("get-artifact", RunArtifactViewSet, get="get_artifact"),
]

# Logged models, MLflow 3 (tracking/views/logged_models.py)
LOGGED_MODEL = "2.0/mlflow/logged-models/<str:model_id>"
logged_model_routes: list[URLPattern] = [
    operation("2.0/mlflow/logged-models", LoggedModelViewSet, post="create"),
    operation("2.0/mlflow/logged-models/search", LoggedModelViewSet, post="search"),
    operation(
        LOGGED_MODEL,
        LoggedModelViewSet,
        get="get_logged_model",
        patch="finalize",
        delete="delete_logged_model",
    ),
    operation(f"{LOGGED_MODEL}/params", LoggedModelViewSet, post="log_params"),
    operation(f"{LOGGED_MODEL}/tags", LoggedModelViewSet, patch="set_tags"),
    operation(f"{LOGGED_MODEL}/tags/<path:tag_key>", LoggedModelViewSet, delete="delete_tag"),
    operation(f"{LOGGED_MODEL}/artifacts/directories", LoggedModelViewSet, get="list_artifacts"),
    # UI only: the view answers ENDPOINT_NOT_FOUND under /api/.
    operation(f"{LOGGED_MODEL}/artifacts/files", LoggedModelViewSet, get="get_artifact"),
]

urlpatterns = (
    experiment_routes
    + run_routes
    + metric_routes
    + search_routes
    + artifact_routes
    + logged_model_routes
)
