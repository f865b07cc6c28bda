"""Logged models over the wire: create, get, finalize, delete, params, tags, metrics, isolation.

spec: tracking.md §1 (LoggedModel) and §6, examples/logged-models/create_raw.json, errors.json,
finalize.json, log_params_tags.json, delete.json, sklearn_log_model.json,
examples/runs/log_outputs.json.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.tracking.test_logged_models_support import (
    API,
    LOGGED_MODELS,
    MODEL_ID,
    create_experiment,
    create_model,
    create_run,
    error,
    get_model,
    invalid,
    model_not_found,
    ok,
    search,
)
from tracking.models import LoggedModel, LoggedModelMetric, Metric
from workspaces.context import in_workspace
from workspaces.models import Workspace

GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")
BAD_NAME = (
    "Invalid model name ({!r}) provided. Model name must be a non-empty string and cannot "
    "contain the following characters: ('/', ':', '.', '%', '\"', \"'\")"
)


@pytest.fixture
def experiment_a(api: ApiClient, team_a: Workspace) -> str:
    return create_experiment(api, "models-exp")


@pytest.fixture
def model_a(api: ApiClient, experiment_a: str) -> dict[str, Any]:
    return create_model(
        api,
        experiment_a,
        name="raw-model",
        model_type="agent",
        params=[{"key": "alpha", "value": "0.5"}],
        tags=[{"key": "env", "value": "dev"}],
    )


@pytest.fixture
def model_b(api: ApiClient, team_b: Workspace) -> dict[str, Any]:
    experiment_id = create_experiment(api, "models-exp", workspace="team-b")
    return create_model(api, experiment_id, workspace="team-b", name="b-model")


def info_of(api: ApiClient, model_id: str) -> Any:
    return ok(get_model(api, model_id))["model"]["info"]


def data_of(api: ApiClient, model_id: str) -> Any:
    return ok(get_model(api, model_id))["model"]["data"]


# --- create -------------------------------------------------------------------------------


def test_create_logged_model_with_params_and_tags(api: ApiClient, experiment_a: str) -> None:
    # spec: examples/logged-models/create_raw.json
    response = api.call(
        "POST",
        LOGGED_MODELS,
        {
            "experiment_id": experiment_a,
            "name": "raw-model",
            "model_type": "agent",
            "params": [{"key": "alpha", "value": "0.5"}],
            "tags": [{"key": "env", "value": "dev"}, {"key": "a-first", "value": "1"}],
        },
        workspace="team-a",
    )

    model = ok(response)["model"]
    model_id = model["info"]["model_id"]
    created = model["info"]["creation_timestamp_ms"]
    assert MODEL_ID.match(model_id)
    assert model == {
        "info": {
            "model_id": model_id,
            "experiment_id": experiment_a,
            "name": "raw-model",
            "creation_timestamp_ms": created,
            "last_updated_timestamp_ms": created,
            "artifact_uri": (
                f"mlflow-artifacts:/workspaces/team-a/{experiment_a}/models/{model_id}/artifacts"
            ),
            "status": "LOGGED_MODEL_PENDING",
            "model_type": "agent",
            "source_run_id": "",
            "tags": [{"key": "a-first", "value": "1"}, {"key": "env", "value": "dev"}],
        },
        "data": {"params": [{"key": "alpha", "value": "0.5"}]},
    }


@pytest.mark.parametrize("body", [{}, {"name": ""}])
def test_create_logged_model_without_name_generates_one(
    api: ApiClient, experiment_a: str, body: dict[str, str]
) -> None:
    model = create_model(api, experiment_a, **body)

    assert GENERATED_NAME.match(model["info"]["name"])
    assert (model["info"]["model_type"], model["info"]["source_run_id"]) == ("", "")
    assert "tags" not in model["info"]
    assert model["data"] == {}


def test_create_logged_model_with_source_run(api: ApiClient, experiment_a: str) -> None:
    # spec: examples/logged-models/sklearn_log_model.json
    run_id = create_run(api, experiment_a)

    model = create_model(
        api,
        experiment_a,
        name="model",
        source_run_id=run_id,
        tags=[
            {"key": "mlflow.user", "value": "demo-user"},
            {"key": "mlflow.source.name", "value": "flow_model.py"},
            {"key": "mlflow.source.type", "value": "LOCAL"},
        ],
    )

    assert model["info"]["source_run_id"] == run_id
    assert model["info"]["tags"] == [
        {"key": "mlflow.source.name", "value": "flow_model.py"},
        {"key": "mlflow.source.type", "value": "LOCAL"},
        {"key": "mlflow.user", "value": "demo-user"},
    ]


@pytest.mark.parametrize("name", ["bad/name", "a:b", "a.b", "50%", 'say"hi', "it's"])
def test_create_logged_model_with_bad_name_is_refused(
    api: ApiClient, experiment_a: str, name: str
) -> None:
    # spec: examples/logged-models/errors.json
    response = api.call(
        "POST", LOGGED_MODELS, {"experiment_id": experiment_a, "name": name}, workspace="team-a"
    )

    assert response.status_code == 400
    assert response.json() == invalid(BAD_NAME.format(name))


def test_create_logged_model_in_unknown_experiment_is_404(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/logged-models/errors.json
    response = api.call("POST", LOGGED_MODELS, {"experiment_id": "999"}, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999 exists")


def test_create_logged_model_without_experiment_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    response = api.call("POST", LOGGED_MODELS, {"name": "m"}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid(
        "Missing value for required parameter 'experiment_id'. "
        "See the API docs for more information about request parameters."
    )


def test_create_logged_model_in_deleted_experiment_is_refused(
    api: ApiClient, experiment_a: str
) -> None:
    ok(
        api.call(
            "POST", f"{API}/experiments/delete", {"experiment_id": experiment_a}, workspace="team-a"
        )
    )

    response = api.call("POST", LOGGED_MODELS, {"experiment_id": experiment_a}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid(
        f"The experiment {experiment_a} must be in the 'active' state. Current state is deleted."
    )


def test_create_logged_model_with_another_workspace_run_is_404(
    api: ApiClient, experiment_a: str, team_b: Workspace
) -> None:
    other_run = create_run(api, create_experiment(api, "b-exp", workspace="team-b"), "team-b")

    response = api.call(
        "POST",
        LOGGED_MODELS,
        {"experiment_id": experiment_a, "source_run_id": other_run},
        workspace="team-a",
    )

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", f"Run with id={other_run} not found")
    with in_workspace(Workspace.objects.get(name="team-a")):
        assert not LoggedModel.objects.exists()


def test_create_logged_model_with_a_long_tag_key_is_refused(
    api: ApiClient, experiment_a: str
) -> None:
    response = api.call(
        "POST",
        LOGGED_MODELS,
        {"experiment_id": experiment_a, "tags": [{"key": "k" * 256, "value": "v"}]},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid("'key' exceeds the maximum length of 255 characters")


def test_create_logged_model_in_another_workspace_experiment_is_404(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    other = create_experiment(api, "b-exp", workspace="team-b")

    response = api.call("POST", LOGGED_MODELS, {"experiment_id": other}, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={other} exists"
    )


# --- get ----------------------------------------------------------------------------------


def test_get_logged_model_returns_what_create_returned(
    api: ApiClient, model_a: dict[str, Any]
) -> None:
    response = get_model(api, model_a["info"]["model_id"])

    assert ok(response) == {"model": model_a}


@pytest.mark.parametrize("model_id", ["m-doesnotexist", "m-44ff4f96d60c430e9eb03c827a914909"])
def test_get_unknown_logged_model_is_404(api: ApiClient, team_a: Workspace, model_id: str) -> None:
    # spec: examples/logged-models/errors.json
    response = get_model(api, model_id)

    assert response.status_code == 404
    assert response.json() == model_not_found(model_id)


# --- finalize -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"])
def test_finalize_logged_model_sets_status_and_update_time(
    api: ApiClient, model_a: dict[str, Any], status: str
) -> None:
    # spec: examples/logged-models/finalize.json
    model_id = model_a["info"]["model_id"]

    response = api.call(
        "PATCH",
        f"{LOGGED_MODELS}/{model_id}",
        {"model_id": model_id, "status": status},
        workspace="team-a",
    )

    finalized = ok(response)["model"]
    assert finalized["info"]["status"] == status
    assert (
        finalized["info"]["last_updated_timestamp_ms"] >= model_a["info"]["creation_timestamp_ms"]
    )
    assert finalized["data"] == model_a["data"]
    assert info_of(api, model_id) == finalized["info"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"status": "LOGGED_MODEL_READY"},
            "Missing value for required parameter 'model_id'. "
            "See the API docs for more information about request parameters.",
        ),
        (
            {"model_id": "{id}"},
            "Missing value for required parameter 'status'. "
            "See the API docs for more information about request parameters.",
        ),
        (
            {"model_id": "{id}", "status": "DONE"},
            "Invalid value \"DONE\" for parameter 'status' supplied:  Hint: Value was of type "
            "'str'. See the API docs for more information about request parameters.",
        ),
        (
            {"model_id": "m-other", "status": "LOGGED_MODEL_READY"},
            "The model_id in the request body ('m-other') does not match the model ID in the "
            "URL ('{id}').",
        ),
    ],
)
def test_finalize_logged_model_request_errors(
    api: ApiClient, model_a: dict[str, Any], body: dict[str, str], message: str
) -> None:
    model_id = model_a["info"]["model_id"]
    body = {key: value.replace("{id}", model_id) for key, value in body.items()}

    response = api.call("PATCH", f"{LOGGED_MODELS}/{model_id}", body, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid(message.replace("{id}", model_id))
    assert info_of(api, model_id)["status"] == "LOGGED_MODEL_PENDING"


# --- delete -------------------------------------------------------------------------------


def test_delete_logged_model_hides_it(api: ApiClient, model_a: dict[str, Any]) -> None:
    # spec: examples/logged-models/delete.json
    model_id = model_a["info"]["model_id"]
    experiment_id = model_a["info"]["experiment_id"]

    response = api.call("DELETE", f"{LOGGED_MODELS}/{model_id}", workspace="team-a")

    assert (response.status_code, response.json()) == (200, {})
    again = get_model(api, model_id)
    assert (again.status_code, again.json()) == (404, model_not_found(model_id))
    assert (
        ok(get_model(api, model_id, allow_deleted="true"))["model"]["info"]["model_id"] == model_id
    )
    assert ok(search(api, {"experiment_ids": [experiment_id]})) == {}


def test_get_deleted_logged_model_needs_allow_deleted_true(
    api: ApiClient, model_a: dict[str, Any]
) -> None:
    model_id = model_a["info"]["model_id"]
    api.call("DELETE", f"{LOGGED_MODELS}/{model_id}", workspace="team-a")

    statuses = [
        get_model(api, model_id, allow_deleted=value).status_code
        for value in ("true", "TRUE", "false", "1")
    ]

    assert statuses == [200, 200, 404, 404]


# --- params and tags ----------------------------------------------------------------------


def test_log_params_set_and_delete_tags(api: ApiClient, model_a: dict[str, Any]) -> None:
    # spec: examples/logged-models/log_params_tags.json
    model_id = model_a["info"]["model_id"]

    responses = [
        api.call(
            "POST",
            f"{LOGGED_MODELS}/{model_id}/params",
            {"model_id": model_id, "params": [{"key": "beta", "value": "2"}]},
            workspace="team-a",
        ),
        api.call(
            "PATCH",
            f"{LOGGED_MODELS}/{model_id}/tags",
            {"tags": [{"key": "stage", "value": "test"}]},
            workspace="team-a",
        ),
        api.call("DELETE", f"{LOGGED_MODELS}/{model_id}/tags/stage", workspace="team-a"),
    ]

    assert [(response.status_code, response.json()) for response in responses] == [(200, {})] * 3
    model = ok(get_model(api, model_id))["model"]
    assert model["info"]["tags"] == [{"key": "env", "value": "dev"}]
    assert (
        model["info"]["last_updated_timestamp_ms"] == model_a["info"]["last_updated_timestamp_ms"]
    )
    assert model["data"] == {
        "params": [{"key": "alpha", "value": "0.5"}, {"key": "beta", "value": "2"}]
    }


def test_set_tags_upserts_and_sorts_by_key(api: ApiClient, model_a: dict[str, Any]) -> None:
    model_id = model_a["info"]["model_id"]

    ok(
        api.call(
            "PATCH",
            f"{LOGGED_MODELS}/{model_id}/tags",
            {"tags": [{"key": "env", "value": "prod"}, {"key": "a/b c", "value": "x"}]},
            workspace="team-a",
        )
    )

    assert info_of(api, model_id)["tags"] == [
        {"key": "a/b c", "value": "x"},
        {"key": "env", "value": "prod"},
    ]


def test_delete_tag_with_slashes_in_its_key(api: ApiClient, model_a: dict[str, Any]) -> None:
    model_id = model_a["info"]["model_id"]
    api.call(
        "PATCH",
        f"{LOGGED_MODELS}/{model_id}/tags",
        {"tags": [{"key": "a/b", "value": "x"}]},
        workspace="team-a",
    )

    response = api.call("DELETE", f"{LOGGED_MODELS}/{model_id}/tags/a/b", workspace="team-a")

    assert (response.status_code, response.json()) == (200, {})
    assert info_of(api, model_id)["tags"] == [{"key": "env", "value": "dev"}]


def test_delete_missing_tag_is_404(api: ApiClient, model_a: dict[str, Any]) -> None:
    model_id = model_a["info"]["model_id"]

    response = api.call("DELETE", f"{LOGGED_MODELS}/{model_id}/tags/nope", workspace="team-a")

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No tag with key 'nope' found for model with ID '{model_id}'."
    )


def test_log_params_keeps_first_value(api: ApiClient, model_a: dict[str, Any]) -> None:
    model_id = model_a["info"]["model_id"]
    path = f"{LOGGED_MODELS}/{model_id}/params"

    same = api.call(
        "POST",
        path,
        {"model_id": model_id, "params": [{"key": "alpha", "value": "0.5"}]},
        workspace="team-a",
    )
    changed = api.call(
        "POST",
        path,
        {
            "model_id": model_id,
            "params": [{"key": "new", "value": "1"}, {"key": "alpha", "value": "9"}],
        },
        workspace="team-a",
    )

    assert (same.status_code, same.json()) == (200, {})
    assert changed.status_code == 400
    assert changed.json() == invalid(
        "Changing param values is not allowed. Param with key='alpha' was already logged with "
        f"value='0.5' for logged model ID='{model_id}'. Attempted logging new value '9'."
    )
    assert data_of(api, model_id) == {"params": [{"key": "alpha", "value": "0.5"}]}


def test_log_params_needs_the_model_id_in_the_body(api: ApiClient, model_a: dict[str, Any]) -> None:
    model_id = model_a["info"]["model_id"]

    response = api.call(
        "POST", f"{LOGGED_MODELS}/{model_id}/params", {"params": []}, workspace="team-a"
    )

    assert response.status_code == 400
    assert response.json() == invalid(
        "Missing value for required parameter 'model_id'. "
        "See the API docs for more information about request parameters."
    )


# --- metrics ------------------------------------------------------------------------------


def test_metrics_logged_with_model_id_attach_to_the_model(
    api: ApiClient, model_a: dict[str, Any], experiment_a: str
) -> None:
    model_id = model_a["info"]["model_id"]
    run_id = create_run(api, experiment_a)

    single = api.call(
        "POST",
        f"{API}/runs/log-metric",
        {
            "run_id": run_id,
            "key": "acc",
            "value": 0.9,
            "timestamp": 1000,
            "step": 1,
            "model_id": model_id,
            "dataset_name": "eval",
            "dataset_digest": "abc123",
        },
        workspace="team-a",
    )
    batch = api.call(
        "POST",
        f"{API}/runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [
                {"key": "loss", "value": "NaN", "timestamp": 1001, "model_id": model_id},
                {"key": "plain", "value": 1.0, "timestamp": 1001},
            ],
        },
        workspace="team-a",
    )

    assert [(single.status_code, single.json()), (batch.status_code, batch.json())] == [
        (200, {}),
        (200, {}),
    ]
    assert data_of(api, model_id)["metrics"] == [
        {
            "key": "acc",
            "value": 0.9,
            "timestamp": 1000,
            "step": 1,
            "dataset_name": "eval",
            "dataset_digest": "abc123",
            "model_id": model_id,
            "run_id": run_id,
        },
        {
            "key": "loss",
            "value": "NaN",
            "timestamp": 1001,
            "step": 0,
            "model_id": model_id,
            "run_id": run_id,
        },
    ]
    history = ok(
        api.call(
            "GET",
            f"{API}/metrics/get-history",
            workspace="team-a",
            query={"run_id": run_id, "metric_key": "acc"},
        )
    )
    assert history == {"metrics": [{"key": "acc", "value": 0.9, "timestamp": 1000, "step": 1}]}


def test_metric_for_another_workspace_model_is_404_and_not_stored(
    api: ApiClient, experiment_a: str, model_b: dict[str, Any], team_a: Workspace
) -> None:
    other = model_b["info"]["model_id"]
    run_id = create_run(api, experiment_a)

    response = api.call(
        "POST",
        f"{API}/runs/log-metric",
        {"run_id": run_id, "key": "acc", "value": 0.9, "timestamp": 1, "model_id": other},
        workspace="team-a",
    )

    assert response.status_code == 404
    assert response.json() == model_not_found(other)
    with in_workspace(team_a):
        assert not Metric.objects.exists()
    with in_workspace(Workspace.objects.get(name="team-b")):
        assert not LoggedModelMetric.objects.exists()


# --- runs link ----------------------------------------------------------------------------


def test_run_outputs_link_the_logged_model(
    api: ApiClient, model_a: dict[str, Any], experiment_a: str
) -> None:
    # spec: examples/runs/log_outputs.json
    model_id = model_a["info"]["model_id"]
    run_id = create_run(api, experiment_a)

    ok(
        api.call(
            "POST",
            f"{API}/runs/outputs",
            {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]},
            workspace="team-a",
        )
    )

    run = ok(api.call("GET", f"{API}/runs/get", workspace="team-a", query={"run_id": run_id}))
    assert run["run"]["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}


# --- isolation ----------------------------------------------------------------------------

OPERATIONS = [
    ("GET", "", None),
    ("PATCH", "", {"model_id": "{id}", "status": "LOGGED_MODEL_READY"}),
    ("DELETE", "", None),
    ("POST", "/params", {"model_id": "{id}", "params": [{"key": "k", "value": "v"}]}),
    ("PATCH", "/tags", {"tags": [{"key": "k", "value": "v"}]}),
    ("DELETE", "/tags/mlflow.user", None),
    ("GET", "/artifacts/directories", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), OPERATIONS)
def test_another_workspace_logged_model_is_404(
    api: ApiClient,
    team_a: Workspace,
    model_b: dict[str, Any],
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    model_id = model_b["info"]["model_id"]
    if body is not None:
        body = {key: model_id if value == "{id}" else value for key, value in body.items()}

    response = api.call(method, f"{LOGGED_MODELS}/{model_id}{suffix}", body, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == model_not_found(model_id)
    assert ok(get_model(api, model_id, workspace="team-b"))["model"] == model_b


def test_another_workspace_logged_model_file_is_404(
    api: ApiClient, team_a: Workspace, model_b: dict[str, Any]
) -> None:
    model_id = model_b["info"]["model_id"]

    response = api.call(
        "GET",
        f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
        workspace="team-a",
        query={"artifact_file_path": "MLmodel"},
    )

    assert response.status_code == 404
    assert response.json() == model_not_found(model_id)


def test_another_workspace_models_never_appear_in_searches(
    api: ApiClient, model_a: dict[str, Any], model_b: dict[str, Any]
) -> None:
    both = [model_a["info"]["experiment_id"], model_b["info"]["experiment_id"]]

    response = search(api, {"experiment_ids": both})

    assert [model["info"]["model_id"] for model in ok(response)["models"]] == [
        model_a["info"]["model_id"]
    ]
