"""Route table of the tracking endpoints (mounted under api/ and ajax-api/). spec: tracking.md."""

from django.urls import URLPattern

from tracking.views.experiments import ExperimentViewSet
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
run_routes: list[URLPattern] = []

# Metric history (tracking/views/metrics.py)
metric_routes: list[URLPattern] = []

# Searches of experiments and runs (tracking/views/search.py)
search_routes: list[URLPattern] = []

urlpatterns = experiment_routes + run_routes + metric_routes + search_routes
