"""The metric history endpoints. spec: tracking.md §5, examples/metrics/."""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from config.errors import EndpointNotFoundError
from tracking.selectors.metrics import (
    metric_history,
    metric_history_bulk,
    metric_history_bulk_interval,
)
from tracking.serializers.metrics import (
    GetMetricHistoryBulkIn,
    GetMetricHistoryBulkIntervalIn,
    GetMetricHistoryIn,
    MetricOut,
)
from workspaces.api import WorkspaceViewSet, json_response

AJAX_PREFIX = "/ajax-api/"


class MetricHistoryViewSet(WorkspaceViewSet):
    """A metric's history, the sampled histories of several runs, and the UI's bulk form."""

    permission_resource = "run"
    required_permission = {
        "get_history": "read",
        "get_history_bulk_interval": "read",
        "get_history_bulk": "read",
    }

    def get_history(self, request: Request) -> HttpResponse:
        data = self.parse(GetMetricHistoryIn, request)
        points, token = metric_history(
            run_id=data["run_id"],
            key=data["metric_key"],
            max_results=data.get("max_results"),
            page_token=data.get("page_token"),
        )
        body: dict[str, object] = {}
        if points:
            body["metrics"] = [MetricOut.render(point) for point in points]
        if token:
            body["next_page_token"] = token
        return json_response(body)

    def get_history_bulk_interval(self, request: Request) -> HttpResponse:
        data = self.parse(GetMetricHistoryBulkIntervalIn, request)
        points = metric_history_bulk_interval(
            run_ids=data["run_ids"],
            key=data["metric_key"],
            max_results=data["max_results"],
            start_step=data.get("start_step"),
            end_step=data.get("end_step"),
        )
        if not points:
            return json_response({})
        return json_response({"metrics": [MetricOut.render_with_run_id(p) for p in points]})

    def get_history_bulk(self, request: Request) -> HttpResponse:
        # spec: README.md §1.1, this route exists only under /ajax-api/.
        if not request.path.startswith(AJAX_PREFIX):
            raise EndpointNotFoundError(
                f"No API endpoint at {request.path} (method {request.method})."
            )
        data = self.parse(GetMetricHistoryBulkIn, request)
        points = metric_history_bulk(
            run_ids=data["run_id"], key=data["metric_key"], max_results=data["max_results"]
        )
        # The reference answers this UI route from a plain dict: "metrics" even when empty.
        return json_response({"metrics": [MetricOut.render_with_run_id(p) for p in points]})
