"""Helpers and fixtures of the registry tests: calls by operation name, a run to register from."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory
from tracking.models import Run
from workspaces.models import Workspace

API = "/api/2.0/mlflow"
MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"


def invalid_parameter(message: str) -> dict[str, str]:
    return {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": message,
        "sqlstate": "KAM00",
        "error_class": "INVALID_PARAMETER_VALUE",
    }


def not_found(message: str) -> dict[str, str]:
    return {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": message,
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }


def already_exists(message: str) -> dict[str, str]:
    return {
        "error_code": "RESOURCE_ALREADY_EXISTS",
        "message": message,
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_ALREADY_EXISTS",
    }


def ok(response: Any) -> dict[str, Any]:
    """The JSON body of a 200 response (the test fails with the body otherwise)."""
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def create_model(api: ApiClient, name: str, workspace: str = "team-a", **fields: Any) -> Any:
    return ok(api.call("POST", f"{MODELS}/create", {"name": name, **fields}, workspace=workspace))[
        "registered_model"
    ]


def create_version(
    api: ApiClient, name: str, source: str, workspace: str = "team-a", **fields: Any
) -> Any:
    body = {"name": name, "source": source, **fields}
    return ok(api.call("POST", f"{VERSIONS}/create", body, workspace=workspace))["model_version"]


def get_model(api: ApiClient, name: str, workspace: str = "team-a") -> Any:
    return api.call("GET", f"{MODELS}/get", workspace=workspace, query={"name": name})


def get_version(api: ApiClient, name: str, version: str, workspace: str = "team-a") -> Any:
    query = {"name": name, "version": version}
    return api.call("GET", f"{VERSIONS}/get", workspace=workspace, query=query)


def artifacts_source(workspace: str, path: str = "1/model") -> str:
    """A source under the workspace's proxied artifact root."""
    return f"mlflow-artifacts:/workspaces/{workspace}/{path}"


@pytest.fixture
def run_a(team_a: Workspace) -> Run:
    """A run of team-a to register versions from."""
    return RunFactory(experiment=ExperimentFactory(workspace=team_a, name="models-exp"))


@pytest.fixture
def run_b(team_b: Workspace) -> Run:
    """A run of team-b: never a valid source in team-a."""
    return RunFactory(experiment=ExperimentFactory(workspace=team_b, name="models-exp"))
