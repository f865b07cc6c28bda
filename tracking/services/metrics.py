"""Logging metric points: the history rows and each key's latest point. spec: tracking.md §4.

Storage: NaN is stored as value 0 with ``is_nan``; ±Infinity as ±``DOUBLE_MAX`` (MariaDB has
neither). Identical points are stored once (the unique constraint, ``ignore_conflicts``).

``LatestMetric`` holds, per run and key, the point with the largest ``(step, timestamp,
value)``, compared on the *stored* value as MLflow's SQL store does: NaN counts as 0 and
±Infinity as ±DBL_MAX. A point only replaces the latest one when it is strictly larger, so on a
tie (for example NaN and 0.0 at the same step and timestamp) the first one logged stays.

Callers hold the run's row lock (``run_get_active_for_update``), so concurrent writers to one
run cannot lose each other's latest values; the work is a fixed number of bulk statements,
written by ``tracking.metric_rows`` (plain SQL: these are the hottest writes of the server).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from django.db import transaction

from tracking import metric_rows
from tracking.metric_rows import Row
from tracking.models import DOUBLE_MAX, Run
from tracking.selectors.runs import run_get_active_for_update
from tracking.services.logged_models import logged_model_metrics_log


class MetricPoint(NamedTuple):
    """One metric point as logged: key, value (may be NaN/±Infinity), timestamp (ms), step;
    with ``model_id`` (and optionally a dataset) it is also attached to that logged model."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str = ""
    dataset_name: str = ""
    dataset_digest: str = ""


def stored_value(value: float) -> tuple[float, bool]:
    """``(value, is_nan)`` as stored: NaN → ``(0, True)``, ±Infinity → ``±DOUBLE_MAX``."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (DOUBLE_MAX if value > 0 else -DOUBLE_MAX), False
    return value, False


def _recency(row: Row) -> tuple[int, int, float]:
    return (row[3], row[2], row[1])


def metrics_log(*, run: Run, points: Sequence[MetricPoint]) -> None:
    """Store the points and advance each key's latest point: at most four statements.

    The caller must hold ``run``'s row lock inside a transaction. Points become plain rows, not
    model instances: a batch is a thousand of them.
    """
    if not points:
        return
    rows: dict[Row, None] = {}
    for point in points:
        value, is_nan = stored_value(point.value)
        rows[(point.key, value, point.timestamp, point.step, is_nan)] = None
    metric_rows.history_insert(workspace_id=run.workspace_id, run_id=run.run_uuid, rows=list(rows))

    newest: dict[str, Row] = {}
    for row in rows:
        best = newest.get(row[0])
        if best is None or _recency(row) > _recency(best):
            newest[row[0]] = row
    if len(newest) == 1:
        _advance_latest(run, next(iter(newest.values())))
    else:
        _merge_latest(run, newest)
    logged_model_metrics_log(run=run, points=points)  # spec: tracking.md §4, model_id/dataset_*


def _advance_latest(run: Run, row: Row) -> None:
    """One key: a conditional UPDATE, and an INSERT only when the key has no latest point yet.

    The usual case (a newer point for a known key) is one statement.
    """
    if metric_rows.latest_advance(workspace_id=run.workspace_id, run_id=run.run_uuid, row=row):
        return
    # Either the key has no latest point yet, or it has one at least as recent (then this
    # insert is ignored).
    metric_rows.latest_insert(workspace_id=run.workspace_id, run_id=run.run_uuid, rows=[row])


def _merge_latest(run: Run, newest: dict[str, Row]) -> None:
    """Many keys: read their latest points once, then insert and update in bulk."""
    current = metric_rows.latest_read(
        workspace_id=run.workspace_id, run_id=run.run_uuid, keys=list(newest)
    )
    to_create: list[Row] = []
    to_update: list[tuple[int, Row]] = []
    for key, row in newest.items():
        known = current.get(key)
        if known is None:
            to_create.append(row)
        elif _recency(row) > known[1]:
            to_update.append((known[0], row))
    metric_rows.latest_insert(workspace_id=run.workspace_id, run_id=run.run_uuid, rows=to_create)
    metric_rows.latest_replace(workspace_id=run.workspace_id, points=to_update)


@transaction.atomic
def run_log_metric(*, run_id: str, metric: MetricPoint) -> None:
    """Log one point to an active run of the active workspace (and to its logged model, when
    the point names one)."""
    run = run_get_active_for_update(run_id)
    metrics_log(run=run, points=[metric])
