"""Registering logged models: ``models:/m-<id>`` sources and ``model_id`` resolve the logged
model of the request's workspace, and each new version is recorded in its
``mlflow.modelVersions`` tag.

spec: registry.md §3 and §3.1, tracking.md §6, examples/flows/log_model_register_load_alias.json,
examples/registry/log_model_with_registered_model_name.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.tracking.test_logged_models_support import (
    API,
    LOGGED_MODELS,
    create_experiment,
    create_model,
    create_run,
    get_model,
    invalid,
    ok,
)
from workspaces.models import Workspace

VERSIONS = f"{API}/model-versions"
MODEL_ID_SOURCE = (
    "Invalid model version source: '{}'. The model_id request parameter must identify the "
    "resource that contains the source."
)


@pytest.fixture
def logged(api: ApiClient, team_a: Workspace) -> dict[str, Any]:
    """A finalized logged model of team-a produced by a run, and the registered model
    ``iris-clf``."""
    experiment_id = create_experiment(api, "models-exp")
    run_id = create_run(api, experiment_id)
    model = create_model(
        api,
        experiment_id,
        name="model",
        source_run_id=run_id,
        tags=[{"key": "mlflow.user", "value": "demo-user"}],
    )
    model_id = model["info"]["model_id"]
    body = {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    ok(api.call("PATCH", f"{LOGGED_MODELS}/{model_id}", body, workspace="team-a"))
    ok(
        api.call(
            "POST", f"{API}/registered-models/create", {"name": "iris-clf"}, workspace="team-a"
        )
    )
    return model


def register(
    api: ApiClient, model_id: str, name: str = "iris-clf", workspace: str = "team-a"
) -> Any:
    body = {"name": name, "source": f"models:/{model_id}", "model_id": model_id}
    return api.call("POST", f"{VERSIONS}/create", body, workspace=workspace)


def tags_of(api: ApiClient, model_id: str) -> dict[str, str]:
    info = ok(get_model(api, model_id))["model"]["info"]
    return {tag["key"]: tag["value"] for tag in info.get("tags", [])}


def test_register_a_logged_model_copies_its_run_and_records_the_version(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    # spec: examples/flows/log_model_register_load_alias.json (steps 10-11)
    model_id = logged["info"]["model_id"]

    version = ok(register(api, model_id))["model_version"]

    assert (version["version"], version["source"], version["run_id"], version["status"]) == (
        "1",
        f"models:/{model_id}",
        logged["info"]["source_run_id"],
        "READY",
    )
    assert tags_of(api, model_id) == {
        "mlflow.modelVersions": '[{"name": "iris-clf", "version": 1}]',
        "mlflow.user": "demo-user",
    }


def test_download_uri_of_a_registered_logged_model_is_its_artifact_uri(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    ok(register(api, logged["info"]["model_id"]))

    response = api.call(
        "GET",
        f"{VERSIONS}/get-download-uri",
        workspace="team-a",
        query={"name": "iris-clf", "version": "1"},
    )

    assert ok(response) == {"artifact_uri": logged["info"]["artifact_uri"]}


def test_registering_again_extends_the_model_versions_tag(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    # spec: examples/registry/log_model_with_registered_model_name.json: the client rewrites
    # the tag after each registration (here with its string version), the server appends.
    model_id = logged["info"]["model_id"]
    ok(register(api, model_id))
    client_value = '[{"name": "iris-clf", "version": 1}, {"name": "iris-clf", "version": "1"}]'
    ok(
        api.call(
            "PATCH",
            f"{LOGGED_MODELS}/{model_id}/tags",
            {"tags": [{"key": "mlflow.modelVersions", "value": client_value}]},
            workspace="team-a",
        )
    )
    ok(
        api.call(
            "POST", f"{API}/registered-models/create", {"name": "reg-model"}, workspace="team-a"
        )
    )

    ok(register(api, model_id, name="reg-model"))

    assert tags_of(api, model_id)["mlflow.modelVersions"] == (
        '[{"name": "iris-clf", "version": 1}, {"name": "iris-clf", "version": "1"}, '
        '{"name": "reg-model", "version": 1}]'
    )


def test_a_version_registered_twice_is_recorded_once(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    model_id = logged["info"]["model_id"]
    ok(register(api, model_id))
    ok(
        api.call(
            "PATCH",
            f"{LOGGED_MODELS}/{model_id}/tags",
            {"tags": [{"key": "mlflow.modelVersions", "value": "not json"}]},
            workspace="team-a",
        )
    )

    ok(register(api, model_id))

    assert tags_of(api, model_id)["mlflow.modelVersions"] == '[{"name": "iris-clf", "version": 2}]'


def test_registering_another_workspace_logged_model_is_refused(
    api: ApiClient, logged: dict[str, Any], team_b: Workspace
) -> None:
    other = create_model(api, create_experiment(api, "b-exp", workspace="team-b"), "team-b")
    other_id = other["info"]["model_id"]

    response = register(api, other_id)

    assert response.status_code == 400
    assert response.json() == invalid(MODEL_ID_SOURCE.format(f"models:/{other_id}"))
    assert "tags" not in ok(get_model(api, other_id, workspace="team-b"))["model"]["info"]


def test_registering_a_deleted_logged_model_is_refused(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    model_id = logged["info"]["model_id"]
    ok(api.call("DELETE", f"{LOGGED_MODELS}/{model_id}", workspace="team-a"))

    response = register(api, model_id)

    assert response.status_code == 400
    assert response.json() == invalid(MODEL_ID_SOURCE.format(f"models:/{model_id}"))


def test_an_artifact_source_must_lie_under_the_logged_model(
    api: ApiClient, logged: dict[str, Any]
) -> None:
    model_id = logged["info"]["model_id"]
    inside = f"{logged['info']['artifact_uri']}/sub"
    outside = logged["info"]["artifact_uri"].replace(model_id, "m-" + "0" * 32)

    accepted = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "iris-clf", "source": inside, "model_id": model_id},
        workspace="team-a",
    )
    refused = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "iris-clf", "source": outside, "model_id": model_id},
        workspace="team-a",
    )

    assert ok(accepted)["model_version"]["run_id"] == logged["info"]["source_run_id"]
    assert refused.status_code == 400
    assert refused.json() == invalid(MODEL_ID_SOURCE.format(outside))
