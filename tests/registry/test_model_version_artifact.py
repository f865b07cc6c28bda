"""``GET /model-versions/get-artifact``: the UI's download of a version's file, per workspace.
spec: examples/registry/model_version_artifact_route.json"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from workspaces.models import Workspace

M = "/api/2.0/mlflow"


@pytest.fixture
def version_with_a_file(api: ApiClient, team_a: Workspace, team_b: Workspace) -> dict[str, str]:
    def call(route: str, payload: Any) -> Any:
        response = api.call("POST", f"{M}/{route}", payload, workspace="team-a")
        assert response.status_code == 200, response.content
        return response.json()

    experiment = call("experiments/create", {"name": "e"})["experiment_id"]
    run = call("runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
    uploaded = api.put(
        f"/api/2.0/mlflow-artifacts/artifacts/workspaces/team-a/{experiment}/{run}/artifacts/m/MLmodel",
        data=b"flavors: {}\n",
        content_type="text/plain",
        headers={"X-MLFLOW-WORKSPACE": "team-a"},
    )
    assert uploaded.status_code == 200
    call("registered-models/create", {"name": "iris-clf"})
    call("model-versions/create", {"name": "iris-clf", "source": f"runs:/{run}/m", "run_id": run})
    return {"run": run}


def download(api: ApiClient, workspace: str, **query: str) -> Any:
    return api.call("GET", "/model-versions/get-artifact", workspace=workspace, query=query)


def test_model_version_file_is_served(api: ApiClient, version_with_a_file: dict[str, str]) -> None:
    response = download(api, "team-a", name="iris-clf", version="1", path="MLmodel")

    assert response.status_code == 200, response.content
    assert b"".join(response.streaming_content) == b"flavors: {}\n"
    assert response["Content-Disposition"] == "attachment; filename=MLmodel"


def test_model_version_file_of_another_workspace_is_not_found(
    api: ApiClient, version_with_a_file: dict[str, str]
) -> None:
    response = download(api, "team-b", name="iris-clf", version="1", path="MLmodel")

    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a\\b"])
def test_model_version_file_path_traversal_is_refused(
    api: ApiClient, version_with_a_file: dict[str, str], path: str
) -> None:
    response = download(api, "team-a", name="iris-clf", version="1", path=path)

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_missing_model_version_is_not_found(api: ApiClient, team_a: Workspace) -> None:
    response = download(api, "team-a", name="nope", version="1", path="MLmodel")

    assert response.status_code == 404
