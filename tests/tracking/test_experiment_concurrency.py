"""Two requests creating the same experiment name at once: one wins, one is told it exists."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, connections

from config.errors import ResourceAlreadyExistsError
from tests.factories import WorkspaceFactory
from tracking.models import Experiment
from tracking.services.experiments import experiment_create
from workspaces.context import in_workspace
from workspaces.models import Workspace


def create_waiting_for_the_lock(name: str) -> None:
    """``experiment_create``, waiting while another connection holds SQLite's write lock.

    A SQLite file database waits for its lock (busy timeout). The test suite's in-memory
    database shares one cache between connections, and there SQLite answers "database table
    is locked" at once instead; waiting here gives the file database's behaviour back.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            experiment_create(name=name)
        except OperationalError as error:
            is_shared_cache_lock = connection.vendor == "sqlite" and "locked" in str(error)
            if not is_shared_cache_lock or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
        else:
            return


def create_in_thread(
    workspace: Workspace, name: str, barrier: threading.Barrier, outcomes: list[str]
) -> None:
    """One request's worth of work on its own thread, hence on its own DB connection."""
    try:
        connection.ensure_connection()  # as a server worker is: the race is in the insert
        with in_workspace(workspace):
            barrier.wait(timeout=10)
            create_waiting_for_the_lock(name)
        outcomes.append("created")
    except ResourceAlreadyExistsError as error:
        prefix = f"Experiment(name={name}) already exists. Error: "
        outcomes.append(error.error_code if error.message.startswith(prefix) else error.message)
    except Exception as error:  # any other outcome is reported to, and fails, the test
        outcomes.append(repr(error))
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_create_experiment_same_name_concurrently_has_one_winner(attempt: int) -> None:
    workspace = WorkspaceFactory(name="team-a")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=create_in_thread, args=(workspace, "race", barrier, outcomes))
        for _ in range(2)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["RESOURCE_ALREADY_EXISTS", "created"]
    with in_workspace(workspace):
        assert Experiment.objects.filter(name="race").count() == 1
