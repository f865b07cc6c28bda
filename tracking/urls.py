"""Route table of the tracking endpoints (mounted under api/ and ajax-api/). spec: tracking.md."""

from django.urls import URLPattern

# Experiments (tracking/views/experiments.py)
experiment_routes: list[URLPattern] = []

# Runs, params, metrics, tags, batch, inputs, outputs (tracking/views/runs.py)
run_routes: list[URLPattern] = []

# Metric history (tracking/views/metrics.py)
metric_routes: list[URLPattern] = []

# Searches of experiments and runs (tracking/views/search.py)
search_routes: list[URLPattern] = []

urlpatterns = experiment_routes + run_routes + metric_routes + search_routes
