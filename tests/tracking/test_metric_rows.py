"""The plain-SQL metric statements write and read only the workspace they are given.

They bypass the scoping manager (tracking/metric_rows.py), so each is called here with the
workspace of one run and the run of another: nothing is written, read or changed across.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_runs_support import create_run, post
from tracking import metric_rows
from tracking.models import LatestMetric, Metric
from workspaces.context import across_workspaces
from workspaces.models import Workspace

ROW = ("m", 5.0, 1700000000009, 9, False)


def logged_run(api: ApiClient, workspace: Workspace) -> str:
    run = create_run(api, ExperimentFactory(workspace=workspace), workspace=workspace.name)
    body = {"run_id": run, "key": "m", "value": 1, "timestamp": 1700000000000, "step": 0}
    post(api, "log-metric", body, workspace.name)
    return run


def stored(run_id: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    with across_workspaces("test data"):
        history = list(
            Metric.objects.filter(run_id=run_id).order_by("pk").values_list("workspace_id", "value")
        )
        latest = list(
            LatestMetric.objects.filter(run_id=run_id).values_list("workspace_id", "value")
        )
    return history, latest


def test_statements_given_another_workspace_touch_nothing(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    run_a = logged_run(api, team_a)
    before = stored(run_a)

    # team-b's id with team-a's run: the UPDATEs and the read match nothing
    assert not metric_rows.latest_advance(workspace_id=team_b.pk, run_id=run_a, row=ROW)
    assert metric_rows.latest_read(workspace_id=team_b.pk, run_id=run_a, keys=["m"]) == {}
    ((row_id, _),) = metric_rows.latest_read(
        workspace_id=team_a.pk, run_id=run_a, keys=["m"]
    ).values()
    metric_rows.latest_replace(workspace_id=team_b.pk, points=[(row_id, ROW)])

    assert stored(run_a) == before == ([(team_a.pk, 1.0)], [(team_a.pk, 1.0)])


def test_statements_given_the_run_workspace_write_it(api: ApiClient, team_a: Workspace) -> None:
    run_a = logged_run(api, team_a)

    metric_rows.history_insert(workspace_id=team_a.pk, run_id=run_a, rows=[ROW, ROW])
    advanced = metric_rows.latest_advance(workspace_id=team_a.pk, run_id=run_a, row=ROW)

    assert advanced
    assert stored(run_a) == ([(team_a.pk, 1.0), (team_a.pk, 5.0)], [(team_a.pk, 5.0)])


def history_writes(run_id: str, workspace: Workspace, rows: list[metric_rows.Row]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        metric_rows.history_insert(workspace_id=workspace.pk, run_id=run_id, rows=rows)
    return [query["sql"].split(" FROM STDIN")[0] for query in queries.captured_queries]


def test_a_large_history_write_stores_each_point_once(api: ApiClient, team_a: Workspace) -> None:
    run_a = logged_run(api, team_a)
    size = metric_rows.COPY_MIN_ROWS
    first = [("m", float(i), 1700000000100 + i, i, False) for i in range(size)]
    # a client resending the batch after a timeout, with new points after the stored ones
    retried = first + [("m", float(i), 1700000000100 + i, i, False) for i in range(size, 2 * size)]

    first_sql = history_writes(run_a, team_a, first)
    retried_sql = history_writes(run_a, team_a, retried)

    with across_workspaces("test data"):
        steps = list(Metric.objects.filter(run_id=run_a, step__gt=0).values_list("step", flat=True))
    assert sorted(steps) == list(range(1, 2 * size))
    if connection.vendor == "postgresql":
        copy = f'{size} times: COPY "tracking_metric"'
        assert [sql.split(" (")[0] for sql in first_sql[1:2]] == [copy]
        # the retry's COPY hits a stored point; the savepoint undoes it and the insert skips it
        assert retried_sql[0].startswith("SAVEPOINT")
        assert retried_sql[2].startswith("ROLLBACK TO SAVEPOINT")
        assert "ON CONFLICT DO NOTHING" in retried_sql[-1]
    else:
        assert all("COPY" not in sql for sql in first_sql + retried_sql)
