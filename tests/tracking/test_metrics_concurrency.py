"""Concurrent writers to one run lose nothing: every point is stored and each key's latest
point is right, on SQLite, PostgreSQL and MariaDB.

Each thread is one server worker with its own database connection. On SQLite the threads use
a file copy of the test database (``tests.sqlite_files``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config.errors import InvalidParameterValueError
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from tests.sqlite_files import own_connection, sqlite_file_copy
from tracking.models import Dataset, LatestMetric, Metric, Param, RunInput, RunTag
from tracking.services.metrics import MetricPoint, run_log_metric
from tracking.services.runs import run_log_batch, run_log_inputs, run_log_param
from workspaces.context import in_workspace

THREADS = 4
ROUNDS = 15


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Callable[[], str | None]:
    """Takes the file copy of the SQLite test database once its data is written."""

    def copy() -> str | None:
        return sqlite_file_copy(tmp_path / "threads.sqlite3")

    return copy


def run_threads(work: Callable[[int], None], sqlite_path: str | None) -> list[str]:
    """Run ``work(thread_number)`` on THREADS threads at once; return their errors."""
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def target(number: int) -> None:
        try:
            with own_connection(sqlite_path):
                barrier.wait(timeout=30)
                work(number)
        except Exception as error:  # reported to, and failing, the test
            errors.append(repr(error))

    threads = [threading.Thread(target=target, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_log_metric_and_log_batch_lose_nothing(
    sqlite_path: Callable[[], str | None],
) -> None:
    workspace = WorkspaceFactory(name="team-a")
    run = RunFactory(experiment=ExperimentFactory(workspace=workspace))
    path = sqlite_path()

    def work(number: int) -> None:
        with in_workspace(workspace):
            for round_number in range(ROUNDS):
                step = round_number * THREADS + number  # every thread owns distinct steps
                shared = MetricPoint("shared", float(step), 1000 + step, step)
                own = MetricPoint(f"own{number}", float(step), 1000 + step, step)
                if round_number % 2:
                    run_log_metric(run_id=run.run_uuid, metric=shared)
                    run_log_metric(run_id=run.run_uuid, metric=own)
                else:
                    run_log_batch(
                        run_id=run.run_uuid,
                        metrics=[shared, own, MetricPoint(f"batch{step}", 1.0, 1, 0)],
                        params={f"p{step}": str(step)},
                        tags={"last": str(step), f"t{step}": "x"},
                    )

    errors = run_threads(work, path)

    assert errors == []
    with own_connection(path), in_workspace(workspace):
        total = THREADS * ROUNDS
        batches = THREADS * ((ROUNDS + 1) // 2)
        assert Metric.objects.filter(key="shared").count() == total
        assert Metric.objects.count() == 2 * total + batches
        latest = {m.key: (m.step, m.value) for m in LatestMetric.objects.all()}
        last_step = total - 1
        assert latest["shared"] == (last_step, float(last_step))
        for number in range(THREADS):
            own_last = (ROUNDS - 1) * THREADS + number
            assert latest[f"own{number}"] == (own_last, float(own_last))
        assert len(latest) == 1 + THREADS + batches
        assert Param.objects.count() == batches
        assert RunTag.objects.filter(key__startswith="t").count() == batches
        assert RunTag.objects.filter(key="last").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_param_have_one_winner(
    sqlite_path: Callable[[], str | None],
) -> None:
    workspace = WorkspaceFactory(name="team-a")
    run = RunFactory(experiment=ExperimentFactory(workspace=workspace))
    path = sqlite_path()
    outcomes: list[Any] = []

    def work(number: int) -> None:
        with in_workspace(workspace):
            try:
                run_log_param(run_id=run.run_uuid, key="lr", value=str(number))
                outcomes.append(str(number))
            except InvalidParameterValueError as error:
                outcomes.append(error.message.split(".")[0])

    errors = run_threads(work, path)

    assert errors == []
    winners = [outcome for outcome in outcomes if outcome.isdigit()]
    assert len(winners) == 1
    assert sorted(outcomes) == sorted(winners + ["Changing param values is not allowed"] * 3)
    with own_connection(path), in_workspace(workspace):
        assert list(Param.objects.values_list("value", flat=True)) == winners


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_runs_of_one_experiment_share_datasets_without_deadlocks(
    sqlite_path: Callable[[], str | None],
) -> None:
    workspace = WorkspaceFactory(name="team-a")
    experiment = ExperimentFactory(workspace=workspace)
    runs = [RunFactory(experiment=experiment) for _ in range(THREADS)]
    path = sqlite_path()

    def work(number: int) -> None:
        run_id = runs[number].run_uuid
        with in_workspace(workspace):
            for round_number in range(ROUNDS):
                # Identical points on purpose: duplicate-key inserts take extra locks.
                points = [MetricPoint(f"k{i % 7}", float(i % 3), i % 5, i % 4) for i in range(60)]
                run_log_batch(
                    run_id=run_id,
                    metrics=points,
                    params={f"p{round_number}": "v"},
                    tags={f"t{round_number % 3}": str(round_number)},
                )
                dataset = {
                    "name": f"d{round_number % 5}",
                    "digest": "x",
                    "source_type": "local",
                    "source": "s",
                    "schema": None,
                    "profile": None,
                }
                run_log_inputs(
                    run_id=run_id, datasets=[{"dataset": dataset, "tags": []}], model_ids=[]
                )

    errors = run_threads(work, path)

    assert errors == []
    with own_connection(path), in_workspace(workspace):
        assert Dataset.objects.count() == 5
        assert RunInput.objects.count() == 5 * THREADS
        assert (
            Metric.objects.count()
            == len({(i % 7, i % 3, i % 5, i % 4) for i in range(60)}) * THREADS
        )
        assert Param.objects.count() == ROUNDS * THREADS
