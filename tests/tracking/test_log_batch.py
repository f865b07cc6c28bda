"""log-batch over the wire and its query budget. spec: tracking.md §4, §4.1,
examples/runs/log_batch.json, log_batch_errors.json, validation_limits_more.json."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_runs_support import (
    HINT,
    create_run,
    invalid,
    post,
    run_json,
)
from tracking.models import LatestMetric, Metric, Param, RunTag
from tracking.services.metrics import MetricPoint
from tracking.services.runs import run_log_batch
from workspaces.context import in_workspace
from workspaces.models import Workspace

BAD_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)


@pytest.fixture
def run_id(api: ApiClient, team_a: Workspace) -> str:
    experiment = ExperimentFactory(workspace=team_a, name="batch-exp")
    return create_run(api, experiment, run_name="r1")


def batch(api: ApiClient, body: dict[str, Any]) -> Any:
    return post(api, "log-batch", body)


def test_log_batch_as_the_client_sends_it(api: ApiClient, run_id: str) -> None:
    metrics = batch(
        api,
        {
            "run_id": run_id,
            "metrics": [
                {
                    "key": "loss",
                    "value": 0.4,
                    "timestamp": 1795743495980,
                    "step": 2,
                    "run_id": run_id,
                },
                {
                    "key": "acc",
                    "value": 0.9,
                    "timestamp": 1795743495980,
                    "step": 2,
                    "run_id": run_id,
                },
            ],
        },
    )
    params = batch(
        api,
        {
            "run_id": run_id,
            "params": [{"key": "batch", "value": "32"}, {"key": "opt", "value": "adam"}],
        },
    )
    mixed = batch(
        api,
        {
            "run_id": run_id,
            "metrics": [
                {"key": "b", "value": 1.0, "timestamp": 1700000000000, "step": 0},
                {"key": "b", "value": 2.0, "timestamp": 1700000000001, "step": 1},
            ],
            "params": [{"key": "p2", "value": "v2"}],
            "tags": [{"key": "t2", "value": "y"}],
        },
    )
    empty = batch(api, {"run_id": run_id})

    assert [r.status_code for r in (metrics, params, mixed, empty)] == [200] * 4
    assert [r.json() for r in (metrics, params, mixed, empty)] == [{}] * 4
    assert run_json(api, run_id)["data"] == {
        "metrics": [
            {"key": "loss", "value": 0.4, "timestamp": 1795743495980, "step": 2},
            {"key": "acc", "value": 0.9, "timestamp": 1795743495980, "step": 2},
            {"key": "b", "value": 2.0, "timestamp": 1700000000001, "step": 1},
        ],
        "params": [
            {"key": "batch", "value": "32"},
            {"key": "opt", "value": "adam"},
            {"key": "p2", "value": "v2"},
        ],
        "tags": [{"key": "mlflow.runName", "value": "r1"}, {"key": "t2", "value": "y"}],
    }


def test_log_batch_run_name_tag_renames_and_repeated_tags_keep_the_last_value(
    api: ApiClient, run_id: str
) -> None:
    response = batch(
        api,
        {
            "run_id": run_id,
            "tags": [
                {"key": "mlflow.runName", "value": "renamed"},
                {"key": "t", "value": "first"},
                {"key": "t", "value": "last"},
            ],
        },
    )

    run = run_json(api, run_id)
    assert (response.status_code, run["info"]["run_name"]) == (200, "renamed")
    assert run["data"]["tags"] == [
        {"key": "mlflow.runName", "value": "renamed"},
        {"key": "t", "value": "last"},
    ]


def test_log_batch_relogging_same_params_is_accepted(api: ApiClient, run_id: str) -> None:
    body = {"run_id": run_id, "params": [{"key": "p1", "value": "v1"}]}

    responses = [batch(api, body), batch(api, body)]

    assert [r.status_code for r in responses] == [200, 200]


def test_log_batch_changed_param_is_refused_and_writes_nothing(
    api: ApiClient, run_id: str, team_a: Workspace
) -> None:
    batch(api, {"run_id": run_id, "params": [{"key": "p1", "value": "v1"}]})

    response = batch(
        api,
        {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
            "params": [{"key": "p1", "value": "changed"}, {"key": "p9", "value": "new"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    )

    assert response.status_code == 400
    assert response.json() == invalid(
        "Changing param values is not allowed. Params were already logged="
        "'[{'key': 'p1', 'old_value': 'v1', 'new_value': 'changed'}]' "
        f"for run ID='{run_id}'."
    )
    with in_workspace(team_a):
        assert list(Param.objects.values_list("key", "value")) == [("p1", "v1")]
        assert not Metric.objects.exists()
        assert not RunTag.objects.filter(key="t").exists()


def many(kind: str, count: int) -> list[dict[str, Any]]:
    if kind == "metrics":
        return [{"key": "m", "value": 1, "timestamp": index} for index in range(count)]
    return [{"key": f"k{index}", "value": "v"} for index in range(count)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"params": many("params", 101)},
            "A batch logging request can contain at most 100 params. Got 101 params. "
            "Please split up params across multiple requests and try again.",
        ),
        (
            {"tags": many("tags", 101)},
            "A batch logging request can contain at most 100 tags. Got 101 tags. "
            "Please split up tags across multiple requests and try again.",
        ),
        (
            {"metrics": many("metrics", 1001)},
            "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. "
            "Please split up metrics across multiple requests and try again.",
        ),
        (
            {"metrics": many("metrics", 1000), "params": many("params", 50)},
            "A batch logging request can contain at most 1000 metrics, params, and tags. "
            "Got 1050 metrics, params, and tags. Please split up metrics, params, and tags "
            "across multiple requests and try again.",
        ),
        (
            {"params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]},
            "Duplicate parameter keys have been submitted: ['dup']. Please ensure the request "
            "contains only one param value per param key.",
        ),
        (
            {"metrics": [{"key": "m", "value": 1}]},
            f"Missing value for required parameter 'metrics[0].timestamp'. {HINT}",
        ),
        (
            {"metrics": [{"key": "m", "timestamp": 1}]},
            f"Missing value for required parameter 'metrics[0].value'. {HINT}",
        ),
        (
            {"params": [{"value": "v"}]},
            f"Missing value for required parameter 'params[0].key'. {HINT}",
        ),
        (
            {"tags": [{"key": "ok", "value": "v"}, {"key": "", "value": "v"}]},
            f"Missing value for required parameter 'tags[1].key'. {HINT}",
        ),
        (
            {"metrics": [{"key": "m", "value": "abc", "timestamp": 1}]},
            "Invalid value \"abc\" for parameter 'metrics[0].value' supplied:  Hint: Value was "
            f"of type 'str'. {HINT}",
        ),
        (
            {
                "metrics": [
                    {"key": "ok", "value": 1, "timestamp": 1},
                    {"key": "b$", "value": 1, "timestamp": 1},
                ]
            },
            f"Invalid value \"b$\" for parameter 'metrics[1].name' supplied: {BAD_CHARACTERS}",
        ),
        (
            {"metrics": [{"key": "neg", "value": 2.5, "timestamp": -5}]},
            "Invalid value -5 for parameter 'metrics[0].timestamp' supplied: metric 'neg' "
            "(value=2.5). Timestamp must be a nonnegative long (64-bit integer) ",
        ),
        (
            # the key was checked at metrics[0]; the negative timestamp is still seen later
            {
                "metrics": [
                    {"key": "m", "value": 1, "timestamp": 1, "step": 0},
                    {"key": "m", "value": 2.5, "timestamp": -5, "step": 1},
                ]
            },
            "Invalid value -5 for parameter 'metrics[1].timestamp' supplied: metric 'm' "
            "(value=2.5). Timestamp must be a nonnegative long (64-bit integer) ",
        ),
        (
            # two bad fields, the later one first in the item: the value is reported, as the
            # reference checks the fields in the message's order
            {
                "metrics": [
                    {"key": "m", "value": 1, "timestamp": 1},
                    {"timestamp": "soon", "value": "abc", "key": "m"},
                ]
            },
            "Invalid value \"abc\" for parameter 'metrics[1].value' supplied:  Hint: Value was "
            f"of type 'str'. {HINT}",
        ),
        (
            {"metrics": [{"key": "m", "value": 1, "timestamp": 1}, ["m", 1, 1]]},
            "Invalid value [\"m\", 1, 1] for parameter 'metrics[1]' supplied:  Hint: Value "
            f"was of type 'list'. {HINT}",
        ),
        (
            {"params": [{"key": "../p", "value": "v"}]},
            "Invalid value \"../p\" for parameter 'params[0].key' supplied: Names may be "
            "treated as files in certain cases, and must not resolve to other names when "
            "treated as such. This name would resolve to '../p'",
        ),
        (
            {"params": [{"key": "p" * 251, "value": "v"}]},
            "'Param key' exceeds the maximum length of 250 characters",
        ),
        (
            {"tags": [{"key": "t" * 251, "value": "v"}]},
            "'tags[0].key' exceeds the maximum length of 250 characters",
        ),
        (
            {"metrics": "m"},
            f"Invalid value \"m\" for parameter 'metrics' supplied:  Hint: Value "
            f"was of type 'str'. {HINT}",
        ),
    ],
)
def test_log_batch_invalid_requests_are_refused_and_write_nothing(
    api: ApiClient, run_id: str, team_a: Workspace, body: dict[str, Any], message: str
) -> None:
    response = batch(api, {"run_id": run_id, **body})

    assert (response.status_code, response.json()) == (400, invalid(message))
    with in_workspace(team_a):
        assert not Metric.objects.exists()
        assert not Param.objects.exists()
        assert RunTag.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"metrics": []}, f"Missing value for required parameter 'run_id'. {HINT}"),
        ({"run_id": "bad id"}, "Invalid value \"bad id\" for parameter 'run_id' supplied."),
    ],
)
def test_log_batch_without_valid_run_id_is_refused(
    api: ApiClient, team_a: Workspace, body: dict[str, Any], message: str
) -> None:
    response = batch(api, body)

    assert (response.status_code, response.json()) == (400, invalid(message))


def test_log_batch_truncates_long_param_and_tag_values(api: ApiClient, run_id: str) -> None:
    response = batch(
        api,
        {
            "run_id": run_id,
            "params": [{"key": "p", "value": "v" * 6001}],
            "tags": [{"key": "t", "value": "t" * 8001}],
        },
    )

    data = run_json(api, run_id)["data"]
    assert response.status_code == 200
    assert data["params"] == [{"key": "p", "value": "v" * 6000}]
    assert data["tags"][-1] == {"key": "t", "value": "t" * 8000}


def test_log_batch_to_deleted_run_is_refused(api: ApiClient, run_id: str) -> None:
    post(api, "delete", {"run_id": run_id})

    response = batch(api, {"run_id": run_id, "params": [{"key": "p", "value": "v"}]})

    assert response.status_code == 400
    assert response.json() == invalid(
        f"The run {run_id} must be in the 'active' state. Current state is deleted."
    )


def test_log_batch_latest_metric_across_batches_and_within_one(
    api: ApiClient, run_id: str, team_a: Workspace
) -> None:
    batch(
        api,
        {
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": 5, "timestamp": 10, "step": 3},
                {"key": "m", "value": 9, "timestamp": 1, "step": 1},
                {"key": "m", "value": 5, "timestamp": 10, "step": 3},
            ],
        },
    )
    batch(
        api,
        {
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": 1, "timestamp": 11, "step": 3},
                {"key": "m", "value": 100, "timestamp": 5, "step": 2},
            ],
        },
    )

    assert run_json(api, run_id)["data"]["metrics"] == [
        {"key": "m", "value": 1.0, "timestamp": 11, "step": 3}
    ]
    with in_workspace(team_a):
        assert Metric.objects.count() == 4
        assert LatestMetric.objects.count() == 1


# --- query budget -------------------------------------------------------------------------


def log_sized_batch(run_id: str, workspace: Workspace, size: int, offset: int = 0) -> None:
    with in_workspace(workspace):
        run_log_batch(
            run_id=run_id,
            metrics=[
                MetricPoint(f"m{index % 10}", float(index), offset + index, index)
                for index in range(size)
            ],
            params={f"p{offset + index}": "v" for index in range(min(size, 10))},
            tags={f"t{index}": str(offset) for index in range(min(size, 10))},
        )


def test_log_batch_query_count_does_not_grow_with_the_batch(
    api: ApiClient,
    run_id: str,
    team_a: Workspace,
    django_assert_num_queries: Any,
) -> None:
    log_sized_batch(run_id, team_a, 3)  # latest metrics and tags that the batches update

    # savepoint, run lock, params (read, insert), metrics (insert), latest metrics (read,
    # update; one conditional update for a single key), tags (read, update), release
    with django_assert_num_queries(9):
        log_sized_batch(run_id, team_a, 1, offset=100)
    with django_assert_num_queries(10):
        log_sized_batch(run_id, team_a, 3, offset=200)


def test_log_batch_of_a_thousand_metrics_takes_a_handful_of_queries(
    api: ApiClient, run_id: str, team_a: Workspace, django_assert_max_num_queries: Any
) -> None:
    log_sized_batch(run_id, team_a, 10)
    # SQLite binds at most 999 values per statement, so its 1000-row insert is 8 statements;
    # PostgreSQL's COPY of the history runs in a savepoint (tracking/metric_rows.py).
    budget = {"sqlite": 17, "postgresql": 12}.get(connection.vendor, 10)

    with django_assert_max_num_queries(budget):
        log_sized_batch(run_id, team_a, 1000, offset=1000)

    with in_workspace(team_a):
        assert Metric.objects.count() == 1010
        assert Param.objects.count() == 20
        latest = {m.key: m.step for m in LatestMetric.objects.all()}
    assert latest == {f"m{index}": 990 + index for index in range(10)}
