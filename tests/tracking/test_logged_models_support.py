"""Helpers shared by the logged-model tests (this module holds no tests)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import ApiClient

API = "/api/2.0/mlflow"
LOGGED_MODELS = f"{API}/logged-models"
MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def error(code: str, message: str) -> dict[str, str]:
    """MLflow's error body for ``code``."""
    error_class = {
        "INVALID_PARAMETER_VALUE": "INVALID_PARAMETER_VALUE",
        "BAD_REQUEST": "INVALID_PARAMETER_VALUE",
        "RESOURCE_DOES_NOT_EXIST": "RESOURCE_NOT_FOUND",
        "ENDPOINT_NOT_FOUND": "RESOURCE_NOT_FOUND",
    }[code]
    return {"error_code": code, "message": message, "sqlstate": "KAM00", "error_class": error_class}


def invalid(message: str) -> dict[str, str]:
    return error("INVALID_PARAMETER_VALUE", message)


def model_not_found(model_id: str) -> dict[str, str]:
    return error("RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{model_id}' not found.")


def ok(response: Any) -> Any:
    """The JSON body of a 200 response (the test fails with the body otherwise)."""
    assert response.status_code == 200, response.content
    return response.json()


def create_experiment(api: ApiClient, name: str, workspace: str = "team-a") -> str:
    """An experiment created over the wire (its artifact location is the server's)."""
    body = ok(api.call("POST", f"{API}/experiments/create", {"name": name}, workspace=workspace))
    return str(body["experiment_id"])


def create_run(api: ApiClient, experiment_id: str, workspace: str = "team-a") -> str:
    body = {"experiment_id": experiment_id, "run_name": "train"}
    return str(
        ok(api.call("POST", f"{API}/runs/create", body, workspace=workspace))["run"]["info"][
            "run_id"
        ]
    )


def create_model(
    api: ApiClient, experiment_id: str, workspace: str = "team-a", **fields: Any
) -> dict[str, Any]:
    """``POST logged-models``; returns the ``model`` object."""
    body = {"experiment_id": experiment_id, **fields}
    model: dict[str, Any] = ok(api.call("POST", LOGGED_MODELS, body, workspace=workspace))["model"]
    return model


def get_model(api: ApiClient, model_id: str, workspace: str = "team-a", **query: str) -> Any:
    return api.call("GET", f"{LOGGED_MODELS}/{model_id}", workspace=workspace, query=query or None)


def search(api: ApiClient, body: dict[str, Any], workspace: str = "team-a") -> Any:
    return api.call("POST", f"{LOGGED_MODELS}/search", body, workspace=workspace)


def names(response: Any) -> list[str]:
    """The names of the models of a search page, in order."""
    return [model["info"]["name"] for model in ok(response).get("models", [])]
