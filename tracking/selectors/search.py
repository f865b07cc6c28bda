"""Searching experiments and runs of the active workspace: filter, order, one page, its data.

Every query starts from a scoped manager (``Run.objects``, ``Experiment.objects``), so other
workspaces' rows never match, even when their experiment ids are passed explicitly. A search
costs one query for the page (only ``max_results + 1`` rows are fetched) plus a constant number
to load the page's data in bulk. spec: search.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from django.db.models import Q

from config.errors import InvalidParameterValueError
from permissions.access import UserLike, experiments_readable_q
from tracking.models import ACTIVE, DELETED, Experiment, Run
from tracking.search.experiments import (
    filter_experiments,
    order_experiments,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from tracking.search.paging import SearchPage, decode_page_token, page_from_rows
from tracking.search.runs import filter_runs, order_runs, parse_run_filter, parse_run_order_by
from tracking.selectors.experiments import ExperimentWithTags, experiments_with_tags
from tracking.selectors.lookups import parse_experiment_id
from tracking.selectors.runs import RunData, runs_with_data

SEARCH_MAX_RESULTS_THRESHOLD: Final = 50000
RUNS_DEFAULT_MAX_RESULTS: Final = 1000
STAGES_FOR_VIEW_TYPE: Final = {
    "ACTIVE_ONLY": (ACTIVE,),
    "DELETED_ONLY": (DELETED,),
    "ALL": (ACTIVE, DELETED),
}


def _check_max_results(max_results: int) -> None:
    """``max_results`` must be 1..50000; messages are the SQL store's."""
    if max_results < 1:
        raise InvalidParameterValueError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            "It must be a positive integer"
        )
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise InvalidParameterValueError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            f"It must be at most {SEARCH_MAX_RESULTS_THRESHOLD}"
        )


def experiment_search(
    *,
    user: UserLike,
    max_results: int,
    view_type: str = "ACTIVE_ONLY",
    filter_string: str = "",
    order_by: Sequence[str] = (),
    page_token: str | None = None,
) -> SearchPage[ExperimentWithTags]:
    """One page of the active workspace's experiments matching ``filter_string`` that ``user``
    may read, with their tags.

    Unreadable experiments are filtered in SQL, so a page is full whenever more rows exist (the
    reference drops them after the query and refills the page: the same rows, other offsets).
    Default order: ``creation_time DESC, experiment_id ASC``. Two queries: the page, its tags.
    """
    _check_max_results(max_results)
    clauses = parse_experiment_filter(filter_string)
    keys = parse_experiment_order_by(order_by)
    offset = decode_page_token(page_token)
    experiments = Experiment.objects.filter(
        experiments_readable_q(user), lifecycle_stage__in=STAGES_FOR_VIEW_TYPE[view_type]
    )
    ordered = order_experiments(filter_experiments(experiments, clauses), keys)
    rows = list(ordered.select_related("workspace")[offset : offset + max_results + 1])
    page = page_from_rows(rows, offset=offset, max_results=max_results)
    return SearchPage(experiments_with_tags(page.items), page.next_page_token)


def _in_readable_experiments(user: UserLike, ids: list[int]) -> Q:
    """Runs of ``ids``, or of those ``user`` may read: a subquery over the few experiments, so
    the permission test runs once per search, not once per run."""
    readable = experiments_readable_q(user)
    if not readable:
        return Q(experiment_id__in=ids)
    return Q(experiment_id__in=Experiment.objects.filter(readable, pk__in=ids).values("pk"))


def run_search(
    *,
    user: UserLike,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    view_type: str = "ACTIVE_ONLY",
    max_results: int = RUNS_DEFAULT_MAX_RESULTS,
    order_by: Sequence[str] = (),
    page_token: str | None = None,
) -> SearchPage[RunData]:
    """One page of the runs of ``experiment_ids`` matching ``filter_string``, with their data.

    Ids of experiments in other workspaces, or that ``user`` may not read, match nothing (they
    are silently dropped, as the reference trims ``experiment_ids`` before the query). Default
    order: ``start_time DESC, run_id ASC``. Queries: one for the page, then ``runs_with_data``'s
    five per 500 runs.
    """
    _check_max_results(max_results)
    clauses = parse_run_filter(filter_string)
    keys = parse_run_order_by(order_by)
    offset = decode_page_token(page_token)
    ids = [parse_experiment_id(experiment_id) for experiment_id in experiment_ids]
    if not ids:
        return SearchPage([], None)
    runs = Run.objects.filter(
        _in_readable_experiments(user, ids),
        lifecycle_stage__in=STAGES_FOR_VIEW_TYPE[view_type],
    )
    ordered = order_runs(filter_runs(runs, clauses, ids), keys)
    rows = list(ordered[offset : offset + max_results + 1])
    page = page_from_rows(rows, offset=offset, max_results=max_results)
    return SearchPage(runs_with_data(page.items), page.next_page_token)
