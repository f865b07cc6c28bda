"""The experiment and run search endpoints. spec: tracking.md §2-3, search.md.

``experiments/search`` answers GET and POST; ``runs/search`` only POST (GET → 405).
Empty results are ``{}``; ``next_page_token`` appears only when another page exists.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from tracking.selectors.search import experiment_search, run_search
from tracking.serializers.experiments import ExperimentOut
from tracking.serializers.runs import RunOut
from tracking.serializers.search import SearchExperimentsIn, SearchRunsIn
from workspaces.api import WorkspaceViewSet, json_response


def _page_body(name: str, items: list[dict[str, Any]], next_page_token: str | None) -> HttpResponse:
    body: dict[str, Any] = {}
    if items:
        body[name] = items
    if next_page_token:
        body["next_page_token"] = next_page_token
    return json_response(body)


class SearchViewSet(WorkspaceViewSet):
    """Searches over the active workspace's experiments and runs."""

    # Any authenticated caller; the selectors keep what the caller may read (spec:
    # auth-workspace-permissions.md §10-11).
    required_permission = {"search_experiments": "authenticated", "search_runs": "authenticated"}

    def search_experiments(self, request: Request) -> HttpResponse:
        data = self.parse(SearchExperimentsIn, request)
        page = experiment_search(
            user=request.user,
            max_results=data.get("max_results", 0),
            view_type=data.get("view_type", "ACTIVE_ONLY"),
            filter_string=data.get("filter", ""),
            order_by=data.get("order_by", []),
            page_token=data.get("page_token"),
        )
        experiments = [ExperimentOut.render(experiment, tags) for experiment, tags in page.items]
        return _page_body("experiments", experiments, page.next_page_token)

    def search_runs(self, request: Request) -> HttpResponse:
        data = self.parse(SearchRunsIn, request)
        page = run_search(
            user=request.user,
            experiment_ids=data.get("experiment_ids", []),
            filter_string=data.get("filter", ""),
            view_type=data.get("run_view_type", "ACTIVE_ONLY"),
            max_results=data.get("max_results", 1000),
            order_by=data.get("order_by", []),
            page_token=data.get("page_token"),
        )
        # spec: runs/search rows carry dataset inputs but not model inputs (as MLflow's store).
        runs = [RunOut.render(run, include_model_inputs=False) for run in page.items]
        return _page_body("runs", runs, page.next_page_token)
