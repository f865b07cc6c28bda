"""Authentication and the permission check cost at most one query per request: the user, their
workspace row and their rows on the resource come back together (STYLE §7); a request this
process granted moments ago costs none (permissions/decisions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permissions.decisions import decisions
from permissions.services import token_issue
from tests.conftest import ApiClient
from tests.permissions.conftest import Seed, basic


def requests_of(seed: Seed) -> list[tuple[str, str, Any, str | None]]:
    run_id = seed.run("run-shared")
    return [
        (
            "GET",
            "/api/2.0/mlflow/experiments/get",
            {"experiment_id": seed.exp("exp-shared")},
            "team-a",
        ),
        (
            "GET",
            "/api/2.0/mlflow/experiments/get-by-name",
            {"experiment_name": "exp-shared"},
            "team-a",
        ),
        ("GET", "/api/2.0/mlflow/runs/get", {"run_id": run_id}, "team-a"),
        (
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 5, "step": 0},
            "team-a",
        ),
        (
            "GET",
            "/api/2.0/mlflow/metrics/get-history",
            {"run_id": run_id, "metric_key": "m"},
            "team-a",
        ),
        ("GET", "/api/2.0/mlflow/registered-models/get", {"name": "model-a"}, "team-a"),
        ("GET", "/api/3.0/mlflow/workspaces", None, None),
        ("GET", "/api/3.0/mlflow/workspaces/team-a", None, None),
    ]


def count(
    api: ApiClient,
    method: str,
    path: str,
    data: Any,
    workspace: str | None,
    headers: dict[str, str],
) -> int:
    with CaptureQueriesContext(connection) as queries:
        if method == "GET":
            response = api.call("GET", path, workspace=workspace, query=data, headers=headers)
        else:
            response = api.call(method, path, data, workspace=workspace, headers=headers)
    assert response.status_code == 200, (path, response.content[:300])
    return len(queries)


def headers_of(seed: Seed, who: str) -> dict[str, str]:
    if who == "token":
        return {"Authorization": f"Bearer {token_issue(user=seed.users['carol'])}"}
    return basic(who)


@pytest.mark.parametrize("index", range(8))
@pytest.mark.parametrize("who", ["carol", "admin", "token"])
def test_auth_adds_exactly_one_query_when_not_remembered(
    api: ApiClient, seed: Seed, settings: Any, index: int, who: str
) -> None:
    method, path, data, workspace = requests_of(seed)[index]
    headers = headers_of(seed, who)
    count(api, method, path, data, workspace, headers)  # warm: password verified once

    settings.MLFLOW_AUTH_ENABLED = False
    off = count(api, method, path, data, workspace, {})
    settings.MLFLOW_AUTH_ENABLED = True
    decisions.clear()  # the cold path: a request this process has not granted lately
    on = count(api, method, path, data, workspace, headers)

    assert on == off + 1, path


@pytest.mark.parametrize("index", range(8))
@pytest.mark.parametrize("who", ["carol", "admin", "token"])
def test_a_repeated_request_adds_no_query(
    api: ApiClient, seed: Seed, settings: Any, index: int, who: str
) -> None:
    method, path, data, workspace = requests_of(seed)[index]
    headers = headers_of(seed, who)
    settings.MLFLOW_AUTH_ENABLED = False
    count(api, method, path, data, workspace, {})  # warm: the workspace is resolved
    off = count(api, method, path, data, workspace, {})
    settings.MLFLOW_AUTH_ENABLED = True  # (changing an auth setting forgets every decision)

    count(api, method, path, data, workspace, headers)  # granted: remembered for a while
    on = count(api, method, path, data, workspace, headers)

    assert on == off, path


def test_auth_off_adds_no_query_and_reads_no_credentials(
    api: ApiClient, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_ENABLED = False
    path = "/api/2.0/mlflow/experiments/get"
    query = {"experiment_id": seed.exp("exp-shared")}
    api.call("GET", path, workspace="team-a", query=query)  # warm: the workspace is resolved

    with CaptureQueriesContext(connection) as anonymous:
        api.call("GET", path, workspace="team-a", query=query)
    with CaptureQueriesContext(connection) as with_header:
        api.call("GET", path, workspace="team-a", query=query, headers=basic("nobody"))

    assert len(with_header) == len(anonymous)
