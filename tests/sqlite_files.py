"""File copies of the SQLite test database, for tests whose threads need their own connections.

The suite's in-memory database shares one cache between connections, where SQLite reports
"database table is locked" at once instead of waiting for the writer as a file database (what
the server runs on) does. A copy is taken in WAL mode, as the server's database file is after
its first connection: left in rollback mode, threads connecting at once race to switch it
(each connection's ``PRAGMA journal_mode=WAL``) and the losers fail with "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, connections
from django.db.utils import load_backend


def sqlite_file_copy(path: Path) -> str | None:
    """On SQLite, copy the test database as written so far to ``path`` and return it; else None."""
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
    return str(path)


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
