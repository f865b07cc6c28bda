"""Reading metric histories: one key of one run (paged), and sampled or bulk across runs.

spec: tracking.md §5, examples/metrics/. Page tokens are base64 of ``{"offset": n}``
(search.md §7), shared with the searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from config.errors import ResourceDoesNotExistError
from tracking.models import Metric, Run
from tracking.search.paging import decode_page_token, encode_page_token
from tracking.selectors.lookups import run_get

# get-history order (MLflow's SQL store); is_nan only breaks the NaN-vs-0 tie deterministically.
HISTORY_ORDER = ("timestamp", "step", "value", "is_nan")
# get-history-bulk-interval samples over this order.
SAMPLING_ORDER = ("step", "timestamp", "value", "is_nan")


class HistoryPoint(NamedTuple):
    """One stored point as the history endpoints read it (tuples: no model instances to build
    for the client's 25000-point pages)."""

    key: str
    value: float
    timestamp: int
    step: int
    is_nan: bool
    run_id: str


POINT_FIELDS = HistoryPoint._fields


def _points(queryset: QuerySet[Metric]) -> list[HistoryPoint]:
    return [HistoryPoint(*row) for row in queryset.values_list(*POINT_FIELDS)]


def metric_history(
    *, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
) -> tuple[list[HistoryPoint], str | None]:
    """Every point of one metric of a run (active or deleted), ordered by timestamp, step and
    value; with ``max_results``, one page of it and the next page's token when more remain.

    One query when the metric has points; an empty answer checks that the run exists.
    """
    offset = decode_page_token(page_token)
    points = Metric.objects.filter(run_id=run_id, key=key).order_by(*HISTORY_ORDER)
    if max_results is None:
        rows = _points(points[offset:])
        token = None
    else:
        rows = _points(points[offset : offset + max_results + 1])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        rows = rows[:max_results]
    if not rows:
        run_get(run_id)  # an unknown run is 404, an unknown key is an empty history
    return rows, token


def sample_indices(total: int, max_results: int) -> list[int]:
    """Which rows (0-based, in order) an evenly spaced sample of ``max_results`` keeps.

    The reference splits the rows into ``max_results`` NTILE buckets, keeps each bucket's
    first row, and makes sure the very last row is kept (replacing the last sampled row when
    the sample is full). With 5 rows and 3 results: rows 0, 2 and 4.
    """
    if total <= max_results:
        return list(range(total))
    size, larger = divmod(total, max_results)
    starts = [index * (size + 1) for index in range(larger)]
    starts += [larger * (size + 1) + index * size for index in range(max_results - larger)]
    starts[-1] = total - 1
    return starts


def metric_history_bulk_interval(
    *,
    run_ids: Sequence[str],
    key: str,
    max_results: int,
    start_step: int | None = None,
    end_step: int | None = None,
) -> list[HistoryPoint]:
    """Per run (in the order of ``run_ids``), up to ``max_results`` points of ``key`` sampled
    evenly over the run's points ordered by step, timestamp and value, optionally only those
    with ``start_step <= step <= end_step``; the first and last points are always kept.

    Every run must exist in the active workspace (404 otherwise). Queries: two, plus one per
    run that has more than ``max_results`` points.
    """
    known = set(Run.objects.filter(run_uuid__in=list(run_ids)).values_list("run_uuid", flat=True))
    for run_id in run_ids:
        if run_id not in known:
            raise ResourceDoesNotExistError(f"Run with id={run_id} not found")
    points = Metric.objects.filter(key=key)
    if start_step is not None and end_step is not None:
        points = points.filter(step__gte=start_step, step__lte=end_step)
    totals = dict(
        points.filter(run_id__in=list(known))
        .values_list("run_id")
        .annotate(total=Count("id"))
        .order_by()
    )
    complete = [run_id for run_id, total in totals.items() if total <= max_results]
    sampled: defaultdict[str, list[HistoryPoint]] = defaultdict(list)
    if complete:
        for point in _points(
            points.filter(run_id__in=complete).order_by("run_id", *SAMPLING_ORDER)
        ):
            sampled[point.run_id].append(point)
    for run_id, total in totals.items():
        if total > max_results:
            sampled[run_id] = _sampled_points(points.filter(run_id=run_id), total, max_results)
    return [point for run_id in run_ids for point in sampled.get(run_id, [])]


def _sampled_points(points: QuerySet[Metric], total: int, max_results: int) -> list[HistoryPoint]:
    """The sample of one run's points, numbered in SQL so only the kept rows are read."""
    keep = [index + 1 for index in sample_indices(total, max_results)]
    ordering = [F(field).asc() for field in SAMPLING_ORDER]
    numbered = points.annotate(row_number=Window(RowNumber(), order_by=ordering))
    return _points(numbered.filter(row_number__in=keep).order_by(*SAMPLING_ORDER))


def metric_history_bulk(
    *, run_ids: Sequence[str], key: str, max_results: int
) -> list[HistoryPoint]:
    """The UI's bulk history: points of ``key`` of the given runs that exist in the active
    workspace (others are skipped), ordered by run id, timestamp, step and value, at most
    ``max_results`` in all. One query."""
    points = Metric.objects.filter(Q(run_id__in=list(run_ids)), key=key)
    return _points(points.order_by("run_id", *HISTORY_ORDER)[:max_results])
