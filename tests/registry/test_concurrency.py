"""Concurrent version creation on one model: versions 1..N, no duplicates, no errors, on
SQLite, PostgreSQL and MariaDB.

Each thread is one server worker with its own database connection. On SQLite the threads use a
file copy of the test database: the suite's in-memory database shares one cache between
connections, where SQLite reports "database table is locked" at once instead of waiting for
the writer as a file database (what the server runs on) does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.utils import load_backend

from registry.models import ModelVersion, RegisteredModel
from registry.services.model_versions import model_version_create
from tests.factories import RegisteredModelFactory, WorkspaceFactory
from workspaces.context import in_workspace
from workspaces.models import Workspace

WRITERS = 8


@contextmanager
def own_connection(sqlite_path: str | None) -> Iterator[None]:
    """This thread's connection: the test database, or on SQLite the file copy of it."""
    original = connections["default"]
    if sqlite_path is not None:
        settings = {**original.settings_dict, "NAME": sqlite_path}
        backend = load_backend(settings["ENGINE"])
        connections["default"] = backend.DatabaseWrapper(settings, "default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = original


def sqlite_copy(tmp_path: Path) -> str | None:
    """On SQLite, a file copy of the test database as written so far; else None."""
    if connection.vendor != "sqlite":
        return None
    path = str(tmp_path / "threads.sqlite3")
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return path


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
    sqlite_path = sqlite_copy(tmp_path)
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
