"""``POST logged-models/search``: filters, order_by objects, datasets, page tokens, isolation,
query counts.

spec: search.md §6-7, examples/logged-models/search.json, search_errors.json,
examples/search/logged_models_filter_semantics.json, logged_models_order_by.json.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.tracking.test_logged_models_support import (
    API,
    LOGGED_MODELS,
    create_experiment,
    create_model,
    create_run,
    invalid,
    names,
    ok,
    search,
)
from tracking.models import LoggedModel
from workspaces.context import in_workspace
from workspaces.models import Workspace

HINT = "See the API docs for more information about request parameters."


def log_metrics(
    api: ApiClient, run_id: str, model_id: str, *points: tuple[str, float, int, str]
) -> None:
    """Log ``(key, value, timestamp, dataset_name)`` points to a run with ``model_id``."""
    metrics = []
    for key, value, timestamp, dataset in points:
        metric: dict[str, Any] = {
            "key": key,
            "value": value,
            "timestamp": timestamp,
            "model_id": model_id,
        }
        if dataset:
            metric.update(dataset_name=dataset, dataset_digest=f"{dataset}-digest")
        metrics.append(metric)
    body = {"run_id": run_id, "metrics": metrics}
    ok(api.call("POST", f"{API}/runs/log-batch", body, workspace="team-a"))


def finalize(api: ApiClient, model_id: str, status: str) -> None:
    body = {"model_id": model_id, "status": status}
    ok(api.call("PATCH", f"{LOGGED_MODELS}/{model_id}", body, workspace="team-a"))


def created_at(workspace: Workspace, model_id: str, timestamp: int) -> None:
    """Pin a model's creation time, so the default order is known."""
    with in_workspace(workspace):
        LoggedModel.objects.filter(model_id=model_id).update(creation_timestamp_ms=timestamp)


@pytest.fixture
def world(api: ApiClient, team_a: Workspace) -> dict[str, str]:
    """Four models of one experiment, oldest first: model, model2, raw-model,
    magnificent-dove-43 (as recorded, plus metrics). Returns their ids and the experiment's."""
    experiment_id = create_experiment(api, "models-exp")
    run_id = create_run(api, experiment_id)
    user = [{"key": "mlflow.user", "value": "demo-user"}]
    ids = {
        "model": create_model(api, experiment_id, name="model", source_run_id=run_id, tags=user),
        "model2": create_model(api, experiment_id, name="model2", tags=user),
        "raw-model": create_model(
            api,
            experiment_id,
            name="raw-model",
            model_type="agent",
            params=[{"key": "alpha", "value": "0.5"}],
            tags=[{"key": "env", "value": "dev"}],
        ),
        "magnificent-dove-43": create_model(api, experiment_id, name="magnificent-dove-43"),
    }
    model_ids = {name: model["info"]["model_id"] for name, model in ids.items()}
    for index, model_id in enumerate(model_ids.values()):
        created_at(team_a, model_id, 1000 * (index + 1))
    finalize(api, model_ids["model"], "LOGGED_MODEL_READY")
    finalize(api, model_ids["model2"], "LOGGED_MODEL_READY")
    finalize(api, model_ids["raw-model"], "LOGGED_MODEL_UPLOAD_FAILED")
    log_metrics(api, run_id, model_ids["model"], ("acc", 0.7, 10, "eval"))
    log_metrics(api, run_id, model_ids["model2"], ("acc", 0.9, 10, "train"), ("acc", 0.4, 20, ""))
    return {**model_ids, "experiment_id": experiment_id, "run_id": run_id}


def search_names(api: ApiClient, world: dict[str, str], **body: Any) -> list[str]:
    return names(search(api, {"experiment_ids": [world["experiment_id"]], **body}))


# --- filters ------------------------------------------------------------------------------

ALL = ["magnificent-dove-43", "raw-model", "model2", "model"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # spec: examples/search/logged_models_filter_semantics.json
        ("name = 'model'", ["model"]),
        ("name LIKE 'mod%'", ["model2", "model"]),
        ("status = 'LOGGED_MODEL_READY'", []),
        ("creation_timestamp > 0", ALL),
        ("source_run_id = 'x'", []),
        ("model_type = 'agent'", ["raw-model"]),
        ("tags.`mlflow.user` = 'demo-user'", ["model2", "model"]),
        ("params.alpha = '0.5'", ["raw-model"]),
        ("name IN ('model', 'model2')", ["model2", "model"]),
        ("creation_time > 0", ALL),
        ("model_id = 'x'", []),
        # spec: examples/logged-models/search.json
        ("tags.env = 'dev' AND status = 'LOGGED_MODEL_UPLOAD_FAILED'", []),
        # beyond the recordings
        ("name LIKE 'MOD%'", []),
        ("name ILIKE 'MOD%'", ["model2", "model"]),
        ("name != 'model'", ["magnificent-dove-43", "raw-model", "model2"]),
        ("name NOT IN ('model', 'raw-model')", ["magnificent-dove-43", "model2"]),
        ("attributes.name = 'model2'", ["model2"]),
        ("status = '2'", ["model2", "model"]),
        ("status = '3' and tags.env = 'dev'", ["raw-model"]),
        ("creation_timestamp >= 2000 AND creation_time < 4000", ["raw-model", "model2"]),
        ("last_updated_timestamp > 0", ALL),
        ("params.alpha = 0.5", ["raw-model"]),
        ("params.alpha LIKE '0.%'", ["raw-model"]),
        ("tags.env != 'dev'", []),
        ("tags.`mlflow.user` ILIKE 'DEMO%' and name = 'model'", ["model"]),
        ("metrics.acc > 0.5", ["model2", "model"]),
        ("metrics.acc < 0.5", ["model2"]),
        ("metrics.acc = 0.7", ["model"]),
        ("metrics.acc != 0.7", ["model2"]),
        ("metrics.nope > 0", []),
        ("source_run_id != ''", ["model"]),
        ("artifact_location LIKE 'mlflow-artifacts:/workspaces/team-a/%'", ALL),
    ],
)
def test_search_filter_semantics(
    api: ApiClient, world: dict[str, str], filter_string: str, expected: list[str]
) -> None:
    assert search_names(api, world, filter=filter_string) == expected


def test_search_filter_by_experiment_and_model_id(api: ApiClient, world: dict[str, str]) -> None:
    by_experiment = search_names(api, world, filter=f"experiment_id = '{world['experiment_id']}'")
    by_id = search_names(api, world, filter=f"model_id = '{world['model2']}'")

    assert (by_experiment, by_id) == (ALL, ["model2"])


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        # spec: examples/logged-models/search_errors.json
        (
            "foo.bar = 'x'",
            "Invalid entity type: 'foo'. Expected one of ['attributes', 'metrics', 'params', "
            "'tags'].",
        ),
        (
            "metrics.acc LIKE 'x'",
            "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', "
            "'>', '>=', '=', '!=').",
        ),
        (
            "params.p > '1'",
            "Invalid comparison operator for params.p: '>'. Expected one of ('=', '!=', 'LIKE', "
            "'ILIKE', 'IN', 'NOT IN').",
        ),
        (
            "creation_timestamp LIKE '1%'",
            "Invalid comparison operator for attributes.creation_timestamp: 'LIKE'. Expected one "
            "of ('<', '<=', '>', '>=', '=', '!=').",
        ),
        ("metrics.acc > 'x'", "Expected a numeric value for metrics.acc. Got 'x'"),
        (
            "bogus = 'x'",
            "Invalid attribute key 'bogus' specified. Valid keys are ['artifact_location', "
            "'creation_time', 'creation_timestamp', 'creation_timestamp_ms', 'experiment_id', "
            "'last_updated_timestamp', 'last_updated_timestamp_ms', 'model_id', 'model_type', "
            "'name', 'source_run_id', 'status']",
        ),
        (
            "tags.t IS NULL",
            "IS NULL / IS NOT NULL is not supported in logged model searches: tags.t",
        ),
        ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: OR"),
    ],
)
def test_search_filter_errors(
    api: ApiClient, world: dict[str, str], filter_string: str, message: str
) -> None:
    response = search(api, {"experiment_ids": [world["experiment_id"]], "filter": filter_string})

    assert response.status_code == 400
    assert response.json() == invalid(message)


# --- datasets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datasets", "filter_string", "expected"),
    [
        ([{"dataset_name": "eval"}], None, ["model"]),
        ([{"dataset_name": "eval", "dataset_digest": "eval-digest"}], None, ["model"]),
        ([{"dataset_name": "eval", "dataset_digest": "other"}], None, []),
        ([{"dataset_name": "eval"}, {"dataset_name": "train"}], None, ["model2", "model"]),
        ([{"dataset_name": "train"}], "metrics.acc > 0.8", ["model2"]),
        ([{"dataset_name": "train"}], "metrics.acc < 0.5", []),
        ([{"dataset_name": "nope"}], None, []),
    ],
)
def test_search_datasets_restrict_metrics(
    api: ApiClient,
    world: dict[str, str],
    datasets: list[dict[str, str]],
    filter_string: str | None,
    expected: list[str],
) -> None:
    body: dict[str, Any] = {"datasets": datasets}
    if filter_string:
        body["filter"] = filter_string

    assert search_names(api, world, **body) == expected


def test_search_dataset_without_name_is_refused(api: ApiClient, world: dict[str, str]) -> None:
    response = search(
        api,
        {"experiment_ids": [world["experiment_id"]], "datasets": [{"dataset_digest": "x"}]},
    )

    assert response.status_code == 400
    assert response.json() == invalid("`dataset_name` in the `datasets` clause must be specified.")


# --- order_by -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # spec: examples/search/logged_models_order_by.json
        ([{"field_name": "name"}], ["magnificent-dove-43", "model", "model2", "raw-model"]),
        ([{"field_name": "creation_timestamp", "ascending": False}], ALL),
        ([{"field_name": "metrics.acc"}], ["model2", "model", "magnificent-dove-43", "raw-model"]),
        # beyond the recordings: missing metrics sort last both ways; latest point counts
        (
            [{"field_name": "metrics.acc", "ascending": False}],
            ["model", "model2", "magnificent-dove-43", "raw-model"],
        ),
        (
            [{"field_name": "metrics.acc", "dataset_name": "train", "ascending": False}],
            ["model2", "magnificent-dove-43", "raw-model", "model"],
        ),
        (
            [{"field_name": "creation_time"}],
            ["model", "model2", "raw-model", "magnificent-dove-43"],
        ),
        (
            [{"field_name": "status"}, {"field_name": "name", "ascending": False}],
            ["magnificent-dove-43", "model2", "model", "raw-model"],
        ),
        ([{"field_name": "model_type", "ascending": False}], ["raw-model", *ALL[:1], *ALL[2:]]),
    ],
)
def test_search_order_by(
    api: ApiClient, world: dict[str, str], order_by: list[dict[str, Any]], expected: list[str]
) -> None:
    assert search_names(api, world, order_by=order_by) == expected


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        # spec: examples/search/logged_models_order_by.json (the reference also sends
        # sqlstate KAM04 and error_class ATTRIBUTE_NOT_FOUND here)
        ({"field_name": "bogus"}, "Invalid order by field name: bogus"),
        (
            {"field_name": "params.x"},
            "Invalid order by field name: params.x. Only metrics are supported.",
        ),
        ({"ascending": True}, "`field_name` in the `order_by` clause must be specified."),
    ],
)
def test_search_order_by_errors(
    api: ApiClient, world: dict[str, str], order_by: dict[str, Any], message: str
) -> None:
    response = search(api, {"experiment_ids": [world["experiment_id"]], "order_by": [order_by]})

    assert response.status_code == 400
    assert response.json() == invalid(message)


# --- paging -------------------------------------------------------------------------------


def token(experiment_id: str, offset: int, **query: Any) -> str:
    payload = {
        "experiment_ids": [experiment_id],
        "filter_string": query.get("filter_string"),
        "order_by": query.get("order_by"),
        "offset": offset,
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_search_pages_with_the_reference_token(api: ApiClient, world: dict[str, str]) -> None:
    # spec: examples/logged-models/search.json (max_results=1, then the token)
    experiment_id = world["experiment_id"]
    pages: list[Any] = []
    body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1}
    while True:
        page = ok(search(api, body))
        pages.append(page)
        if "next_page_token" not in page:
            break
        body["page_token"] = page["next_page_token"]

    assert [page["models"][0]["info"]["name"] for page in pages] == ALL
    assert [page.get("next_page_token") for page in pages] == [
        token(experiment_id, 1),
        token(experiment_id, 2),
        token(experiment_id, 3),
        None,
    ]
    assert token("7", 1) == (
        "eyJleHBlcmltZW50X2lkcyI6IFsiNyJdLCAiZmlsdGVyX3N0cmluZyI6IG51bGwsICJvcmRlcl9ieSI6IG51bGws"
        "ICJvZmZzZXQiOiAxfQ=="
    )


def test_search_token_carries_filter_and_order(api: ApiClient, world: dict[str, str]) -> None:
    experiment_id = world["experiment_id"]
    body: dict[str, Any] = {
        "experiment_ids": [experiment_id],
        "filter": "name LIKE 'mod%'",
        "order_by": [{"field_name": "name"}],
        "max_results": 1,
    }

    first = ok(search(api, body))
    second = ok(search(api, {**body, "page_token": first["next_page_token"]}))

    order = [
        {"field_name": "name", "ascending": True, "dataset_name": None, "dataset_digest": None}
    ]
    assert first["next_page_token"] == token(
        experiment_id, 1, filter_string="name LIKE 'mod%'", order_by=order
    )
    assert [first["models"][0]["info"]["name"], second["models"][0]["info"]["name"]] == [
        "model",
        "model2",
    ]
    assert "next_page_token" not in second


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"experiment_ids": ["1", "{id}"]},
            "Experiment IDs in the page token do not match the requested experiment IDs. "
            "Expected: ['1', '{id}']. Found: ['{id}']",
        ),
        (
            {"filter": "name = 'x'"},
            "Filter string in the page token does not match the requested filter string. "
            "Expected: name = 'x'. Found: None",
        ),
        (
            {"order_by": [{"field_name": "name"}]},
            "Order by in the page token does not match the requested order by. Expected: "
            "[{'field_name': 'name', 'ascending': True, 'dataset_name': None, 'dataset_digest': "
            "None}]. Found: None",
        ),
    ],
)
def test_search_token_for_another_query_is_refused(
    api: ApiClient, world: dict[str, str], change: dict[str, Any], message: str
) -> None:
    experiment_id = world["experiment_id"]
    first = ok(search(api, {"experiment_ids": [experiment_id], "max_results": 1}))
    change = json.loads(json.dumps(change).replace("{id}", experiment_id))
    body = {"experiment_ids": [experiment_id], "page_token": first["next_page_token"], **change}

    response = search(api, body)

    assert response.status_code == 400
    assert response.json() == invalid(message.replace("{id}", experiment_id))


def test_search_with_a_garbled_token_is_refused(api: ApiClient, world: dict[str, str]) -> None:
    response = search(api, {"experiment_ids": [world["experiment_id"]], "page_token": "!!"})

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"].startswith("Invalid page token: !!.")


# --- requests -----------------------------------------------------------------------------


def test_search_without_experiments_is_empty(api: ApiClient, world: dict[str, str]) -> None:
    # spec: examples/logged-models/search.json
    assert ok(search(api, {"experiment_ids": []})) == {}


def test_search_needs_experiment_ids(api: ApiClient, team_a: Workspace) -> None:
    response = search(api, {"filter": "name = 'x'"})

    assert response.status_code == 400
    assert response.json() == invalid(
        f"Missing value for required parameter 'experiment_ids'. {HINT}"
    )


def test_search_default_page_size_is_100(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create_experiment(api, "many")
    for index in range(101):
        create_model(api, experiment_id, name=f"m{index}")

    page = ok(search(api, {"experiment_ids": [experiment_id]}))

    assert len(page["models"]) == 100
    assert page["next_page_token"] == token(experiment_id, 100)


def test_search_result_carries_params_tags_and_metrics(
    api: ApiClient, world: dict[str, str]
) -> None:
    response = search(api, {"experiment_ids": [world["experiment_id"]], "filter": "name = 'model'"})

    model = ok(response)["models"][0]
    assert model["info"]["tags"] == [{"key": "mlflow.user", "value": "demo-user"}]
    assert model["info"]["status"] == "LOGGED_MODEL_READY"
    assert model["data"] == {
        "metrics": [
            {
                "key": "acc",
                "value": 0.7,
                "timestamp": 10,
                "step": 0,
                "dataset_name": "eval",
                "dataset_digest": "eval-digest",
                "model_id": world["model"],
                "run_id": world["run_id"],
            }
        ]
    }


def test_search_of_another_workspace_experiment_is_empty(
    api: ApiClient, world: dict[str, str], team_b: Workspace
) -> None:
    response = search(api, {"experiment_ids": [world["experiment_id"]]}, workspace="team-b")

    assert ok(response) == {}


# --- queries ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_search_queries_do_not_grow_with_models(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    experiment_id = create_experiment(api, "counted")
    run_id = create_run(api, experiment_id)
    for index in range(count):
        model_id = create_model(
            api,
            experiment_id,
            name=f"m{index}",
            params=[{"key": "p", "value": "v"}],
            tags=[{"key": "t", "value": "x"}],
        )["info"]["model_id"]
        log_metrics(api, run_id, model_id, ("acc", 0.5 + index, 1, "eval"))
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc > 0 and params.p = 'v' and tags.t LIKE 'x%' and name LIKE 'm%'",
        "order_by": [{"field_name": "metrics.acc", "ascending": False}],
        "datasets": [{"dataset_name": "eval"}],
    }

    # the page, params, tags, metrics
    with django_assert_num_queries(4):
        response = search(api, body)

    assert names(response) == [f"m{index}" for index in reversed(range(count))]
