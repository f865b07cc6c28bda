"""A logged model's artifacts: uploaded through the proxy to its ``artifact_uri``, listed with
``artifacts/directories`` and read with the UI's ``artifacts/files``.

spec: tracking.md §6, workspaces.md §6.2, examples/logged-models/list_artifacts.json,
artifact_file_ajax.json, sklearn_log_model.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.tracking.test_logged_models_support import (
    LOGGED_MODELS,
    create_experiment,
    create_model,
    error,
    invalid,
    model_not_found,
    ok,
)
from workspaces.models import Workspace

AJAX_FILES = "/ajax-api/2.0/mlflow/logged-models/{}/artifacts/files"
MLMODEL = b"artifact_path: model\nflavors:\n  python_function: {}\n"


@pytest.fixture
def model(api: ApiClient, team_a: Workspace) -> dict[str, Any]:
    return create_model(api, create_experiment(api, "models-exp"), name="model")


def proxy_path(model: dict[str, Any], name: str) -> str:
    """The proxy path the client PUTs a model file to (``mlflow-artifacts:/`` stripped)."""
    root = model["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    return f"/api/2.0/mlflow-artifacts/artifacts/{root}/{name}"


def upload(api: ApiClient, model: dict[str, Any], name: str, data: bytes) -> None:
    response = api.put(
        proxy_path(model, name),
        data=data,
        content_type="application/octet-stream",
        headers={"X-MLFLOW-WORKSPACE": "team-a"},
    )
    assert response.status_code == 200, response.content


def directories(api: ApiClient, model_id: str, workspace: str = "team-a", **query: str) -> Any:
    return api.call(
        "GET",
        f"{LOGGED_MODELS}/{model_id}/artifacts/directories",
        workspace=workspace,
        query=query or None,
    )


def test_model_files_land_below_the_workspace_tree(
    api: ApiClient, model: dict[str, Any], artifact_root: Path
) -> None:
    # spec: examples/logged-models/sklearn_log_model.json (PUT .../models/<id>/artifacts/MLmodel)
    upload(api, model, "MLmodel", MLMODEL)

    experiment_id, model_id = model["info"]["experiment_id"], model["info"]["model_id"]
    stored = artifact_root / "workspaces" / "team-a" / experiment_id / "models" / model_id
    assert (stored / "artifacts" / "MLmodel").read_bytes() == MLMODEL


def test_list_logged_model_artifacts(api: ApiClient, model: dict[str, Any]) -> None:
    # spec: examples/logged-models/list_artifacts.json
    upload(api, model, "MLmodel", MLMODEL)
    upload(api, model, "conda.yaml", b"name: env\n")
    upload(api, model, "sub/weights.bin", b"\x00" * 5)
    model_id = model["info"]["model_id"]
    root = model["info"]["artifact_uri"]

    top = ok(directories(api, model_id))
    sub = ok(directories(api, model_id, artifact_directory_path="sub"))
    missing = ok(directories(api, model_id, artifact_directory_path="nothing"))

    assert top == {
        "root_uri": root,
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": len(MLMODEL)},
            {"path": "conda.yaml", "is_dir": False, "file_size": 10},
            {"path": "sub", "is_dir": True},
        ],
    }
    assert sub == {
        "root_uri": root,
        "files": [{"path": "sub/weights.bin", "is_dir": False, "file_size": 5}],
    }
    assert missing == {"root_uri": root}


@pytest.mark.parametrize("path", ["../x", "/etc", "a/../../b", "%2e%2e/x"])
def test_list_logged_model_artifacts_refuses_traversal(
    api: ApiClient, model: dict[str, Any], path: str
) -> None:
    response = directories(api, model["info"]["model_id"], artifact_directory_path=path)

    assert response.status_code == 400
    assert response.json() == invalid("Invalid path")


def test_list_artifacts_of_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = directories(api, "m-nope")

    assert response.status_code == 404
    assert response.json() == model_not_found("m-nope")


def test_ajax_file_route_serves_a_model_file(api: ApiClient, model: dict[str, Any]) -> None:
    # spec: examples/logged-models/artifact_file_ajax.json
    upload(api, model, "MLmodel", MLMODEL)

    response = api.call(
        "GET",
        AJAX_FILES.format(model["info"]["model_id"]),
        workspace="team-a",
        query={"artifact_file_path": "MLmodel"},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == "attachment; filename=MLmodel"
    assert response["Content-Type"].startswith("text/plain")
    assert b"".join(response.streaming_content) == MLMODEL


def test_file_route_exists_only_under_ajax_api(api: ApiClient, model: dict[str, Any]) -> None:
    path = f"{LOGGED_MODELS}/{model['info']['model_id']}/artifacts/files"

    response = api.call("GET", path, workspace="team-a", query={"artifact_file_path": "MLmodel"})

    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        (
            {},
            400,
            error("BAD_REQUEST", 'Request must include the "artifact_file_path" query parameter.'),
        ),
        ({"artifact_file_path": "../secret"}, 400, invalid("Invalid path")),
    ],
)
def test_file_route_request_errors(
    api: ApiClient, model: dict[str, Any], query: dict[str, str], status: int, body: Any
) -> None:
    response = api.call(
        "GET", AJAX_FILES.format(model["info"]["model_id"]), workspace="team-a", query=query
    )

    assert (response.status_code, response.json()) == (status, body)


def test_missing_model_file_is_404(api: ApiClient, model: dict[str, Any]) -> None:
    response = api.call(
        "GET",
        AJAX_FILES.format(model["info"]["model_id"]),
        workspace="team-a",
        query={"artifact_file_path": "nope.txt"},
    )

    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_moved_experiment_takes_its_logged_models_and_their_files(
    api: ApiClient, model: dict[str, Any], team_b: Workspace
) -> None:
    # spec: workspaces.md §9 (moves); artifacts follow the rows (workspaces/moves/artifacts.py)
    from workspaces.moves import resources_move

    upload(api, model, "MLmodel", MLMODEL)
    model_id, experiment_id = model["info"]["model_id"], model["info"]["experiment_id"]
    tags = {"tags": [{"key": "stage", "value": "dev"}]}
    ok(api.call("PATCH", f"{LOGGED_MODELS}/{model_id}/tags", tags, workspace="team-a"))

    resources_move(source="team-a", target="team-b", resource_type="experiments")

    moved = ok(api.call("GET", f"{LOGGED_MODELS}/{model_id}", workspace="team-b"))["model"]
    assert moved["info"]["artifact_uri"] == (
        f"mlflow-artifacts:/workspaces/team-b/{experiment_id}/models/{model_id}/artifacts"
    )
    assert moved["info"]["tags"] == [{"key": "stage", "value": "dev"}]
    listing = ok(directories(api, model_id, workspace="team-b"))
    assert listing["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": len(MLMODEL)}]
    gone = api.call("GET", f"{LOGGED_MODELS}/{model_id}", workspace="team-a")
    assert (gone.status_code, gone.json()) == (404, model_not_found(model_id))


def test_presigned_upload_for_a_proxied_logged_model_is_refused_like_a_run(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment = api.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "presign"}, workspace="team-a"
    ).json()["experiment_id"]
    model = api.call(
        "POST", "/api/2.0/mlflow/logged-models", {"experiment_id": experiment}, workspace="team-a"
    ).json()["model"]["info"]["model_id"]

    mine = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-upload-url",
        {"model_id": model, "path": "x.txt"},
        workspace="team-a",
    )
    foreign = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-upload-url",
        {"model_id": model, "path": "x.txt"},
        workspace="default",
    )

    assert mine.status_code == 400
    assert mine.json()["message"].startswith("Presigned upload is not supported for proxied")
    assert foreign.status_code == 404
    assert foreign.json()["message"] == f"Logged model with ID '{model}' not found."
