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
from django.db.models import Q

from tracking.models import DOUBLE_MAX, LatestMetric, Metric, Run
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


def _recency(point: Metric) -> tuple[int, int, float]:
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
    if len(newest) == 1:
        _advance_latest(run, next(iter(newest.values())))
    else:
        _merge_latest(run, newest)
    logged_model_metrics_log(run=run, points=points)  # spec: tracking.md §4, model_id/dataset_*


def _newer_than(row: Metric) -> Q:
    """Latest points that ``row`` replaces: a strictly smaller ``(step, timestamp, value)``."""
    return (
        Q(step__lt=row.step)
        | Q(step=row.step, timestamp__lt=row.timestamp)
        | Q(step=row.step, timestamp=row.timestamp, value__lt=row.value)
    )


def _advance_latest(run: Run, row: Metric) -> None:
    """One key: a conditional UPDATE, and an INSERT only when the key has no latest point yet.

    The usual case (a newer point for a known key) is one query.
    """
    fields = {"value": row.value, "timestamp": row.timestamp, "step": row.step}
    updated = LatestMetric.objects.filter(Q(run=run, key=row.key) & _newer_than(row)).update(
        is_nan=row.is_nan, **fields
    )
    if updated:
        return
    LatestMetric.objects.bulk_create(
        [
            LatestMetric(
                workspace_id=run.workspace_id, run=run, key=row.key, is_nan=row.is_nan, **fields
            )
        ],
        ignore_conflicts=True,  # the key already has a point at least as recent
    )


def _merge_latest(run: Run, newest: dict[str, Metric]) -> None:
    """Many keys: read their latest points once, then insert and update in bulk."""
    current = {
        key: (pk, (step, timestamp, value))
        for pk, key, step, timestamp, value in LatestMetric.objects.filter(
            run=run, key__in=list(newest)
        ).values_list("pk", "key", "step", "timestamp", "value")
    }
    to_create: list[LatestMetric] = []
    to_update: list[LatestMetric] = []
    for key, row in newest.items():
        fields = {"value": row.value, "timestamp": row.timestamp, "step": row.step}
        known = current.get(key)
        if known is None:
            to_create.append(
                LatestMetric(
                    workspace_id=run.workspace_id, run=run, key=key, is_nan=row.is_nan, **fields
                )
            )
        elif _recency(row) > known[1]:
            to_update.append(LatestMetric(pk=known[0], is_nan=row.is_nan, **fields))
    if to_create:
        LatestMetric.objects.bulk_create(to_create)
    if to_update:
        LatestMetric.objects.bulk_update(to_update, ["value", "timestamp", "step", "is_nan"])


@transaction.atomic
def run_log_metric(*, run_id: str, metric: MetricPoint) -> None:
    """Log one point to an active run of the active workspace (and to its logged model, when
    the point names one)."""
    run = run_get_active_for_update(run_id)
    metrics_log(run=run, points=[metric])
