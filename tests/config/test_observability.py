"""``/metrics``, the per-request metrics and JSON request log, and ``/health``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.urls import resolve
from prometheus_client import REGISTRY

from config.observability import REQUEST_LOGGER, JsonFormatter
from tests.conftest import ApiClient
from workspaces.models import Workspace

COUNTER = "mlflow_http_requests_total"


def requests_counted(**labels: str) -> float:
    return REGISTRY.get_sample_value(COUNTER, labels) or 0.0


def latency_count(method: str, route: str) -> float:
    labels = {"method": method, "route": route}
    return REGISTRY.get_sample_value("mlflow_http_request_duration_seconds_count", labels) or 0.0


@pytest.fixture
def request_log() -> Iterator[list[logging.LogRecord]]:
    """The records of the request logger (it does not propagate to the root logger)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger(REQUEST_LOGGER)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def test_metrics_endpoint_speaks_prometheus_text(api: ApiClient) -> None:
    response = api.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert "# TYPE mlflow_http_requests_total counter" in text
    assert "# TYPE mlflow_http_request_duration_seconds histogram" in text


def test_requests_are_counted_per_route_status_and_workspace(
    api: ApiClient, team_a: Workspace
) -> None:
    route = "/api/2.0/mlflow/experiments/create"
    labels = {"method": "POST", "route": route, "status": "200", "workspace": "team-a"}
    before, timed = requests_counted(**labels), latency_count("POST", route)

    api.call("POST", route, {"name": "counted"}, workspace="team-a")
    response = api.get("/metrics")

    assert requests_counted(**labels) == before + 1
    assert latency_count("POST", route) == timed + 1
    assert (
        f'mlflow_http_requests_total{{method="POST",route="{route}",status="200",'
        f'workspace="team-a"}} {before + 1}'
    ) in response.content.decode()


def test_routes_not_paths_keep_labels_bounded(api: ApiClient) -> None:
    route = "/api/2.0/mlflow/runs/get"
    labels = {"method": "GET", "route": route, "status": "404", "workspace": "default"}
    before = requests_counted(**labels)

    for run_id in ("a" * 32, "b" * 32, "c" * 32):
        api.call("GET", route, query={"run_id": run_id})

    assert requests_counted(**labels) == before + 3


def test_path_parameters_stay_in_the_route_pattern(api: ApiClient) -> None:
    route = "/" + resolve("/api/2.0/mlflow-artifacts/artifacts/x").route
    assert route.startswith("/api/2.0/mlflow-artifacts/artifacts/<")
    labels = {"method": "GET", "route": route, "status": "404", "workspace": "default"}
    before = requests_counted(**labels)

    api.get("/api/2.0/mlflow-artifacts/artifacts/some/file-1.txt")
    api.get("/api/2.0/mlflow-artifacts/artifacts/other/file-2.txt")

    assert requests_counted(**labels) == before + 2


def test_unknown_paths_share_one_label(api: ApiClient) -> None:
    labels = {"method": "GET", "route": "<unmatched>", "status": "404", "workspace": ""}
    before = requests_counted(**labels)

    api.get("/no/such/page-1")
    api.get("/no/such/page-2")

    assert requests_counted(**labels) == before + 2


def test_unknown_workspace_header_is_not_a_label(api: ApiClient) -> None:
    route = "/api/2.0/mlflow/experiments/search"
    labels = {"method": "GET", "route": route, "status": "404", "workspace": ""}
    before = requests_counted(**labels)

    response = api.call("GET", route, workspace="no-such-ws")

    assert response.status_code == 404
    assert requests_counted(**labels) == before + 1
    assert REGISTRY.get_sample_value(COUNTER, {**labels, "workspace": "no-such-ws"}) is None


def test_each_request_is_logged_once_with_its_fields(
    api: ApiClient, team_a: Workspace, request_log: list[logging.LogRecord]
) -> None:
    api.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "logged"}, workspace="team-a")

    assert len(request_log) == 1
    fields = request_log[0].fields  # type: ignore[attr-defined]
    duration = fields.pop("duration_ms")
    assert fields == {
        "method": "POST",
        "path": "/api/2.0/mlflow/experiments/create",
        "route": "/api/2.0/mlflow/experiments/create",
        "status": 200,
        "workspace": "team-a",
        "user": "",
    }
    assert duration >= 0


def test_admin_requests_log_the_signed_in_user(
    db: None, default_workspace: Workspace, request_log: list[logging.LogRecord]
) -> None:
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw-for-tests-1"))

    client.get("/admin/")

    assert request_log[-1].fields["user"] == "root"  # type: ignore[attr-defined]
    assert request_log[-1].fields["route"] == "/admin/"  # type: ignore[attr-defined]


def test_json_formatter_writes_one_json_object_per_line() -> None:
    record = logging.LogRecord(REQUEST_LOGGER, logging.INFO, __file__, 1, "GET / 200", (), None)
    record.fields = {"status": 200, "route": "/health"}

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert {key: entry[key] for key in ("level", "logger", "message", "status", "route")} == {
        "level": "INFO",
        "logger": REQUEST_LOGGER,
        "message": "GET / 200",
        "status": 200,
        "route": "/health",
    }
    assert entry["time"].endswith("+00:00")


def test_health_checks_the_database(api: ApiClient) -> None:
    response = api.get("/health")

    assert (response.status_code, response.content) == (200, b"OK")


def test_health_answers_503_when_the_database_is_down(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("connection refused")

    with monkeypatch.context() as patch:  # undone before the test database is torn down
        patch.setattr(connection, "cursor", broken)
        response = api.get("/health")

    assert (response.status_code, response.content) == (503, b"database unavailable")
