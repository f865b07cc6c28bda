"""Helpers shared by the run, metric and log-batch tests (this module holds no tests)."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiClient
from tracking.models import Experiment, Run
from workspaces.context import in_workspace
from workspaces.models import Workspace

RUNS = "/api/2.0/mlflow/runs"
METRICS = "/api/2.0/mlflow/metrics"
HINT = "See the API docs for more information about request parameters."


def error(code: str, message: str) -> dict[str, str]:
    """MLflow's error body for ``code``."""
    sqlstate, error_class = {
        "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
        "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
        "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    }[code]
    return {
        "error_code": code,
        "message": message,
        "sqlstate": sqlstate,
        "error_class": error_class,
    }


def invalid(message: str) -> dict[str, str]:
    return error("INVALID_PARAMETER_VALUE", message)


def not_found(run_id: str) -> dict[str, str]:
    return error("RESOURCE_DOES_NOT_EXIST", f"Run with id={run_id} not found")


def create_run(
    api: ApiClient, experiment: Experiment, workspace: str = "team-a", **fields: Any
) -> str:
    """Create a run over the wire and return its id."""
    body = {"experiment_id": str(experiment.pk), **fields}
    response = api.call("POST", f"{RUNS}/create", body, workspace=workspace)
    assert response.status_code == 200, response.json()
    return str(response.json()["run"]["info"]["run_id"])


def get_run(api: ApiClient, run_id: str, workspace: str = "team-a") -> Any:
    """``runs/get`` as the client sends it (both id spellings); returns the response."""
    return api.call(
        "GET", f"{RUNS}/get", workspace=workspace, query={"run_uuid": run_id, "run_id": run_id}
    )


def run_json(api: ApiClient, run_id: str, workspace: str = "team-a") -> Any:
    response = get_run(api, run_id, workspace)
    assert response.status_code == 200, response.json()
    return response.json()["run"]


def stored_run(run_id: str, workspace: Workspace) -> Run:
    with in_workspace(workspace):
        return Run.objects.get(run_uuid=run_id)


def post(api: ApiClient, operation: str, body: Any, workspace: str = "team-a") -> Any:
    return api.call("POST", f"{RUNS}/{operation}", body, workspace=workspace)
