"""Tracking with the real client against a live server: the seed's getting-started flow,
searches with filters and paging, batches, history, datasets, lifecycle, and isolation."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tracking(mlflow_client: Any) -> Any:
    """The client with experiment 0 in place (a transactional test's flush removes it)."""
    from tracking.services.experiments import experiment_ensure_default

    experiment_ensure_default()
    return mlflow_client


def test_getting_started_flow(tracking: Any) -> None:
    mlflow = tracking
    mlflow.create_workspace("team-a", description="Team A workspace")
    mlflow.set_workspace("team-a")

    experiment_id = mlflow.create_experiment("my-experiment", tags={"team": "a"})
    with mlflow.start_run(experiment_id=experiment_id, run_name="first-run") as run:
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_metric("accuracy", 0.95)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metric("loss", 0.4, step=2)
        mlflow.set_tag("stage", "dev")
    fetched = mlflow.get_run(run.info.run_id)
    experiment = mlflow.get_experiment(experiment_id)

    assert mlflow.get_workspace("team-a").description == "Team A workspace"
    assert experiment.artifact_location == f"mlflow-artifacts:/workspaces/team-a/{experiment_id}"
    assert experiment.tags == {"team": "a"}
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "first-run"
    assert fetched.info.artifact_uri == (
        f"mlflow-artifacts:/workspaces/team-a/{experiment_id}/{run.info.run_id}/artifacts"
    )
    assert fetched.data.params == {"learning_rate": "0.01"}
    assert fetched.data.metrics == {"accuracy": 0.95, "loss": 0.4}
    assert fetched.data.tags["stage"] == "dev"
    assert fetched.data.tags["mlflow.runName"] == "first-run"


def test_set_experiment_creates_then_reuses(tracking: Any) -> None:
    mlflow = tracking

    first = mlflow.set_experiment("demo")
    second = mlflow.set_experiment("demo")

    assert first.experiment_id == second.experiment_id
    assert first.name == "demo"


def test_start_run_in_a_new_workspace_needs_an_experiment(tracking: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = tracking
    mlflow.create_workspace("team-a")
    mlflow.set_workspace("team-a")

    with pytest.raises(MlflowException) as missing:
        mlflow.start_run(experiment_id="0")

    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_default_experiment_in_the_default_workspace(tracking: Any) -> None:
    mlflow = tracking

    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)

    assert run.info.experiment_id == "0"
    assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_log_batch_and_metric_history(tracking: Any) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    mlflow = tracking
    client = MlflowClient()
    experiment_id = mlflow.create_experiment("batch")
    run = client.create_run(experiment_id)
    now = int(time.time() * 1000)
    metrics = [Metric("loss", 1.0 / (step + 1), now + step, step) for step in range(1000)]

    client.log_batch(
        run.info.run_id,
        metrics=metrics,
        params=[Param(f"p{i}", str(i)) for i in range(10)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(10)],
    )
    history = client.get_metric_history(run.info.run_id, "loss")
    logged = client.get_run(run.info.run_id)

    assert [point.step for point in history] == list(range(1000))
    assert history[-1].value == pytest.approx(1.0 / 1000)
    assert logged.data.metrics == {"loss": pytest.approx(1.0 / 1000)}
    assert len(logged.data.params) == 10
    assert {f"t{i}" for i in range(10)} <= set(logged.data.tags)


def test_special_metric_values_round_trip(tracking: Any) -> None:
    from mlflow import MlflowClient

    mlflow = tracking
    client = MlflowClient()
    run = client.create_run(mlflow.create_experiment("special"))

    client.log_metric(run.info.run_id, "nan", math.nan)
    client.log_metric(run.info.run_id, "inf", math.inf)
    client.log_metric(run.info.run_id, "ninf", -math.inf)
    metrics = client.get_run(run.info.run_id).data.metrics

    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf


def test_search_runs_with_filters_order_and_paging(tracking: Any) -> None:
    from mlflow import MlflowClient

    mlflow = tracking
    client = MlflowClient()
    experiment_id = mlflow.create_experiment("search")
    for index in range(7):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_metric(run.info.run_id, "acc", index / 10)
        client.log_param(run.info.run_id, "kind", "even" if index % 2 == 0 else "odd")

    first = client.search_runs(
        [experiment_id],
        filter_string="metrics.acc > 0.15 and params.kind = 'even'",
        order_by=["metrics.acc DESC"],
        max_results=2,
    )
    second = client.search_runs(
        [experiment_id],
        filter_string="metrics.acc > 0.15 and params.kind = 'even'",
        order_by=["metrics.acc DESC"],
        max_results=2,
        page_token=first.token,
    )
    listed = mlflow.search_runs([experiment_id], output_format="list")

    assert [run.info.run_name for run in first] == ["run-6", "run-4"]
    assert [run.info.run_name for run in second] == ["run-2"]
    assert second.token is None
    assert len(listed) == 7


def test_search_experiments_with_filter_and_paging(tracking: Any) -> None:
    from mlflow import MlflowClient

    mlflow = tracking
    for name in ("alpha-1", "alpha-2", "alpha-3", "beta"):
        mlflow.create_experiment(name)
    client = MlflowClient()

    page = client.search_experiments(
        filter_string="name LIKE 'alpha%'", order_by=["name ASC"], max_results=2
    )
    rest = client.search_experiments(
        filter_string="name LIKE 'alpha%'",
        order_by=["name ASC"],
        max_results=2,
        page_token=page.token,
    )
    everything = mlflow.search_experiments()

    assert [e.name for e in page] == ["alpha-1", "alpha-2"]
    assert [e.name for e in rest] == ["alpha-3"]
    assert {"alpha-1", "alpha-2", "alpha-3", "beta", "Default"} == {e.name for e in everything}


def test_log_input_with_a_dataset(tracking: Any) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag

    mlflow = tracking
    client = MlflowClient()
    run = client.create_run(mlflow.create_experiment("data"))
    dataset = Dataset(
        name="iris", digest="abc123", source_type="code", source='{"x": 1}', schema="{}"
    )

    client.log_inputs(
        run.info.run_id,
        datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])],
    )
    run_inputs = client.get_run(run.info.run_id).inputs
    assert run_inputs is not None
    inputs = run_inputs.dataset_inputs

    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [("iris", "abc123")]
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "training")]


def test_delete_and_restore_runs_and_experiments(tracking: Any) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    mlflow = tracking
    client = MlflowClient()
    experiment_id = mlflow.create_experiment("lifecycle")
    run = client.create_run(experiment_id)

    client.delete_run(run.info.run_id)
    deleted_view = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    client.restore_run(run.info.run_id)
    client.delete_experiment(experiment_id)
    deleted_experiment = client.get_experiment(experiment_id)
    client.restore_experiment(experiment_id)

    assert [r.info.run_id for r in deleted_view] == [run.info.run_id]
    assert deleted_experiment.lifecycle_stage == "deleted"
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_two_workspaces_are_isolated(tracking: Any) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow = tracking
    client = MlflowClient()
    mlflow.create_workspace("team-a")
    mlflow.create_workspace("team-b")
    mlflow.set_workspace("team-a")
    a_experiment = mlflow.create_experiment("shared-name")
    a_run = client.create_run(a_experiment)
    client.log_metric(a_run.info.run_id, "secret", 1.0)

    mlflow.set_workspace("team-b")
    b_experiment = mlflow.create_experiment("shared-name")
    with pytest.raises(MlflowException) as run_missing:
        client.get_run(a_run.info.run_id)
    with pytest.raises(MlflowException) as experiment_missing:
        client.get_experiment(a_experiment)
    with pytest.raises(MlflowException) as write_refused:
        client.log_metric(a_run.info.run_id, "sneaky", 2.0)
    seen_runs = client.search_runs([a_experiment, b_experiment])
    seen_experiments = {e.name for e in client.search_experiments()}

    assert a_experiment != b_experiment
    assert run_missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert experiment_missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert write_refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert list(seen_runs) == []
    assert seen_experiments == {"shared-name"}
    mlflow.set_workspace("team-a")
    assert set(client.get_run(a_run.info.run_id).data.metrics) == {"secret"}
