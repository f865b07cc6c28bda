"""Logging metric points: the history rows and each key's latest point. spec: tracking.md §4.

Storage: NaN is stored as value 0 with ``is_nan``; ±Infinity as ±``DOUBLE_MAX`` (MariaDB has
neither). Identical points are stored once (the unique constraint, ``ignore_conflicts``).

``LatestMetric`` holds, per run and key, the point with the largest ``(step, timestamp,
value)``, compared on the *stored* value as MLflow's SQL store does: NaN counts as 0 and
±Infinity as ±DBL_MAX. A point only replaces the latest one when it is strictly larger, so on a
tie (for example NaN and 0.0 at the same step and timestamp) the first one logged stays.

Callers hold the run's row lock (``run_get_active_for_update``), so concurrent writers to one
run cannot lose each other's latest values; the work is a fixed number of bulk queries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from django.db import transaction

from tracking.models import DOUBLE_MAX, LatestMetric, Metric, Run
from tracking.selectors.runs import run_get_active_for_update


class MetricPoint(NamedTuple):
    """One metric point as logged: key, value (may be NaN/±Infinity), timestamp (ms), step."""

    key: str
    value: float
    timestamp: int
    step: int = 0


def stored_value(value: float) -> tuple[float, bool]:
    """``(value, is_nan)`` as stored: NaN → ``(0, True)``, ±Infinity → ``±DOUBLE_MAX``."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (DOUBLE_MAX if value > 0 else -DOUBLE_MAX), False
    return value, False


def _recency(point: Metric | LatestMetric) -> tuple[int, int, float]:
    return (point.step, point.timestamp, point.value)


def metrics_log(*, run: Run, points: Sequence[MetricPoint]) -> None:
    """Store the points and advance each key's latest point: at most four queries.

    The caller must hold ``run``'s row lock inside a transaction.
    """
    if not points:
        return
    rows: dict[tuple[str, int, int, float, bool], Metric] = {}
    for point in points:
        value, is_nan = stored_value(point.value)
        identity = (point.key, point.timestamp, point.step, value, is_nan)
        if identity not in rows:
            rows[identity] = Metric(
                workspace_id=run.workspace_id,
                run=run,
                key=point.key,
                value=value,
                timestamp=point.timestamp,
                step=point.step,
                is_nan=is_nan,
            )
    Metric.objects.bulk_create(rows.values(), ignore_conflicts=True)

    newest: dict[str, Metric] = {}
    for row in rows.values():
        best = newest.get(row.key)
        if best is None or _recency(row) > _recency(best):
            newest[row.key] = row
    current = {
        latest.key: latest for latest in LatestMetric.objects.filter(run=run, key__in=list(newest))
    }
    to_create: list[LatestMetric] = []
    to_update: list[LatestMetric] = []
    for key, row in newest.items():
        latest = current.get(key)
        if latest is None:
            to_create.append(
                LatestMetric(
                    workspace_id=run.workspace_id,
                    run=run,
                    key=key,
                    value=row.value,
                    timestamp=row.timestamp,
                    step=row.step,
                    is_nan=row.is_nan,
                )
            )
        elif _recency(row) > _recency(latest):
            latest.value, latest.timestamp = row.value, row.timestamp
            latest.step, latest.is_nan = row.step, row.is_nan
            to_update.append(latest)
    if to_create:
        LatestMetric.objects.bulk_create(to_create)
    if to_update:
        LatestMetric.objects.bulk_update(to_update, ["value", "timestamp", "step", "is_nan"])


@transaction.atomic
def run_log_metric(*, run_id: str, metric: MetricPoint) -> None:
    """Log one point to an active run of the active workspace.

    ``model_id``/``dataset_*`` of the request are not stored here: logged models attach them.
    """
    run = run_get_active_for_update(run_id)
    metrics_log(run=run, points=[metric])
