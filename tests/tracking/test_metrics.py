"""Metric history over the wire, and how the latest point per key is chosen.

spec: tracking.md §4-5, examples/metrics/*.json.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_runs_support import (
    HINT,
    METRICS,
    create_run,
    error,
    invalid,
    not_found,
    post,
)
from tracking.models import DOUBLE_MAX, LatestMetric
from tracking.selectors.metrics import sample_indices
from tracking.services.metrics import MetricPoint, run_log_metric
from workspaces.context import in_workspace
from workspaces.models import Workspace

AJAX_METRICS = "/ajax-api/2.0/mlflow/metrics"
BOTH_STEPS = "If either start step or end step are specified, both must be specified."
POINTS = [(0, 0.0), (1, 1.5), (2, 3.0), (3, 4.5), (4, 6.0)]


@pytest.fixture
def run_id(api: ApiClient, team_a: Workspace) -> str:
    """A run with metric ``m`` logged at steps 0-4 (examples/runs/log_metric.json)."""
    experiment = ExperimentFactory(workspace=team_a, name="metrics-exp")
    run = create_run(api, experiment, run_name="r1")
    for step, value in POINTS:
        body = {"run_id": run, "key": "m", "value": value, "timestamp": 1700000000000 + step}
        post(api, "log-metric", {**body, "step": step})
    return run


@pytest.fixture
def other_run(api: ApiClient, team_b: Workspace) -> str:
    experiment = ExperimentFactory(workspace=team_b, name="b-exp")
    run = create_run(api, experiment, workspace="team-b")
    post(api, "log-metric", {"run_id": run, "key": "m", "value": 1, "timestamp": 1}, "team-b")
    return run


def point(step: int, value: float, **extra: Any) -> dict[str, Any]:
    return {"key": "m", "value": value, "timestamp": 1700000000000 + step, "step": step, **extra}


def history(api: ApiClient, workspace: str = "team-a", **query: Any) -> Any:
    return api.call("GET", f"{METRICS}/get-history", workspace=workspace, query=query)


def interval(api: ApiClient, prefix: str = METRICS, **query: Any) -> Any:
    return api.call("GET", f"{prefix}/get-history-bulk-interval", workspace="team-a", query=query)


# --- get-history --------------------------------------------------------------------------


def test_get_history_as_the_client_calls_it(api: ApiClient, run_id: str) -> None:
    response = history(api, run_uuid=run_id, metric_key="m", run_id=run_id, max_results=25000)

    assert response.status_code == 200
    assert response.json() == {"metrics": [point(step, value) for step, value in POINTS]}


def test_get_history_pages_with_offset_tokens(api: ApiClient, run_id: str) -> None:
    first = history(api, run_id=run_id, metric_key="m", max_results=2)
    second = history(
        api, run_id=run_id, metric_key="m", max_results=2, page_token="eyJvZmZzZXQiOiAyfQ=="
    )
    third = history(
        api,
        run_id=run_id,
        metric_key="m",
        max_results=2,
        page_token=second.json()["next_page_token"],
    )

    assert first.json() == {
        "metrics": [point(0, 0.0), point(1, 1.5)],
        "next_page_token": "eyJvZmZzZXQiOiAyfQ==",
    }
    assert second.json() == {
        "metrics": [point(2, 3.0), point(3, 4.5)],
        "next_page_token": "eyJvZmZzZXQiOiA0fQ==",
    }
    assert third.json() == {"metrics": [point(4, 6.0)]}


def test_get_history_last_full_page_has_no_token(api: ApiClient, run_id: str) -> None:
    response = history(api, run_id=run_id, metric_key="m", max_results=5)

    assert response.json() == {"metrics": [point(step, value) for step, value in POINTS]}


def test_get_history_unknown_key_is_empty(api: ApiClient, run_id: str) -> None:
    response = history(api, run_id=run_id, metric_key="nope")

    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize("max_results", [0, -3])
def test_get_history_with_non_positive_max_results_is_refused(
    api: ApiClient, run_id: str, max_results: int
) -> None:
    response = history(api, run_id=run_id, metric_key="m", max_results=max_results)

    assert response.status_code == 400
    assert response.json() == invalid(
        f"Invalid value {max_results} for parameter 'max_results' supplied. "
        "It must be a positive integer."
    )


def test_get_history_orders_by_timestamp_then_step_and_stores_duplicates_once(
    api: ApiClient, run_id: str
) -> None:
    for body in (
        {"key": "dup", "value": 1, "timestamp": 100, "step": 1},
        {"key": "dup", "value": 1, "timestamp": 100, "step": 1},
        {"key": "dup", "value": 0.5, "timestamp": 50, "step": 2},
    ):
        post(api, "log-metric", {"run_id": run_id, **body})

    response = history(api, run_id=run_id, metric_key="dup")

    assert response.json() == {
        "metrics": [
            {"key": "dup", "value": 0.5, "timestamp": 50, "step": 2},
            {"key": "dup", "value": 1.0, "timestamp": 100, "step": 1},
        ]
    }


def test_get_history_returns_special_values_as_strings(api: ApiClient, run_id: str) -> None:
    for timestamp, value in enumerate(["NaN", "Infinity", "-Infinity", 2]):
        post(
            api,
            "log-metric",
            {"run_id": run_id, "key": "s", "value": value, "timestamp": timestamp},
        )

    response = history(api, run_id=run_id, metric_key="s")

    assert [m["value"] for m in response.json()["metrics"]] == ["NaN", "Infinity", "-Infinity", 2.0]


def test_get_history_of_unknown_or_foreign_run_is_not_found(
    api: ApiClient, run_id: str, other_run: str
) -> None:
    unknown = history(api, run_id="nope", metric_key="m")
    foreign = history(api, run_id=other_run, metric_key="m")

    assert (unknown.status_code, unknown.json()) == (404, not_found("nope"))
    assert (foreign.status_code, foreign.json()) == (404, not_found(other_run))


def test_get_history_without_metric_key_is_refused(api: ApiClient, run_id: str) -> None:
    response = history(api, run_id=run_id)

    assert response.status_code == 400
    assert response.json() == invalid(f"Missing value for required parameter 'metric_key'. {HINT}")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc", "Invalid page token, could not base64-decode"),
        (base64.b64encode(b"not json").decode(), "Invalid page token, decoded value=b'not json'"),
        (
            base64.b64encode(b'{"offset": 0}').decode(),
            "Invalid page token, parsed value={'offset': 0}",
        ),
        (base64.b64encode(b'{"offset": "x"}').decode(), "Invalid page token, not stringable x"),
    ],
)
def test_get_history_with_bad_page_token_is_refused(
    api: ApiClient, run_id: str, token: str, message: str
) -> None:
    response = history(api, run_id=run_id, metric_key="m", max_results=2, page_token=token)

    assert (response.status_code, response.json()) == (400, invalid(message))


def test_get_history_query_count_does_not_grow_with_points(
    api: ApiClient, run_id: str, team_a: Workspace, django_assert_num_queries: Any
) -> None:
    post(api, "log-metric", {"run_id": run_id, "key": "one", "value": 1, "timestamp": 1})

    # metric points
    with django_assert_num_queries(1):
        single = history(api, run_id=run_id, metric_key="one")
    with django_assert_num_queries(1):
        several = history(api, run_id=run_id, metric_key="m", max_results=3)

    assert (len(single.json()["metrics"]), len(several.json()["metrics"])) == (1, 3)


# --- get-history-bulk-interval ------------------------------------------------------------


def test_bulk_interval_samples_evenly_keeping_first_and_last(api: ApiClient, run_id: str) -> None:
    response = interval(api, run_ids=run_id, metric_key="m", max_results=3)

    assert response.status_code == 200
    assert response.json() == {
        "metrics": [
            point(0, 0.0, run_id=run_id),
            point(2, 3.0, run_id=run_id),
            point(4, 6.0, run_id=run_id),
        ]
    }


def test_bulk_interval_step_range_over_several_runs_in_request_order(
    api: ApiClient, run_id: str, team_a: Workspace
) -> None:
    empty_run = create_run(api, ExperimentFactory(workspace=team_a))

    response = interval(
        api, AJAX_METRICS, run_ids=[empty_run, run_id], metric_key="m", start_step=1, end_step=3
    )

    assert response.json() == {
        "metrics": [point(step, value, run_id=run_id) for step, value in POINTS[1:4]]
    }


def test_bulk_interval_with_one_result_keeps_the_last_point(api: ApiClient, run_id: str) -> None:
    response = interval(api, run_ids=run_id, metric_key="m", max_results=1)

    assert response.json() == {"metrics": [point(4, 6.0, run_id=run_id)]}


def test_bulk_interval_orders_by_step_before_timestamp(api: ApiClient, team_a: Workspace) -> None:
    run = create_run(api, ExperimentFactory(workspace=team_a))
    for step, timestamp in ((0, 30), (1, 20), (2, 10)):
        post(
            api,
            "log-metric",
            {"run_id": run, "key": "m", "value": step, "timestamp": timestamp, "step": step},
        )

    response = interval(api, run_ids=run, metric_key="m", max_results=2)

    assert [m["step"] for m in response.json()["metrics"]] == [0, 2]


def test_bulk_interval_for_unknown_key_is_empty(api: ApiClient, run_id: str) -> None:
    response = interval(api, run_ids=run_id, metric_key="nope")

    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start_step": 1}, BOTH_STEPS),
        ({"end_step": 1}, BOTH_STEPS),
        (
            {"start_step": 5, "end_step": 1},
            "end_step must be greater than start_step. Found start_step=5 and end_step=1.",
        ),
        ({"max_results": 2501}, f"max_results must be between 1 and 2500. {HINT}"),
        ({"max_results": 0}, f"max_results must be between 1 and 2500. {HINT}"),
        (
            {"run_ids": [f"r{i}" for i in range(101)]},
            "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. "
            f"Received 101 run_ids. {HINT}",
        ),
        ({"run_ids": []}, f"Missing value for required parameter 'run_ids'. {HINT}"),
        ({"metric_key": ""}, f"Missing value for required parameter 'metric_key'. {HINT}"),
    ],
)
def test_bulk_interval_invalid_requests_are_refused(
    api: ApiClient, run_id: str, query: dict[str, Any], message: str
) -> None:
    response = interval(api, **{"run_ids": run_id, "metric_key": "m", **query})

    assert (response.status_code, response.json()) == (400, invalid(message))


def test_bulk_interval_with_unknown_or_foreign_run_is_not_found(
    api: ApiClient, run_id: str, other_run: str
) -> None:
    unknown = interval(api, run_ids=[run_id, "nope"], metric_key="m")
    foreign = interval(api, run_ids=[other_run, run_id], metric_key="m")

    assert (unknown.status_code, unknown.json()) == (404, not_found("nope"))
    assert (foreign.status_code, foreign.json()) == (404, not_found(other_run))


def test_bulk_interval_query_count_does_not_grow_with_points(
    api: ApiClient, run_id: str, team_a: Workspace, django_assert_num_queries: Any
) -> None:
    small = create_run(api, ExperimentFactory(workspace=team_a))
    post(api, "log-metric", {"run_id": small, "key": "m", "value": 1, "timestamp": 1})

    # runs, counts, the points of runs within max_results, one sampled run
    with django_assert_num_queries(3):
        interval(api, run_ids=[small, run_id], metric_key="m")
    with django_assert_num_queries(4):
        interval(api, run_ids=[small, run_id], metric_key="m", max_results=3)


@pytest.mark.parametrize(
    ("total", "max_results", "expected"),
    [
        (5, 3, [0, 2, 4]),
        (5, 1, [4]),
        (3, 5, [0, 1, 2]),
        (10, 4, [0, 3, 6, 9]),
        (10, 2, [0, 9]),
        (7, 6, [0, 2, 3, 4, 5, 6]),
        (0, 3, []),
    ],
)
def test_sample_indices_follow_ntile_buckets_and_keep_the_last_row(
    total: int, max_results: int, expected: list[int]
) -> None:
    assert sample_indices(total, max_results) == expected


# --- get-history-bulk (UI) ----------------------------------------------------------------


def test_bulk_history_for_the_ui(api: ApiClient, run_id: str, other_run: str) -> None:
    response = api.call(
        "GET",
        f"{AJAX_METRICS}/get-history-bulk",
        workspace="team-a",
        query={"run_id": [run_id, other_run, "nope"], "metric_key": "m"},
    )

    assert response.status_code == 200
    assert response.json() == {"metrics": [point(s, v, run_id=run_id) for s, v in POINTS]}


def test_bulk_history_limits_results(api: ApiClient, run_id: str) -> None:
    response = api.call(
        "GET",
        f"{AJAX_METRICS}/get-history-bulk",
        workspace="team-a",
        query={"run_id": run_id, "metric_key": "m", "max_results": 2},
    )

    assert response.json() == {
        "metrics": [point(0, 0.0, run_id=run_id), point(1, 1.5, run_id=run_id)]
    }


def test_bulk_history_is_not_served_under_api(api: ApiClient, run_id: str) -> None:
    response = api.call(
        "GET",
        f"{METRICS}/get-history-bulk",
        workspace="team-a",
        query={"run_id": run_id, "metric_key": "m"},
    )

    assert response.status_code == 404
    assert response.json() == error(
        "ENDPOINT_NOT_FOUND",
        "No API endpoint at /api/2.0/mlflow/metrics/get-history-bulk (method GET).",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"metric_key": "m"}, "GetMetricHistoryBulk request must specify at least one run_id."),
        ({"run_id": "r"}, "GetMetricHistoryBulk request must specify a metric_key."),
        (
            {"run_id": [f"r{i}" for i in range(101)], "metric_key": "m"},
            "GetMetricHistoryBulk request cannot specify more than 100 run_ids. "
            "Received 101 run_ids.",
        ),
    ],
)
def test_bulk_history_invalid_requests_are_refused(
    api: ApiClient, team_a: Workspace, query: dict[str, Any], message: str
) -> None:
    response = api.call("GET", f"{AJAX_METRICS}/get-history-bulk", workspace="team-a", query=query)

    assert (response.status_code, response.json()) == (400, invalid(message))


# --- latest point per key -----------------------------------------------------------------


def latest(run_id: str, workspace: Workspace, *points: MetricPoint) -> tuple[float, int, int, bool]:
    with in_workspace(workspace):
        for metric in points:
            run_log_metric(run_id=run_id, metric=metric)
        row = LatestMetric.objects.get(run_id=run_id, key=points[0].key)
    return (row.value, row.timestamp, row.step, row.is_nan)


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([MetricPoint("k", 1, 5, 2), MetricPoint("k", 9, 99, 1)], (1.0, 5, 2, False)),
        ([MetricPoint("k", 1, 5, 2), MetricPoint("k", 0, 6, 2)], (0.0, 6, 2, False)),
        ([MetricPoint("k", 1, 5, 2), MetricPoint("k", 2, 5, 2)], (2.0, 5, 2, False)),
        ([MetricPoint("k", 2, 5, 2), MetricPoint("k", 1, 5, 2)], (2.0, 5, 2, False)),
        # NaN is stored as 0 and compares as 0, as in MLflow: it loses to 1 ...
        ([MetricPoint("k", 1, 5, 2), MetricPoint("k", float("nan"), 5, 2)], (1.0, 5, 2, False)),
        # ... beats -1 ...
        ([MetricPoint("k", -1, 5, 2), MetricPoint("k", float("nan"), 5, 2)], (0.0, 5, 2, True)),
        # ... and on a tie with 0.0 the first logged stays.
        ([MetricPoint("k", float("nan"), 5, 2), MetricPoint("k", 0.0, 5, 2)], (0.0, 5, 2, True)),
        (
            [MetricPoint("k", 5, 5, 2), MetricPoint("k", float("inf"), 5, 2)],
            (DOUBLE_MAX, 5, 2, False),
        ),
    ],
)
def test_latest_metric_is_the_largest_step_timestamp_value(
    api: ApiClient, run_id: str, team_a: Workspace, points: list[MetricPoint], expected: Any
) -> None:
    assert latest(run_id, team_a, *points) == expected


def test_log_metric_takes_a_few_queries(
    api: ApiClient, run_id: str, team_a: Workspace, django_assert_num_queries: Any
) -> None:
    with in_workspace(team_a):
        # savepoint, run lock, point insert, latest update (no row), latest insert, release
        with django_assert_num_queries(6):
            run_log_metric(run_id=run_id, metric=MetricPoint("new", 1.0, 1, 0))
        # savepoint, run lock, point insert, latest conditional update, release
        with django_assert_num_queries(5):
            run_log_metric(run_id=run_id, metric=MetricPoint("new", 2.0, 2, 1))
        # an older point: the conditional update matches nothing, the insert is a no-op
        with django_assert_num_queries(6):
            run_log_metric(run_id=run_id, metric=MetricPoint("new", 0.5, 1, 0))
    with in_workspace(team_a):
        latest = LatestMetric.objects.get(run_id=run_id, key="new")
    assert (latest.value, latest.step) == (2.0, 1)
