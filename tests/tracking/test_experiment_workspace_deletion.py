"""Deleting a workspace that holds experiments, in the three modes. spec: workspaces.md §5.4,
examples/workspaces/delete_*.json."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from tracking.models import Experiment, ExperimentTag, LatestMetric, Metric, Run
from workspaces.context import across_workspaces
from workspaces.models import Workspace

WS = "/api/3.0/mlflow/workspaces"
EXPERIMENTS = "/api/2.0/mlflow/experiments"


def create(api: ApiClient, name: str, workspace: str, **fields: Any) -> str:
    response = api.call(
        "POST", f"{EXPERIMENTS}/create", {"name": name, **fields}, workspace=workspace
    )
    assert response.status_code == 200, response.json()
    return str(response.json()["experiment_id"])


def delete_workspace(api: ApiClient, name: str, mode: str | None = None) -> Any:
    query = {"mode": mode} if mode else None
    return api.call("DELETE", f"{WS}/{name}", query=query)


def invalid_state(message: str) -> dict[str, str]:
    return {
        "error_code": "INVALID_STATE",
        "message": message,
        "sqlstate": "XXM00",
        "error_class": "CLIENT_INTERNAL_ERROR",
    }


def test_delete_workspace_restrict_refuses_while_it_holds_an_experiment(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/workspaces/delete_nonempty_restrict.json (500 there; 400 here)
    create(api, "exp", "team-a")

    response = delete_workspace(api, "team-a")

    assert response.status_code == 400
    assert response.json() == invalid_state(
        "Cannot delete workspace 'team-a': table 'experiments' still contains 1 resource(s). "
        "Remove or reassign them before deleting the workspace."
    )
    assert Workspace.objects.filter(name="team-a").exists()


def test_delete_workspace_restrict_counts_deleted_experiments(
    api: ApiClient, team_a: Workspace
) -> None:
    first = create(api, "one", "team-a")
    create(api, "two", "team-a")
    api.call("POST", f"{EXPERIMENTS}/delete", {"experiment_id": first}, workspace="team-a")

    response = delete_workspace(api, "team-a", "RESTRICT")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Cannot delete workspace 'team-a': table 'experiments' still contains 2 resource(s). "
        "Remove or reassign them before deleting the workspace."
    )


def test_delete_workspace_cascade_deletes_its_experiments_and_runs(
    api: ApiClient, team_b: Workspace
) -> None:
    # spec: examples/workspaces/delete_cascade.json
    WorkspaceFactory(name="tmp-cascade")
    experiment_id = create(api, "to-be-cascaded", "tmp-cascade", tags=[{"key": "k", "value": "v"}])
    with across_workspaces("test data"):
        RunFactory(experiment=Experiment.objects.get(pk=int(experiment_id)))
    survivor = ExperimentFactory(workspace=team_b, name="to-be-cascaded")
    survivor_run = RunFactory(experiment=survivor)

    response = delete_workspace(api, "tmp-cascade", "CASCADE")

    assert (response.status_code, response.content) == (204, b"")
    assert not Workspace.objects.filter(name="tmp-cascade").exists()
    with across_workspaces("test inspection"):
        assert list(Experiment.objects.values_list("pk", flat=True).order_by("pk")) == [
            0,
            survivor.pk,
        ]
        assert not ExperimentTag.objects.exists()
        assert list(Run.objects.values_list("pk", flat=True)) == [survivor_run.pk]


def test_delete_workspace_cascade_deletes_the_metric_history_of_its_runs(
    api: ApiClient, team_b: Workspace
) -> None:
    # The history has no database constraint to its run (tracking.models.Metric): the ORM's
    # cascade is what removes it, for a batch large enough to take PostgreSQL's COPY path.
    WorkspaceFactory(name="tmp-history")
    experiment_id = create(api, "with-history", "tmp-history")
    with across_workspaces("test data"):
        doomed = RunFactory(experiment=Experiment.objects.get(pk=int(experiment_id)))
    survivor = RunFactory(experiment=ExperimentFactory(workspace=team_b))
    points = [{"key": f"m{i % 10}", "value": i, "timestamp": i, "step": i} for i in range(200)]
    for run, workspace in ((doomed, "tmp-history"), (survivor, "team-b")):
        response = api.call(
            "POST",
            "/api/2.0/mlflow/runs/log-batch",
            {"run_id": run.run_uuid, "metrics": points},
            workspace=workspace,
        )
        assert response.status_code == 200, response.json()

    response = delete_workspace(api, "tmp-history", "CASCADE")

    assert response.status_code == 204
    with across_workspaces("test inspection"):
        assert set(Metric.objects.values_list("run_id", flat=True)) == {survivor.run_uuid}
        assert Metric.objects.count() == 200
        assert set(LatestMetric.objects.values_list("run_id", flat=True)) == {survivor.run_uuid}


def test_delete_workspace_set_default_moves_its_experiments(api: ApiClient) -> None:
    # spec: examples/workspaces/delete_set_default.json
    WorkspaceFactory(name="tmp-setdef")
    experiment_id = create(api, "moved-to-default", "tmp-setdef", tags=[{"key": "k", "value": "v"}])
    with across_workspaces("test data"):
        run = RunFactory(experiment=Experiment.objects.get(pk=int(experiment_id)))

    response = delete_workspace(api, "tmp-setdef", "SET_DEFAULT")
    moved = api.call(
        "GET",
        f"{EXPERIMENTS}/get-by-name",
        workspace="default",
        query={"experiment_name": "moved-to-default"},
    )

    assert response.status_code == 204
    with across_workspaces("test inspection"):
        experiment = Experiment.objects.get(pk=int(experiment_id))
        run_workspace = Run.objects.get(pk=run.pk).workspace.name
    assert moved.status_code == 200
    assert moved.json() == {
        "experiment": {
            "experiment_id": experiment_id,
            "name": "moved-to-default",
            # the artifact location is not rewritten
            "artifact_location": f"mlflow-artifacts:/workspaces/tmp-setdef/{experiment_id}",
            "lifecycle_stage": "active",
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "tags": [{"key": "k", "value": "v"}],
            "workspace": "default",
        }
    }
    assert run_workspace == "default"


def test_delete_workspace_set_default_refuses_on_a_name_conflict(api: ApiClient) -> None:
    # spec: examples/workspaces/delete_set_default_conflict.json (500 there; 400 here)
    WorkspaceFactory(name="tmp-conflict")
    create(api, "moved-to-default", "default")
    experiment_id = create(api, "moved-to-default", "tmp-conflict")

    response = delete_workspace(api, "tmp-conflict", "SET_DEFAULT")

    assert response.status_code == 400
    assert response.json() == invalid_state(
        "Cannot reassign resources from workspace 'tmp-conflict' to 'default': the following "
        "names already exist in the default workspace and would cause conflicts:\n"
        "  - experiments: 'moved-to-default'\n"
        "Rename or remove the conflicting resources before retrying."
    )
    with across_workspaces("test inspection"):
        assert Experiment.objects.get(pk=int(experiment_id)).workspace.name == "tmp-conflict"


def test_delete_workspace_set_default_conflict_is_case_sensitive(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-case")
    create(api, "Moved", "default")
    create(api, "moved", "tmp-case")

    response = delete_workspace(api, "tmp-case", "SET_DEFAULT")

    assert response.status_code == 204
