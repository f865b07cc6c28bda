"""Plain SQL for the metric tables, the hottest writes of the server.

A log-batch writes a thousand history rows. Built as model instances and compiled by the ORM,
that cost several times the database's own work; here the rows stay tuples and each statement
is written once per process, from the models' metadata and Django's own vendor operations
(name quoting, the INSERT that skips duplicates), so it runs wherever the ORM's version ran.

On PostgreSQL a large history write is one ``COPY`` (the driver's bulk load): a thousand rows
take less than half the time of the statement-per-row insert, which is what log-batch waits
on. ``COPY`` cannot skip a point already stored, so it runs in a savepoint, and a batch that
repeats a stored point (a client resending after a timeout) is written again by the insert
that skips duplicates. Below ``COPY_MIN_ROWS`` rows the savepoint costs more than it saves.

S608 is silenced where statements are formatted: only quoted table and column names from the
models are formatted in; every value is a bound parameter. These statements bypass the
workspace manager, so each takes ``workspace_id`` and writes or
filters it explicitly (STYLE §2); ``tests/isolation/test_route_table.py`` sends log-metric and
log-batch at another workspace's run, and ``tests/tracking/test_metric_rows.py`` calls them
across workspaces. Callers hold the run's row lock inside a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model
from django.db.models.constants import OnConflict

from config.sql import quoted_column as _name
from config.sql import quoted_table as _table
from tracking.models import LatestMetric, Metric

# A point as stored: (key, value, timestamp, step, is_nan).
Row = tuple[str, float, int, int, bool]
ROW_FIELDS = ("workspace", "run", "key", "value", "timestamp", "step", "is_nan")
# Measured on PostgreSQL 15: savepoint + COPY and the per-row insert cost the same from about
# 30 to 100 rows; at 300 rows COPY takes half the time, at 1000 rows under 40%.
COPY_MIN_ROWS = 50


@cache
def _insert_sql(model: type[Model]) -> str:
    """INSERT of one point that skips a row whose unique identity is already stored."""
    ops = connection.ops
    fields = [model._meta.get_field(field) for field in ROW_FIELDS]
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    columns = ", ".join(_name(model, field) for field in ROW_FIELDS)
    values = ", ".join(["%s"] * len(ROW_FIELDS))
    statement = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    return f"{statement} {_table(model)} ({columns}) VALUES ({values}) {suffix}".rstrip()


def _insert(model: type[Model], workspace_id: int, run_id: str, rows: Sequence[Row]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            _insert_sql(model),
            [
                (workspace_id, run_id, key, value, ts, step, nan)
                for key, value, ts, step, nan in rows
            ],
        )


@cache
def _copy_sql(model: type[Model]) -> str:
    columns = ", ".join(_name(model, field) for field in ROW_FIELDS)
    return f"COPY {_table(model)} ({columns}) FROM STDIN"


def _copy(model: type[Model], workspace_id: int, run_id: str, rows: Sequence[Row]) -> None:
    """Load the rows with PostgreSQL's ``COPY``; an IntegrityError if one is already stored.

    The statement goes to the driver's cursor, below Django's ``execute``, so it is logged here
    the way Django logs its own (``connection.queries`` and query-count tests see it).
    """
    statement = _copy_sql(model)
    with connection.cursor() as cursor:
        logged = (
            cursor.debug_sql(statement, rows, many=True)
            if isinstance(cursor, CursorDebugWrapper)
            else nullcontext()
        )
        with logged, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for key, value, ts, step, nan in rows:
                copy.write_row((workspace_id, run_id, key, value, ts, step, nan))


def history_insert(*, workspace_id: int, run_id: str, rows: Sequence[Row]) -> None:
    """Append points to the run's metric history; identical points are stored once."""
    if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        try:
            with transaction.atomic():
                _copy(Metric, workspace_id, run_id, rows)
        except IntegrityError:
            pass  # a point is already stored: the savepoint undid the copy, insert skipping it
        else:
            return
    _insert(Metric, workspace_id, run_id, rows)


def latest_insert(*, workspace_id: int, run_id: str, rows: Sequence[Row]) -> None:
    """Insert latest points of keys that have none; a key that has one keeps it."""
    _insert(LatestMetric, workspace_id, run_id, rows)


@cache
def _advance_sql() -> str:
    table, ws, run, key = (
        _table(LatestMetric),
        _name(LatestMetric, "workspace"),
        _name(LatestMetric, "run"),
        _name(LatestMetric, "key"),
    )
    value, ts, step, nan = (
        _name(LatestMetric, f) for f in ("value", "timestamp", "step", "is_nan")
    )
    return (
        f"UPDATE {table} SET {value} = %s, {ts} = %s, {step} = %s, {nan} = %s "  # noqa: S608
        f"WHERE {ws} = %s AND {run} = %s AND {key} = %s AND ({step} < %s "
        f"OR ({step} = %s AND {ts} < %s) OR ({step} = %s AND {ts} = %s AND {value} < %s))"
    )


def latest_advance(*, workspace_id: int, run_id: str, row: Row) -> bool:
    """Replace the key's latest point if ``row`` is strictly more recent; whether it was."""
    key, value, ts, step, nan = row
    with connection.cursor() as cursor:
        cursor.execute(
            _advance_sql(),
            [value, ts, step, nan, workspace_id, run_id, key, step, step, ts, step, ts, value],
        )
        return bool(cursor.rowcount)


def latest_read(
    *, workspace_id: int, run_id: str, keys: Sequence[str]
) -> dict[str, tuple[int, tuple[int, int, float]]]:
    """The latest points of ``keys``: key → (row id, (step, timestamp, value))."""
    if not keys:
        return {}
    pk, ws, run, key = (
        _name(LatestMetric, "id"),
        _name(LatestMetric, "workspace"),
        _name(LatestMetric, "run"),
        _name(LatestMetric, "key"),
    )
    value, ts, step = (_name(LatestMetric, f) for f in ("value", "timestamp", "step"))
    marks = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {key}, {step}, {ts}, {value} FROM {_table(LatestMetric)} "  # noqa: S608
            f"WHERE {ws} = %s AND {run} = %s AND {key} IN ({marks})",
            [workspace_id, run_id, *keys],
        )
        return {k: (row_id, (s, t, v)) for row_id, k, s, t, v in cursor.fetchall()}


@cache
def _replace_sql() -> str:
    value, ts, step, nan = (
        _name(LatestMetric, f) for f in ("value", "timestamp", "step", "is_nan")
    )
    pk, ws = _name(LatestMetric, "id"), _name(LatestMetric, "workspace")
    return (
        f"UPDATE {_table(LatestMetric)} SET {value} = %s, {ts} = %s, {step} = %s, {nan} = %s "  # noqa: S608
        f"WHERE {pk} = %s AND {ws} = %s"
    )


def latest_replace(*, workspace_id: int, points: Sequence[tuple[int, Row]]) -> None:
    """Overwrite latest points by row id (ids from ``latest_read``)."""
    if not points:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            _replace_sql(),
            [
                (value, ts, step, nan, row_id, workspace_id)
                for row_id, (_key, value, ts, step, nan) in points
            ],
        )
