"""Logging to runs over the wire: params, single metrics, tags, inputs, outputs, legacy models.

spec: tracking.md §4, examples/runs/log_param*.json, log_metric*.json, set_delete_tag.json,
set_tag_runname_sync.json, log_inputs.json, log_outputs.json, log_model_legacy.json,
validation_limits_more.json, wire/request_parsing.json.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_runs_support import (
    HINT,
    create_run,
    error,
    invalid,
    not_found,
    post,
    run_json,
    stored_run,
)
from tracking.models import (
    DOUBLE_MAX,
    Dataset,
    LatestMetric,
    Metric,
    Param,
    RunInput,
    RunModelLink,
    RunTag,
)
from workspaces.context import in_workspace
from workspaces.models import Workspace

BAD_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)


@pytest.fixture
def run_id(api: ApiClient, team_a: Workspace) -> str:
    experiment = ExperimentFactory(workspace=team_a, name="logging-exp")
    return create_run(api, experiment, run_name="r1")


@pytest.fixture
def other_run(api: ApiClient, team_b: Workspace) -> str:
    experiment = ExperimentFactory(workspace=team_b, name="b-exp")
    return create_run(api, experiment, workspace="team-b", run_name="b-run")


def data_of(api: ApiClient, run_id: str) -> Any:
    return run_json(api, run_id)["data"]


# --- params -------------------------------------------------------------------------------


def test_log_param_and_relog_same_value(api: ApiClient, run_id: str) -> None:
    first = post(
        api, "log-parameter", {"run_uuid": run_id, "key": "p1", "value": "v1", "run_id": run_id}
    )
    again = post(api, "log-parameter", {"run_id": run_id, "key": "p1", "value": "v1"})

    assert [(first.status_code, first.json()), (again.status_code, again.json())] == [
        (200, {}),
        (200, {}),
    ]
    assert data_of(api, run_id)["params"] == [{"key": "p1", "value": "v1"}]


def test_log_param_with_changed_value_is_refused(api: ApiClient, run_id: str) -> None:
    post(api, "log-parameter", {"run_id": run_id, "key": "p1", "value": "v1"})

    response = post(api, "log-parameter", {"run_id": run_id, "key": "p1", "value": "different"})

    assert response.status_code == 400
    assert response.json() == invalid(
        "Changing param values is not allowed. Param with key='p1' was already logged with "
        f"value='v1' for run ID='{run_id}'. Attempted logging new value 'different'."
    )
    assert data_of(api, run_id)["params"] == [{"key": "p1", "value": "v1"}]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("bad$key", f"Invalid value \"bad$key\" for parameter 'key' supplied: {BAD_CHARACTERS}"),
        (
            "../etc",
            "Invalid value \"../etc\" for parameter 'key' supplied: Names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such. "
            "This name would resolve to '../etc'",
        ),
        ("k" * 251, "'Param key' exceeds the maximum length of 250 characters"),
    ],
)
def test_log_param_with_bad_key_is_refused(
    api: ApiClient, run_id: str, key: str, message: str
) -> None:
    response = post(api, "log-parameter", {"run_id": run_id, "key": key, "value": "x"})

    assert (response.status_code, response.json()) == (400, invalid(message))


def test_log_param_without_key_is_refused(api: ApiClient, run_id: str) -> None:
    response = post(api, "log-parameter", {"run_id": run_id, "value": "x"})

    assert response.status_code == 400
    assert response.json() == invalid(f"Missing value for required parameter 'key'. {HINT}")


def test_log_param_truncates_long_values_and_accepts_missing_ones(
    api: ApiClient, run_id: str
) -> None:
    post(api, "log-parameter", {"run_id": run_id, "key": "longval", "value": "v" * 6001})
    post(api, "log-parameter", {"run_id": run_id, "key": "novalue"})
    post(api, "log-parameter", {"run_id": run_id, "key": "emptyvalue", "value": ""})

    assert data_of(api, run_id)["params"] == [
        {"key": "longval", "value": "v" * 6000},
        {"key": "novalue", "value": ""},
        {"key": "emptyvalue", "value": ""},
    ]


# --- single metrics -----------------------------------------------------------------------


def test_log_metric_steps_and_latest_value(api: ApiClient, run_id: str, team_a: Workspace) -> None:
    for step, value in enumerate([0.0, 1.5, 3.0, 4.5, 6.0]):
        response = post(
            api,
            "log-metric",
            {
                "run_uuid": run_id,
                "key": "m",
                "value": value,
                "timestamp": 1700000000000 + step,
                "step": step,
                "run_id": run_id,
            },
        )
        assert (response.status_code, response.json()) == (200, {})

    assert data_of(api, run_id)["metrics"] == [
        {"key": "m", "value": 6.0, "timestamp": 1700000000004, "step": 4}
    ]
    with in_workspace(team_a):
        assert Metric.objects.filter(run_id=run_id).count() == 5


def test_log_metric_special_values_and_integer_strings(
    api: ApiClient, run_id: str, team_a: Workspace
) -> None:
    for key, value in (("nanm", "NaN"), ("infm", "Infinity"), ("neginfm", "-Infinity")):
        post(api, "log-metric", {"run_id": run_id, "key": key, "value": value, "timestamp": 1})
    strings = post(
        api,
        "log-metric",
        {"run_id": run_id, "key": "strts", "value": 2, "timestamp": "1700000000000", "step": "3"},
    )

    assert (strings.status_code, strings.json()) == (200, {})
    # differs from reference: +Infinity comes back as "Infinity", not 1.7976931348623157e+308.
    assert data_of(api, run_id)["metrics"] == [
        {"key": "nanm", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "infm", "value": "Infinity", "timestamp": 1, "step": 0},
        {"key": "neginfm", "value": "-Infinity", "timestamp": 1, "step": 0},
        {"key": "strts", "value": 2.0, "timestamp": 1700000000000, "step": 3},
    ]
    with in_workspace(team_a):
        stored = {m.key: (m.value, m.is_nan) for m in Metric.objects.filter(run_id=run_id)}
    assert stored == {
        "nanm": (0.0, True),
        "infm": (DOUBLE_MAX, False),
        "neginfm": (-DOUBLE_MAX, False),
        "strts": (2.0, False),
    }


def test_log_metric_boolean_value_is_logged_as_number(api: ApiClient, run_id: str) -> None:
    # spec: examples/runs/validation_limits_more.json
    response = post(
        api, "log-metric", {"run_id": run_id, "key": "b", "value": True, "timestamp": 1}
    )

    assert (response.status_code, response.json()) == (200, {})
    assert data_of(api, run_id)["metrics"] == [
        {"key": "b", "value": 1.0, "timestamp": 1, "step": 0}
    ]


def test_log_metric_identical_points_are_stored_once(
    api: ApiClient, run_id: str, team_a: Workspace
) -> None:
    point = {"run_id": run_id, "key": "dup", "value": 1, "timestamp": 100, "step": 1}

    first = post(api, "log-metric", point)
    second = post(api, "log-metric", point)

    assert [first.json(), second.json()] == [{}, {}]
    with in_workspace(team_a):
        assert Metric.objects.filter(run_id=run_id, key="dup").count() == 1


def test_log_metric_latest_is_the_largest_step_not_the_last_logged(
    api: ApiClient, run_id: str
) -> None:
    # spec: examples/metrics/get_history_edge_cases.json
    post(
        api, "log-metric", {"run_id": run_id, "key": "dup", "value": 1, "timestamp": 100, "step": 1}
    )
    post(
        api,
        "log-metric",
        {"run_id": run_id, "key": "dup", "value": 0.5, "timestamp": 50, "step": 2},
    )
    post(
        api, "log-metric", {"run_id": run_id, "key": "dup", "value": 9, "timestamp": 999, "step": 0}
    )

    assert data_of(api, run_id)["metrics"] == [
        {"key": "dup", "value": 0.5, "timestamp": 50, "step": 2}
    ]


def test_log_metric_with_dataset_and_model_fields_is_accepted(api: ApiClient, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "key": "acc",
        "value": 0.9,
        "timestamp": 100,
        "step": 0,
        "dataset_name": "ds1",
        "dataset_digest": "abc",
    }

    response = post(api, "log-metric", body)

    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key": "m", "value": 1.0}, f"Missing value for required parameter 'timestamp'. {HINT}"),
        (
            {"key": "m", "value": "abc", "timestamp": 1},
            "Invalid value \"abc\" for parameter 'value' supplied:  Hint: Value was of type "
            f"'str'. {HINT}",
        ),
        (
            {"key": "bad*key", "value": 1.0, "timestamp": 1},
            f"Invalid value \"bad*key\" for parameter 'name' supplied: {BAD_CHARACTERS}",
        ),
        (
            {"key": "k" * 251, "value": 1, "timestamp": 1},
            "'Metric name' exceeds the maximum length of 250 characters",
        ),
        (
            {"key": "neg", "value": 1, "timestamp": -1},
            "Invalid value -1 for parameter 'timestamp' supplied: metric 'neg' (value=1.0). "
            "Timestamp must be a nonnegative long (64-bit integer) ",
        ),
        ({"value": 1, "timestamp": 1}, f"Missing value for required parameter 'key'. {HINT}"),
        (
            {"key": "big", "value": 1, "timestamp": 2**63},
            f"Invalid value {2**63} for parameter 'timestamp' supplied:  Hint: Value was of "
            f"type 'int'. {HINT}",
        ),
    ],
)
def test_log_metric_invalid_requests_are_refused(
    api: ApiClient, run_id: str, team_a: Workspace, body: dict[str, Any], message: str
) -> None:
    response = post(api, "log-metric", {"run_id": run_id, **body})

    assert (response.status_code, response.json()) == (400, invalid(message))
    with in_workspace(team_a):
        assert not Metric.objects.exists()


def test_log_metric_to_unknown_run_is_not_found(api: ApiClient, team_a: Workspace) -> None:
    response = post(api, "log-metric", {"run_id": "nope", "key": "a", "value": 1, "timestamp": 1})

    assert (response.status_code, response.json()) == (404, not_found("nope"))


# --- tags ---------------------------------------------------------------------------------


def test_set_and_delete_tag(api: ApiClient, run_id: str) -> None:
    set_response = post(
        api, "set-tag", {"run_uuid": run_id, "key": "t1", "value": "x", "run_id": run_id}
    )
    overwritten = post(api, "set-tag", {"run_id": run_id, "key": "t1", "value": "y"})
    tags_after_set = data_of(api, run_id)["tags"]
    delete_response = post(api, "delete-tag", {"run_id": run_id, "key": "t1"})

    assert [set_response.json(), overwritten.json(), delete_response.json()] == [{}, {}, {}]
    assert tags_after_set == [
        {"key": "mlflow.runName", "value": "r1"},
        {"key": "t1", "value": "y"},
    ]
    assert data_of(api, run_id)["tags"] == [{"key": "mlflow.runName", "value": "r1"}]


def test_set_tag_truncates_long_values(api: ApiClient, run_id: str) -> None:
    response = post(api, "set-tag", {"run_id": run_id, "key": "longtag", "value": "t" * 8001})

    assert (response.status_code, response.json()) == (200, {})
    assert data_of(api, run_id)["tags"][-1] == {"key": "longtag", "value": "t" * 8000}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("k" * 251, "'key' exceeds the maximum length of 250 characters"),
        (
            "a//b",
            "Invalid value \"a//b\" for parameter 'key' supplied: Names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such. "
            "This name would resolve to 'a/b'",
        ),
        ("bad$", f"Invalid value \"bad$\" for parameter 'key' supplied: {BAD_CHARACTERS}"),
    ],
)
def test_set_tag_with_bad_key_is_refused(
    api: ApiClient, run_id: str, key: str, message: str
) -> None:
    response = post(api, "set-tag", {"run_id": run_id, "key": key, "value": "v"})

    assert (response.status_code, response.json()) == (400, invalid(message))


def test_set_tag_run_name_renames_the_run(api: ApiClient, run_id: str) -> None:
    response = post(api, "set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "via-tag"})

    run = run_json(api, run_id)
    assert (response.status_code, response.json()) == (200, {})
    assert run["info"]["run_name"] == "via-tag"
    assert run["data"]["tags"] == [{"key": "mlflow.runName", "value": "via-tag"}]


def test_set_tag_empty_run_name_changes_nothing(api: ApiClient, run_id: str) -> None:
    response = post(api, "set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": ""})

    run = run_json(api, run_id)
    assert (response.status_code, run["info"]["run_name"]) == (200, "r1")
    assert run["data"]["tags"] == [{"key": "mlflow.runName", "value": "r1"}]


def test_set_tag_run_name_longer_than_a_run_name_is_refused(api: ApiClient, run_id: str) -> None:
    # differs from reference: its SQLite store keeps the long name, other databases fail.
    response = post(api, "set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "n" * 251})

    assert response.status_code == 400
    assert response.json() == invalid("'run_name' exceeds the maximum length of 250 characters")
    assert run_json(api, run_id)["info"]["run_name"] == "r1"


def test_set_tag_to_unknown_run_is_not_found(api: ApiClient, team_a: Workspace) -> None:
    response = post(api, "set-tag", {"run_id": "deadbeef", "key": "a", "value": "b"})

    assert (response.status_code, response.json()) == (404, not_found("deadbeef"))


def test_delete_missing_tag_is_not_found(api: ApiClient, run_id: str) -> None:
    response = post(api, "delete-tag", {"run_id": run_id, "key": "nonexistent"})

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No tag with name: nonexistent in run with id {run_id}"
    )


def test_set_tag_ignores_unknown_fields(api: ApiClient, run_id: str) -> None:
    response = post(api, "set-tag", {"run_id": run_id, "key": "uf", "value": "1", "bogus_field": 5})

    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"runId": "x", "key": "cc", "value": "1"},
            f"Missing value for required parameter 'run_id'. {HINT}",
        ),
        (
            {"runId": "x", "run_id": "x", "key": "cc", "value": "1"},
            "Request specifies both 'run_id' and 'runId'; provide only one of them.",
        ),
        ("{not json", f"Missing value for required parameter 'run_id'. {HINT}"),
    ],
)
def test_set_tag_request_parsing_errors(
    api: ApiClient, team_a: Workspace, body: Any, message: str
) -> None:
    # spec: examples/wire/request_parsing.json
    if isinstance(body, str):
        response = api.post(
            "/api/2.0/mlflow/runs/set-tag",
            body,
            content_type="application/json",
            headers={"X-MLFLOW-WORKSPACE": "team-a"},
        )
    else:
        response = post(api, "set-tag", body)

    assert (response.status_code, response.json()) == (400, invalid(message))


# --- inputs -------------------------------------------------------------------------------

DATASET_INPUT = {
    "tags": [{"key": "mlflow.data.context", "value": "training"}],
    "dataset": {
        "name": "ds1",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "/data/x.csv"}',
        "schema": '{"mlflow_colspec": []}',
        "profile": '{"num_rows": 3}',
    },
}


def test_log_inputs_shows_dataset_inputs_on_the_run(api: ApiClient, run_id: str) -> None:
    response = post(api, "log-inputs", {"run_id": run_id, "datasets": [DATASET_INPUT]})

    assert (response.status_code, response.json()) == (200, {})
    run = run_json(api, run_id)
    assert run["inputs"] == {"dataset_inputs": [DATASET_INPUT]}
    assert run["outputs"] == {}


def test_log_inputs_fills_unset_dataset_fields(api: ApiClient, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "datasets": [{"dataset": {"name": "d", "digest": "abc", "source": "s"}}],
    }

    response = post(api, "log-inputs", body)

    assert (response.status_code, response.json()) == (200, {})
    assert run_json(api, run_id)["inputs"] == {
        "dataset_inputs": [
            {"dataset": {"name": "d", "digest": "abc", "source_type": "", "source": "s"}}
        ]
    }


def test_log_inputs_stores_a_dataset_once_per_experiment(api: ApiClient, team_a: Workspace) -> None:
    first = ExperimentFactory(workspace=team_a)
    second = ExperimentFactory(workspace=team_a)
    runs = [create_run(api, first), create_run(api, first), create_run(api, second)]

    for run in runs:
        post(api, "log-inputs", {"run_id": run, "datasets": [DATASET_INPUT, DATASET_INPUT]})
        post(api, "log-inputs", {"run_id": run, "datasets": [DATASET_INPUT]})

    with in_workspace(team_a):
        assert Dataset.objects.filter(experiment=first).count() == 1
        assert Dataset.objects.filter(experiment=second).count() == 1
        assert RunInput.objects.count() == 3
    assert run_json(api, runs[1])["inputs"] == {"dataset_inputs": [DATASET_INPUT]}


def test_log_inputs_keeps_the_first_input_tags(api: ApiClient, run_id: str) -> None:
    retagged = {**DATASET_INPUT, "tags": [{"key": "mlflow.data.context", "value": "eval"}]}

    post(api, "log-inputs", {"run_id": run_id, "datasets": [DATASET_INPUT]})
    post(api, "log-inputs", {"run_id": run_id, "datasets": [retagged]})

    assert run_json(api, run_id)["inputs"] == {"dataset_inputs": [DATASET_INPUT]}


def test_log_inputs_records_model_inputs(api: ApiClient, run_id: str) -> None:
    body = {"run_id": run_id, "models": [{"model_id": "m-1"}, {"model_id": "m-1"}]}

    response = post(api, "log-inputs", body)

    assert (response.status_code, response.json()) == (200, {})
    assert run_json(api, run_id)["inputs"] == {"model_inputs": [{"model_id": "m-1"}]}


@pytest.mark.parametrize(
    ("dataset_input", "message"),
    [
        (
            {"dataset": {"name": "d", "digest": "x" * 37, "source_type": "local", "source": "s"}},
            "'digest' exceeds the maximum length of 36 characters",
        ),
        (
            {"dataset": {"name": "n" * 501, "digest": "x", "source": "s"}},
            "'name' exceeds the maximum length of 500 characters",
        ),
        (
            {
                "tags": [{"key": "k" * 256, "value": "v"}],
                "dataset": {"name": "d", "digest": "x", "source": "s"},
            },
            "'key' exceeds the maximum length of 255 characters",
        ),
        (
            {
                "tags": [{"key": "k", "value": "v" * 501}],
                "dataset": {"name": "d", "digest": "x", "source": "s"},
            },
            "'value' exceeds the maximum length of 500 characters",
        ),
    ],
)
def test_log_inputs_with_too_long_fields_is_refused(
    api: ApiClient, run_id: str, team_a: Workspace, dataset_input: Any, message: str
) -> None:
    response = post(api, "log-inputs", {"run_id": run_id, "datasets": [dataset_input]})

    assert (response.status_code, response.json()) == (400, invalid(message))
    with in_workspace(team_a):
        assert not Dataset.objects.exists()


# --- outputs and legacy models ------------------------------------------------------------


def test_log_outputs_shows_model_outputs_on_the_run(api: ApiClient, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "models": [{"model_id": "m-44ff4f96d60c430e9eb03c827a914909", "step": 0}],
    }

    response = post(api, "outputs", body)

    assert (response.status_code, response.json()) == (200, {})
    assert run_json(api, run_id)["outputs"] == {
        "model_outputs": [{"model_id": "m-44ff4f96d60c430e9eb03c827a914909", "step": 0}]
    }


def test_log_outputs_without_models_is_refused(api: ApiClient, run_id: str) -> None:
    response = post(api, "outputs", {"run_id": run_id})

    assert response.status_code == 400
    assert response.json() == invalid(f"Missing value for required parameter 'models'. {HINT}")


def test_log_model_appends_to_the_history_tag(api: ApiClient, run_id: str) -> None:
    model = {
        "artifact_path": "legacy",
        "flavors": {"python_function": {"config": {"x": 1}, "loader": "m"}},
        "utc_time_created": "2024-01-01 00:00:00.000000",
        "run_id": run_id,
    }

    first = post(api, "log-model", {"run_id": run_id, "model_json": json.dumps(model)})
    second = post(api, "log-model", {"run_id": run_id, "model_json": json.dumps(model)})

    assert [first.json(), second.json()] == [{}, {}]
    entry = (
        f'{{"run_id": "{run_id}", "artifact_path": "legacy", '
        '"utc_time_created": "2024-01-01 00:00:00.000000", "model_uuid": null, '
        '"flavors": {"python_function": {"loader": "m"}}}'
    )
    assert data_of(api, run_id)["tags"][-1] == {
        "key": "mlflow.log-model.history",
        "value": f"[{entry}, {entry}]",
    }


@pytest.mark.parametrize(
    ("model_json", "message"),
    [
        ("{nope", "Malformed model info. \n {nope \n is not a valid JSON."),
        (
            json.dumps({"artifact_path": "a", "run_id": "r"}),
            "Model json is missing mandatory fields: {'flavors', 'utc_time_created'}",
        ),
    ],
)
def test_log_model_with_bad_model_json_is_refused(
    api: ApiClient, run_id: str, model_json: str, message: str
) -> None:
    response = post(api, "log-model", {"run_id": run_id, "model_json": model_json})

    assert (response.status_code, response.json()) == (400, invalid(message))


# --- isolation ----------------------------------------------------------------------------

WRITES = [
    ("log-parameter", {"key": "p", "value": "v"}),
    ("log-metric", {"key": "m", "value": 1, "timestamp": 1}),
    ("set-tag", {"key": "t", "value": "v"}),
    ("delete-tag", {"key": "mlflow.runName"}),
    (
        "log-batch",
        {
            "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
            "params": [{"key": "p", "value": "v"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    ),
    ("log-inputs", {"datasets": [DATASET_INPUT], "models": [{"model_id": "m-1"}]}),
    ("outputs", {"models": [{"model_id": "m-1", "step": 1}]}),
    (
        "log-model",
        {
            "model_json": json.dumps(
                {"artifact_path": "a", "flavors": {}, "utc_time_created": "t", "run_id": "r"}
            )
        },
    ),
]


@pytest.mark.parametrize(("operation", "body"), WRITES, ids=[op for op, _ in WRITES])
def test_writes_to_run_of_another_workspace_are_not_found_and_write_nothing(
    api: ApiClient,
    team_a: Workspace,
    team_b: Workspace,
    other_run: str,
    operation: str,
    body: dict[str, Any],
) -> None:
    response = post(api, operation, {"run_id": other_run, **body})

    assert (response.status_code, response.json()) == (404, not_found(other_run))
    with in_workspace(team_b):
        assert not Param.objects.exists()
        assert not Metric.objects.exists()
        assert not LatestMetric.objects.exists()
        assert not Dataset.objects.exists()
        assert not RunInput.objects.exists()
        assert not RunModelLink.objects.exists()
        assert list(RunTag.objects.values_list("key", "value")) == [("mlflow.runName", "b-run")]
    assert stored_run(other_run, team_b).run_name == "b-run"
