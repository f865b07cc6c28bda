"""Helpers shared by the search tests (this module holds no tests).

``recorded_runs`` rebuilds the data set of search.md §8 over the wire: runs ``r1-renamed``,
``r2`` and ``respected-elk-117`` in one experiment, as in the recorded exchanges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tracking.models import Experiment
from workspaces.models import Workspace

SEARCH_RUNS = "/api/2.0/mlflow/runs/search"
SEARCH_EXPERIMENTS = "/api/2.0/mlflow/experiments/search"
RUNS = "/api/2.0/mlflow/runs"


@dataclass(frozen=True)
class RecordedRuns:
    """The experiment of search.md §8 and the ids of its three runs."""

    experiment: Experiment
    r1: str  # r1-renamed: params, metrics, tags, a dataset; FINISHED
    r2: str  # RUNNING, nothing logged
    elk: str  # respected-elk-117: start_time 0, user_id '', NaN and Infinity metrics

    @property
    def experiment_id(self) -> str:
        return str(self.experiment.pk)


def call(api: ApiClient, operation: str, body: Any, workspace: str = "team-a") -> Any:
    """POST a run operation and check it succeeded."""
    response = api.call("POST", f"{RUNS}/{operation}", body, workspace=workspace)
    assert response.status_code == 200, response.content
    return response.json()


def create_run(
    api: ApiClient, experiment: Experiment, workspace: str = "team-a", **fields: Any
) -> str:
    body = {"experiment_id": str(experiment.pk), **fields}
    return str(call(api, "create", body, workspace)["run"]["info"]["run_id"])


def log_batch(api: ApiClient, run_id: str, workspace: str = "team-a", **lists: Any) -> None:
    call(api, "log-batch", {"run_id": run_id, **lists}, workspace)


def metric(key: str, value: Any, timestamp: int = 1, step: int = 0) -> dict[str, Any]:
    return {"key": key, "value": value, "timestamp": timestamp, "step": step}


def key_value(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value}


def recorded_runs(api: ApiClient, workspace: Workspace, name: str = "tracking-exp") -> RecordedRuns:
    """The three runs of search.md §8 in a new experiment of ``workspace``."""
    ws = workspace.name
    experiment = ExperimentFactory(
        workspace=workspace, name=name, artifact_location=f"mlflow-artifacts:/workspaces/{ws}/5"
    )
    r1 = create_run(api, experiment, ws, run_name="r1", user_id="unknown", start_time=1700000000000)
    log_batch(
        api,
        r1,
        ws,
        metrics=[metric("m", float(step + 2), 1700000000000 + step, step) for step in range(5)]
        + [metric("b", 2.0, 1700000000001, 1)],
        params=[key_value("p1", "v1"), key_value("p2", "v2")],
        tags=[key_value("k", "v"), key_value("t2", "y")],
    )
    call(
        api,
        "update",
        {"run_id": r1, "status": "FINISHED", "end_time": 1795743648889, "run_name": "r1-renamed"},
        ws,
    )
    dataset = {
        "name": "ds1",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "/data/x.csv"}',
        "schema": '{"mlflow_colspec": []}',
        "profile": '{"num_rows": 3}',
    }
    call(
        api,
        "log-inputs",
        {
            "run_id": r1,
            "datasets": [
                {"tags": [key_value("mlflow.data.context", "training")], "dataset": dataset}
            ],
        },
        ws,
    )
    r2 = create_run(api, experiment, ws, run_name="r2", user_id="unknown", start_time=1795743646724)
    elk = create_run(api, experiment, ws, run_name="respected-elk-117", user_id="", start_time=0)
    log_batch(
        api,
        elk,
        ws,
        metrics=[metric("nanm", "NaN"), metric("infm", "Infinity"), metric("strts", 2.0, 1, 3)],
        params=[key_value("longval", "v" * 100)],
        tags=[key_value("longtag", "t" * 100)],
    )
    return RecordedRuns(experiment, r1, r2, elk)


def search_runs(api: ApiClient, body: dict[str, Any], workspace: str = "team-a") -> Any:
    return api.call("POST", SEARCH_RUNS, body, workspace=workspace)


def run_names(response: Any) -> list[str]:
    """The run names of a successful runs/search response, in order."""
    assert response.status_code == 200, response.content
    return [run["info"]["run_name"] for run in response.json().get("runs", [])]


def search_experiments(
    api: ApiClient, body: dict[str, Any] | None = None, workspace: str = "team-a", **query: Any
) -> Any:
    if query:
        return api.call("GET", SEARCH_EXPERIMENTS, workspace=workspace, query=query)
    return api.call("POST", SEARCH_EXPERIMENTS, body or {}, workspace=workspace)


def experiment_names(response: Any) -> list[str]:
    """The experiment names of a successful experiments/search response, in order."""
    assert response.status_code == 200, response.content
    return [experiment["name"] for experiment in response.json().get("experiments", [])]


def invalid(message: str) -> dict[str, str]:
    """MLflow's INVALID_PARAMETER_VALUE body."""
    return {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": message,
        "sqlstate": "KAM00",
        "error_class": "INVALID_PARAMETER_VALUE",
    }
