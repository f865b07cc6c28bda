"""Reading runs with everything logged to them, for one run or many in a fixed number of queries.

``runs_with_data`` is what ``runs/get`` and ``runs/search`` render with ``RunOut.render``.
Rows come back in the order they were first written (primary key order), which is the order
MLflow's SQL store shows them in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, NamedTuple, Protocol

from django.db import connection
from django.db.models import Model

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from config.sql import quoted_column as _column
from config.sql import quoted_table as _table
from tracking.models import ACTIVE, LatestMetric, Param, Run, RunInput, RunModelLink, RunTag
from tracking.selectors.lookups import run_get

# Run ids per ``IN (...)`` list: far below every backend's parameter limit.
RUN_ID_CHUNK: Final = 500


class KeyValue(Protocol):
    """A param or tag row: a model instance or a named row tuple."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> str: ...


class LatestPoint(Protocol):
    """A stored metric point: a ``Metric`` or ``LatestMetric``, a history point or a named row
    tuple."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def is_nan(self) -> bool: ...


@dataclass(frozen=True)
class RunData:
    """A run and what is logged to it: latest metrics, params, tags, inputs and outputs.

    Metrics, params and tags are named row tuples (reading thousands of them as model
    instances was half the cost of a search page).
    """

    run: Run
    metrics: Sequence[LatestPoint] = field(default_factory=list)
    params: Sequence[KeyValue] = field(default_factory=list)
    tags: Sequence[KeyValue] = field(default_factory=list)
    dataset_inputs: Sequence[RunInput] = field(default_factory=list)
    model_inputs: Sequence[RunModelLink] = field(default_factory=list)
    model_outputs: Sequence[RunModelLink] = field(default_factory=list)


def _chunks(run_ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(run_ids), RUN_ID_CHUNK):
        yield run_ids[start : start + RUN_ID_CHUNK]


class LatestRow(NamedTuple):
    run_id: str
    key: str
    value: float
    timestamp: int
    step: int
    is_nan: bool


class KeyValueRow(NamedTuple):
    run_id: str
    key: str
    value: str


@cache
def _logged_rows_sql(model: type[Model], columns: tuple[str, ...], chunk_size: int) -> str:
    """``SELECT <columns> ... WHERE workspace_id = %s AND run_id IN (%s, ...)``, in pk order."""
    names = ", ".join(_column(model, column) for column in columns)
    table = _table(model)
    workspace, run, pk = (_column(model, name) for name in ("workspace", "run", "id"))
    marks = ", ".join(["%s"] * chunk_size)
    return (
        f"SELECT {names} FROM {table} WHERE {workspace} = %s "  # noqa: S608
        f"AND {run} IN ({marks}) ORDER BY {pk}"
    )


def _logged_rows(
    model: type[Model], row: type[Any], workspace_ids: Sequence[int], run_ids: Sequence[str]
) -> Iterator[Any]:
    """Rows of one of the logged-value tables for runs of the given workspaces, as ``row``.

    Plain SQL, written once per shape: a search page renders a hundred runs, and compiling the
    ORM's ``IN`` list of their ids cost more than the database's answer. The workspace is
    given, not taken from the scope (tests/tracking/test_runs.py calls it across workspaces).
    """
    sql = _logged_rows_sql(model, row._fields, len(run_ids))
    with connection.cursor() as cursor:
        for workspace_id in workspace_ids:
            cursor.execute(sql, [workspace_id, *run_ids])
            yield from map(row._make, cursor.fetchall())


def runs_with_data(runs: Sequence[Run]) -> list[RunData]:
    """The data of each run, in the order given: 5 queries per 500 runs, whatever they hold.

    The runs must belong to the active workspace (as every scoped query returns them).
    """
    run_ids = [run.run_uuid for run in runs]
    metrics: defaultdict[str, list[Any]] = defaultdict(list)
    params: defaultdict[str, list[Any]] = defaultdict(list)
    tags: defaultdict[str, list[Any]] = defaultdict(list)
    dataset_inputs: defaultdict[str, list[RunInput]] = defaultdict(list)
    model_inputs: defaultdict[str, list[RunModelLink]] = defaultdict(list)
    model_outputs: defaultdict[str, list[RunModelLink]] = defaultdict(list)
    workspace_ids = sorted({run.workspace_id for run in runs})
    for chunk in _chunks(run_ids):
        for metric in _logged_rows(LatestMetric, LatestRow, workspace_ids, chunk):
            metrics[metric.run_id].append(metric)
        for model, target in ((Param, params), (RunTag, tags)):
            for row in _logged_rows(model, KeyValueRow, workspace_ids, chunk):
                target[row.run_id].append(row)
        inputs = RunInput.objects.filter(run_id__in=chunk).select_related("dataset")
        for run_input in inputs.order_by("pk"):
            dataset_inputs[run_input.run_id].append(run_input)
        for link in RunModelLink.objects.filter(run_id__in=chunk).order_by("pk"):
            target = model_inputs if link.direction == RunModelLink.INPUT else model_outputs
            target[link.run_id].append(link)
    return [
        RunData(
            run=run,
            metrics=metrics[run.run_uuid],
            params=params[run.run_uuid],
            tags=tags[run.run_uuid],
            dataset_inputs=dataset_inputs[run.run_uuid],
            model_inputs=model_inputs[run.run_uuid],
            model_outputs=model_outputs[run.run_uuid],
        )
        for run in runs
    ]


def run_get_with_data(run_id: str) -> RunData:
    """One run of the active workspace (active or deleted) with its data: 6 queries."""
    return runs_with_data([run_get(run_id)])[0]


def run_get_active_for_update(run_id: str) -> Run:
    """The active run, its row locked until the caller's transaction ends.

    Every write to a run's params, metrics, tags and inputs takes this lock first, so
    concurrent writers to one run queue up instead of losing each other's latest metrics or
    racing on param immutability (SQLite's IMMEDIATE transactions already serialize writers).
    """
    try:
        run = Run.objects.select_for_update().get(run_uuid=run_id)
    except Run.DoesNotExist:
        raise ResourceDoesNotExistError(f"Run with id={run_id} not found") from None
    if run.lifecycle_stage != ACTIVE:
        raise InvalidParameterValueError(
            f"The run {run_id} must be in the 'active' state. "
            f"Current state is {run.lifecycle_stage}."
        )
    return run
