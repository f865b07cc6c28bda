"""Observability: ``GET /metrics`` in Prometheus' text format and one JSON log line per request.

Metrics are labelled with the URL *route* (``/api/2.0/mlflow/runs/get``,
``/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>``), never the raw path, so the
number of series is bounded by the route table; paths that match no route share one label.
The request counter also carries the resolved workspace (bounded by the number of
workspaces; an unknown header value is never a label).

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the
server starts: every process then writes its samples there and ``/metrics`` (answered by any
one of them) adds them up. Without it each process counts only its own requests.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject, empty
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

UNMATCHED_ROUTE = "<unmatched>"
REQUEST_LOGGER = "mlflow.requests"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "mlflow_http_requests",
    "HTTP requests answered, by method, URL route, status code and workspace.",
    ["method", "route", "status", "workspace"],
)
LATENCY = Histogram(
    "mlflow_http_request_duration_seconds",
    "Time to produce the response (streamed bodies excluded), by method and URL route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

request_logger = logging.getLogger(REQUEST_LOGGER)


def request_route(request: HttpRequest) -> str:
    """The URL pattern the request matched (``/api/2.0/mlflow/runs/get``), or
    ``<unmatched>``. Requests answered before routing (a bad workspace header) are resolved
    here, so they are counted under their route too."""
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED_ROUTE
    return "/" + match.route


def request_workspace(request: HttpRequest) -> str:
    """The workspace the middleware resolved for the request; ``""`` for none."""
    workspace = getattr(request, "workspace", None)
    return str(workspace.name) if workspace is not None else ""


def request_user(request: HttpRequest) -> str:
    """The authenticated user's name, if authentication ran; never triggers a session load."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return ""
    return str(user.get_username()) if user.is_authenticated else ""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"), default=str)


class RequestObservabilityMiddleware:
    """Counts and times every request and logs it as one structured line (``mlflow.requests``).

    It sits first in ``MIDDLEWARE`` so the time covers the whole stack; the workspace and the
    user are read from the request after the inner middleware and the view have set them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration = time.perf_counter() - started
        route = request_route(request)
        method = request.method or ""
        workspace = request_workspace(request)
        REQUESTS.labels(method, route, str(response.status_code), workspace).inc()
        LATENCY.labels(method, route).observe(duration)
        request_logger.info(
            "%s %s %s",
            method,
            request.path_info,
            response.status_code,
            extra={
                "fields": {
                    "method": method,
                    "path": request.path_info,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 3),
                    "workspace": workspace,
                    "user": request_user(request),
                }
            },
        )
        return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: every metric in Prometheus' text exposition format; with
    ``PROMETHEUS_MULTIPROC_DIR`` set, the sum over every process of the server."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
