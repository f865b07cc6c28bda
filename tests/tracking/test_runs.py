"""Runs over the wire: create, get, update, delete, restore. spec: tracking.md §1, §3,
examples/runs/create*.json, get.json, update*.json, delete_restore.json, errors.json,
operations_on_deleted_run.json, wire/request_parsing.json."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_runs_support import (
    HINT,
    RUNS,
    create_run,
    error,
    get_run,
    invalid,
    not_found,
    post,
    run_json,
    stored_run,
)
from tracking.models import Experiment, Run, RunTag
from tracking.selectors.runs import runs_with_data
from tracking.serializers.runs import RunOut
from workspaces.context import across_workspaces, in_workspace
from workspaces.models import Workspace

GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")


@pytest.fixture
def experiment(team_a: Workspace) -> Experiment:
    return ExperimentFactory(
        workspace=team_a, name="tracking-exp", artifact_location="mlflow-artifacts:/team-a/5"
    )


@pytest.fixture
def other_run(api: ApiClient, team_b: Workspace) -> str:
    """A run in team-b, which team-a must never see or change."""
    experiment = ExperimentFactory(workspace=team_b, name="b-exp")
    return create_run(api, experiment, workspace="team-b", run_name="b-run")


def info(run_id: str, experiment: Experiment, **fields: Any) -> dict[str, Any]:
    """The RunInfo MLflow sends, with the given fields changed."""
    return {
        "run_uuid": run_id,
        "experiment_id": str(experiment.pk),
        "run_name": "",
        "user_id": "",
        "status": "RUNNING",
        "start_time": 0,
        "artifact_uri": f"mlflow-artifacts:/team-a/5/{run_id}/artifacts",
        "lifecycle_stage": "active",
        "run_id": run_id,
        **fields,
    }


# --- create -------------------------------------------------------------------------------


def test_create_run_returns_the_run_as_the_client_sends_it(
    api: ApiClient, experiment: Experiment
) -> None:
    body = {
        "experiment_id": str(experiment.pk),
        "user_id": "unknown",
        "run_name": "r1",
        "start_time": 1700000000000,
        "tags": [{"key": "k", "value": "v"}],
    }

    response = post(api, "create", body)

    assert response.status_code == 200
    run = response.json()["run"]
    run_id = run["info"]["run_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", run_id)
    assert run == {
        "info": info(
            run_id, experiment, run_name="r1", user_id="unknown", start_time=1700000000000
        ),
        "data": {"tags": [{"key": "k", "value": "v"}, {"key": "mlflow.runName", "value": "r1"}]},
        "inputs": {},
    }


def test_create_run_with_only_an_experiment_generates_a_name(
    api: ApiClient, experiment: Experiment
) -> None:
    response = post(api, "create", {"experiment_id": str(experiment.pk)})

    assert response.status_code == 200
    run = response.json()["run"]
    name = run["info"]["run_name"]
    assert GENERATED_NAME.match(name)
    assert len(name) <= 20
    assert run == {
        "info": info(run["info"]["run_id"], experiment, run_name=name),
        "data": {"tags": [{"key": "mlflow.runName", "value": name}]},
        "inputs": {},
    }


def test_create_run_takes_its_name_from_the_run_name_tag(
    api: ApiClient, experiment: Experiment
) -> None:
    body = {
        "experiment_id": str(experiment.pk),
        "tags": [{"key": "mlflow.runName", "value": "from-tag"}],
    }

    run = post(api, "create", body).json()["run"]

    assert run["info"]["run_name"] == "from-tag"
    assert run["data"] == {"tags": [{"key": "mlflow.runName", "value": "from-tag"}]}


def test_create_run_with_equal_name_and_tag_stores_one_tag(
    api: ApiClient, experiment: Experiment
) -> None:
    body = {
        "experiment_id": str(experiment.pk),
        "run_name": "same",
        "tags": [{"key": "mlflow.runName", "value": "same"}],
    }

    run = post(api, "create", body).json()["run"]

    assert run["data"] == {"tags": [{"key": "mlflow.runName", "value": "same"}]}


def test_create_run_with_name_and_different_tag_is_refused(
    api: ApiClient, experiment: Experiment
) -> None:
    body = {
        "experiment_id": str(experiment.pk),
        "run_name": "a",
        "tags": [{"key": "mlflow.runName", "value": "b"}],
    }

    response = post(api, "create", body)

    assert response.status_code == 400
    assert response.json() == invalid(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
        "values (run_name='a', mlflow.runName='b')."
    )
    with in_workspace(experiment.workspace):
        assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("experiment_id", "status", "body"),
    [
        (
            "999",
            404,
            error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999 exists"),
        ),
        (
            "abc",
            400,
            invalid("Invalid experiment ID 'abc'. Experiment ID must be a valid integer."),
        ),
    ],
)
def test_create_run_in_unknown_or_invalid_experiment_is_refused(
    api: ApiClient, team_a: Workspace, experiment_id: str, status: int, body: Any
) -> None:
    response = post(api, "create", {"experiment_id": experiment_id})

    assert (response.status_code, response.json()) == (status, body)


def test_create_run_in_deleted_experiment_is_refused(
    api: ApiClient, experiment: Experiment
) -> None:
    Experiment.objects.model._base_manager.filter(pk=experiment.pk).update(
        lifecycle_stage="deleted"
    )

    response = post(api, "create", {"experiment_id": str(experiment.pk)})

    assert response.status_code == 400
    assert response.json() == invalid(
        f"The experiment {experiment.pk} must be in the 'active' state. Current state is deleted."
    )


def test_create_run_without_experiment_uses_default_experiment_zero(
    api: ApiClient, team_a: Workspace
) -> None:
    in_default = post(api, "create", {"run_name": "d"}, workspace="default")
    in_team_a = post(api, "create", {"experiment_id": "0", "user_id": "unknown"})

    assert in_default.status_code == 200
    assert in_default.json()["run"]["info"]["experiment_id"] == "0"
    # spec: examples/workspaces/no_default_experiment_in_new_workspace.json
    assert in_team_a.status_code == 404
    assert in_team_a.json() == error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=0 exists")


def test_create_run_in_experiment_of_another_workspace_is_not_found(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    foreign = ExperimentFactory(workspace=team_b)

    response = post(api, "create", {"experiment_id": str(foreign.pk)})

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={foreign.pk} exists"
    )
    with in_workspace(team_b):
        assert not Run.objects.exists()


def test_create_run_with_too_long_name_is_refused(api: ApiClient, experiment: Experiment) -> None:
    response = post(api, "create", {"experiment_id": str(experiment.pk), "run_name": "n" * 251})

    assert response.status_code == 400
    assert response.json() == invalid("'run_name' exceeds the maximum length of 250 characters")


def test_create_run_with_string_start_time_and_mistyped_fields(
    api: ApiClient, experiment: Experiment
) -> None:
    accepted = post(api, "create", {"experiment_id": str(experiment.pk), "start_time": "7"})
    refused = post(api, "create", {"experiment_id": str(experiment.pk), "start_time": "soon"})

    assert accepted.json()["run"]["info"]["start_time"] == 7
    assert refused.status_code == 400
    assert refused.json() == invalid(
        "Invalid value \"soon\" for parameter 'start_time' supplied:  Hint: Value was of type "
        f"'str'. {HINT}"
    )


def test_create_run_is_stored_in_the_active_workspace(
    api: ApiClient, experiment: Experiment, team_a: Workspace
) -> None:
    run_id = create_run(api, experiment, run_name="stored")

    run = stored_run(run_id, team_a)

    assert (run.workspace_id, run.experiment_id, run.run_name) == (
        team_a.pk,
        experiment.pk,
        "stored",
    )
    with in_workspace(team_a):
        assert list(RunTag.objects.filter(run=run).values_list("key", "workspace_id")) == [
            ("mlflow.runName", team_a.pk)
        ]


# --- get ----------------------------------------------------------------------------------


def test_get_run_by_run_id_or_run_uuid(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment, run_name="r1", user_id="unknown", start_time=5)

    by_both = get_run(api, run_id)
    by_id = api.call("GET", f"{RUNS}/get", workspace="team-a", query={"run_id": run_id})
    by_uuid = api.call("GET", f"{RUNS}/get", workspace="team-a", query={"run_uuid": run_id})

    expected = {
        "run": {
            "info": info(run_id, experiment, run_name="r1", user_id="unknown", start_time=5),
            "data": {"tags": [{"key": "mlflow.runName", "value": "r1"}]},
            "inputs": {},
            "outputs": {},
        }
    }
    assert [by_both.status_code, by_id.status_code, by_uuid.status_code] == [200, 200, 200]
    assert by_both.json() == by_id.json() == by_uuid.json() == expected


def test_get_run_shows_latest_metrics_params_tags_in_logging_order(
    api: ApiClient, experiment: Experiment
) -> None:
    run_id = create_run(api, experiment, run_name="r1", tags=[{"key": "k", "value": "v"}])
    for step, value in enumerate([0.0, 1.5, 3.0, 4.5, 6.0]):
        post(
            api,
            "log-metric",
            {"run_id": run_id, "key": "m", "value": value, "timestamp": 1000 + step, "step": step},
        )
    post(
        api,
        "log-batch",
        {
            "run_id": run_id,
            "metrics": [
                {"key": "b", "value": 1.0, "timestamp": 1000, "step": 0},
                {"key": "b", "value": 2.0, "timestamp": 1001, "step": 1},
            ],
            "params": [{"key": "p1", "value": "v1"}, {"key": "p2", "value": "v2"}],
            "tags": [{"key": "t2", "value": "y"}],
        },
    )

    run = run_json(api, run_id)

    assert run["data"] == {
        "metrics": [
            {"key": "m", "value": 6.0, "timestamp": 1004, "step": 4},
            {"key": "b", "value": 2.0, "timestamp": 1001, "step": 1},
        ],
        "params": [{"key": "p1", "value": "v1"}, {"key": "p2", "value": "v2"}],
        "tags": [
            {"key": "k", "value": "v"},
            {"key": "mlflow.runName", "value": "r1"},
            {"key": "t2", "value": "y"},
        ],
    }
    assert (run["inputs"], run["outputs"]) == ({}, {})


def test_get_run_returns_deleted_runs(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment)
    post(api, "delete", {"run_id": run_id})

    run = run_json(api, run_id)

    assert run["info"]["lifecycle_stage"] == "deleted"


def test_get_run_unknown_is_not_found(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", f"{RUNS}/get", workspace="team-a", query={"run_id": "deadbeef"})

    assert (response.status_code, response.json()) == (404, not_found("deadbeef"))


def test_get_run_of_another_workspace_is_not_found(
    api: ApiClient, team_a: Workspace, other_run: str
) -> None:
    response = get_run(api, other_run)

    assert (response.status_code, response.json()) == (404, not_found(other_run))


@pytest.mark.parametrize(
    "query", [{}, {"runId": "0998557e21d245b393138fc75d834840"}, {"run_id": ""}]
)
def test_get_run_without_run_id_is_refused(
    api: ApiClient, team_a: Workspace, query: dict[str, str]
) -> None:
    response = api.call("GET", f"{RUNS}/get", workspace="team-a", query=query)

    assert response.status_code == 400
    assert response.json() == invalid(f"Missing value for required parameter 'run_id'. {HINT}")


def test_get_run_is_also_served_under_ajax_api(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment)

    response = api.call(
        "GET", "/ajax-api/2.0/mlflow/runs/get", workspace="team-a", query={"run_id": run_id}
    )

    assert response.status_code == 200
    assert response.json()["run"]["info"]["run_id"] == run_id


def test_get_run_queries_do_not_grow_with_logged_data(
    api: ApiClient,
    experiment: Experiment,
    django_assert_num_queries: Any,
    team_a: Workspace,
) -> None:
    small = create_run(api, experiment)
    large = create_run(api, experiment)
    for run_id, count in ((small, 1), (large, 3)):
        post(
            api,
            "log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": f"m{i}", "value": i, "timestamp": 1} for i in range(count)],
                "params": [{"key": f"p{i}", "value": "v"} for i in range(count)],
                "tags": [{"key": f"t{i}", "value": "v"} for i in range(count)],
            },
        )
        post(
            api,
            "log-inputs",
            {
                "run_id": run_id,
                "datasets": [
                    {"dataset": {"name": f"d{i}", "digest": "x", "source_type": "l", "source": "s"}}
                    for i in range(count)
                ],
                "models": [{"model_id": f"m-{run_id}-{i}"} for i in range(count)],
            },
        )
        post(api, "outputs", {"run_id": run_id, "models": [{"model_id": "m-out", "step": 1}]})
    # run, latest metrics, params, tags, dataset inputs, model links
    with django_assert_num_queries(6):
        small_run = get_run(api, small).json()["run"]
    with django_assert_num_queries(6):
        large_run = get_run(api, large).json()["run"]

    assert len(small_run["data"]["metrics"]) == 1
    assert len(large_run["data"]["metrics"]) == 3
    assert len(large_run["inputs"]["dataset_inputs"]) == 3
    assert len(large_run["inputs"]["model_inputs"]) == 3


# --- update -------------------------------------------------------------------------------


def test_update_run_status_and_name_then_end_time(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment, run_name="r1", user_id="unknown", start_time=5)

    renamed = post(
        api,
        "update",
        {"run_uuid": run_id, "status": "FINISHED", "run_id": run_id, "run_name": "r1-renamed"},
    )
    ended = post(
        api, "update", {"run_uuid": run_id, "status": "FINISHED", "end_time": 9, "run_id": run_id}
    )

    expected = info(run_id, experiment, run_name="r1-renamed", user_id="unknown", start_time=5) | {
        "status": "FINISHED"
    }
    assert (renamed.status_code, renamed.json()) == (200, {"run_info": expected})
    assert (ended.status_code, ended.json()) == (200, {"run_info": expected | {"end_time": 9}})
    assert run_json(api, run_id)["data"]["tags"] == [
        {"key": "mlflow.runName", "value": "r1-renamed"}
    ]


@pytest.mark.parametrize(
    ("status", "stored"),
    [("KILLED", "KILLED"), (3, "FINISHED"), ("4", "FAILED"), ("DONE", "RUNNING")],
)
def test_update_run_status_by_name_or_number_and_unknown_names_are_ignored(
    api: ApiClient, experiment: Experiment, status: Any, stored: str
) -> None:
    # spec: examples/runs/update_status_values.json ("DONE" answers 200 and changes nothing)
    run_id = create_run(api, experiment)

    response = post(api, "update", {"run_id": run_id, "status": status})

    assert response.status_code == 200
    assert response.json()["run_info"]["status"] == stored


def test_update_run_with_unknown_status_number_is_refused(
    api: ApiClient, experiment: Experiment
) -> None:
    run_id = create_run(api, experiment)

    response = post(api, "update", {"run_id": run_id, "status": 99})

    assert response.status_code == 400
    assert response.json() == invalid(
        f"Invalid value 99 for parameter 'status' supplied:  Hint: Value was of type 'int'. {HINT}"
    )


def test_update_run_without_fields_changes_nothing(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment, run_name="keep")

    response = post(api, "update", {"run_id": run_id, "run_name": ""})

    assert response.json()["run_info"] == info(run_id, experiment, run_name="keep")


def test_update_deleted_run_is_refused(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment)
    post(api, "delete", {"run_id": run_id})

    response = post(api, "update", {"run_id": run_id, "status": "FINISHED"})

    assert response.status_code == 400
    assert response.json() == invalid(
        f"The run {run_id} must be in the 'active' state. Current state is deleted."
    )


def test_update_run_of_another_workspace_is_not_found_and_unchanged(
    api: ApiClient, team_a: Workspace, team_b: Workspace, other_run: str
) -> None:
    response = post(api, "update", {"run_id": other_run, "status": "KILLED", "run_name": "x"})

    assert (response.status_code, response.json()) == (404, not_found(other_run))
    run = stored_run(other_run, team_b)
    assert (run.status, run.run_name) == ("RUNNING", "b-run")


# --- delete and restore -------------------------------------------------------------------


def test_delete_and_restore_run(api: ApiClient, experiment: Experiment, team_a: Workspace) -> None:
    run_id = create_run(api, experiment)

    deleted = post(api, "delete", {"run_id": run_id})
    after_delete = stored_run(run_id, team_a)
    restored = post(api, "restore", {"run_id": run_id})
    restored_again = post(api, "restore", {"run_id": run_id})
    after_restore = stored_run(run_id, team_a)

    assert [deleted.json(), restored.json(), restored_again.json()] == [{}, {}, {}]
    assert after_delete.lifecycle_stage == "deleted"
    assert after_delete.deleted_time is not None
    assert (after_restore.lifecycle_stage, after_restore.deleted_time) == ("active", None)


def test_delete_deleted_run_is_accepted(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment)
    post(api, "delete", {"run_id": run_id})

    response = post(api, "delete", {"run_id": run_id})

    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize("operation", ["delete", "restore"])
def test_delete_or_restore_unknown_run_is_not_found(
    api: ApiClient, team_a: Workspace, operation: str
) -> None:
    response = post(api, operation, {"run_id": "nonexistent"})

    assert (response.status_code, response.json()) == (404, not_found("nonexistent"))


def test_delete_run_does_not_accept_run_uuid(api: ApiClient, experiment: Experiment) -> None:
    # spec: examples/runs/validation_limits_more.json
    run_id = create_run(api, experiment)

    response = post(api, "delete", {"run_uuid": run_id})

    assert (response.status_code, response.json()) == (404, not_found(""))


@pytest.mark.parametrize("operation", ["delete", "restore"])
def test_delete_or_restore_run_of_another_workspace_is_not_found_and_unchanged(
    api: ApiClient, team_a: Workspace, team_b: Workspace, other_run: str, operation: str
) -> None:
    response = post(api, operation, {"run_id": other_run})

    assert (response.status_code, response.json()) == (404, not_found(other_run))
    assert stored_run(other_run, team_b).lifecycle_stage == "active"


def test_writes_to_deleted_run_are_refused_until_restored(
    api: ApiClient, experiment: Experiment
) -> None:
    run_id = create_run(api, experiment)
    post(api, "delete", {"run_id": run_id})

    refused = post(api, "log-parameter", {"run_id": run_id, "key": "afterdelete", "value": "x"})
    post(api, "restore", {"run_id": run_id})
    accepted = post(api, "log-parameter", {"run_id": run_id, "key": "afterdelete", "value": "x"})

    assert refused.status_code == 400
    assert refused.json() == invalid(
        f"The run {run_id} must be in the 'active' state. Current state is deleted."
    )
    assert (accepted.status_code, accepted.json()) == (200, {})


# --- routing ------------------------------------------------------------------------------


def test_run_routes_answer_405_for_other_methods(api: ApiClient, experiment: Experiment) -> None:
    run_id = create_run(api, experiment)

    get_create = api.call("GET", f"{RUNS}/create", workspace="team-a", query={"run_id": run_id})
    post_get = post(api, "get", {"run_id": run_id})

    assert (get_create.status_code, post_get.status_code) == (405, 405)


def test_runs_with_data_loads_many_runs_in_a_fixed_number_of_queries(
    api: ApiClient,
    experiment: Experiment,
    team_a: Workspace,
    django_assert_num_queries: Any,
) -> None:
    run_ids = [create_run(api, experiment, run_name=f"r{i}") for i in range(3)]
    for index, run_id in enumerate(run_ids):
        post(
            api,
            "log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "m", "value": index, "timestamp": 1}],
                "params": [{"key": "p", "value": str(index)}],
            },
        )
    with in_workspace(team_a):
        runs = list(Run.objects.filter(run_uuid__in=run_ids).order_by("run_name"))

        # latest metrics, params, tags, dataset inputs, model links
        with django_assert_num_queries(5):
            one = runs_with_data(runs[:1])
        with django_assert_num_queries(5):
            three = runs_with_data(runs)

    assert [data.run.run_name for data in three] == ["r0", "r1", "r2"]
    assert [[p.value for p in data.params] for data in three] == [["0"], ["1"], ["2"]]
    assert [m.value for m in one[0].metrics] == [0.0]
    assert RunOut.render(three[2])["data"] == {
        "metrics": [{"key": "m", "value": 2.0, "timestamp": 1, "step": 0}],
        "params": [{"key": "p", "value": "2"}],
        "tags": [{"key": "mlflow.runName", "value": "r2"}],
    }


def test_runs_with_data_reads_each_run_only_in_its_own_workspace(
    api: ApiClient, experiment: Experiment, team_a: Workspace, team_b: Workspace
) -> None:
    # runs_with_data reads logged values with plain SQL that names the workspace itself
    run_a = create_run(api, experiment, run_name="a")
    run_b = create_run(api, ExperimentFactory(workspace=team_b), workspace="team-b", run_name="b")
    for run_id, workspace in ((run_a, "team-a"), (run_b, "team-b")):
        body = {"run_id": run_id, "params": [{"key": "p", "value": workspace}]}
        post(
            api,
            "log-batch",
            {**body, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]},
            workspace,
        )
    with across_workspaces("test data"):
        runs = list(Run.objects.filter(run_uuid__in=[run_a, run_b]).order_by("run_name"))
        both = runs_with_data(runs)
        # a run handed over with another workspace's id reads nothing
        runs[0].workspace_id = team_b.pk
        moved = runs_with_data(runs[:1])

    assert [[p.value for p in data.params] for data in both] == [["team-a"], ["team-b"]]
    assert [len(data.metrics) for data in both] == [1, 1]
    assert (moved[0].params, moved[0].metrics, moved[0].tags) == ([], [], [])
