"""Concurrent version creation on one model: versions 1..N, no duplicates, no errors, on
SQLite, PostgreSQL and MariaDB.

Each thread is one server worker with its own database connection. On SQLite the threads use a
file copy of the test database (``tests.sqlite_files``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from registry.models import ModelVersion, RegisteredModel
from registry.services.model_versions import model_version_create
from tests.factories import RegisteredModelFactory, WorkspaceFactory
from tests.sqlite_files import own_connection, sqlite_file_copy
from workspaces.context import in_workspace
from workspaces.models import Workspace

WRITERS = 8


def create_in_thread(
    workspace: Workspace,
    barrier: threading.Barrier,
    outcomes: list[str],
    sqlite_path: str | None,
) -> None:
    """One request's worth of work on its own thread, hence on its own DB connection."""
    try:
        with own_connection(sqlite_path), in_workspace(workspace):
            barrier.wait(timeout=10)
            version = model_version_create(
                name="racy", source=f"mlflow-artifacts:/workspaces/{workspace.name}/1/model"
            )
        outcomes.append(str(version.version))
    except Exception as error:  # any failure is reported to, and fails, the test
        outcomes.append(repr(error))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_concurrent_model_version_creation_numbers_sequentially(
    attempt: int, tmp_path: Path
) -> None:
    workspace = WorkspaceFactory(name="team-a")
    RegisteredModelFactory(workspace=workspace, name="racy")
    sqlite_path = sqlite_file_copy(tmp_path / "threads.sqlite3")
    barrier = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=create_in_thread, args=(workspace, barrier, outcomes, sqlite_path))
        for _ in range(WRITERS)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes, key=lambda text: (len(text), text)) == [
        str(number) for number in range(1, WRITERS + 1)
    ]
    with own_connection(sqlite_path), in_workspace(workspace):
        numbers = sorted(ModelVersion.objects.values_list("version", flat=True))
        counter = RegisteredModel.objects.get(name="racy").last_version
    assert numbers == list(range(1, WRITERS + 1))
    assert counter == WRITERS
