"""runs/search over the wire: filters, errors, ordering, paging, view types, isolation, queries.

spec: search.md §1, §2, §7, §8; examples/runs/search*.json and
examples/search/runs_filter_semantics.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_search_support import (
    SEARCH_RUNS,
    RecordedRuns,
    call,
    create_run,
    invalid,
    key_value,
    log_batch,
    metric,
    recorded_runs,
    run_names,
    search_runs,
)
from workspaces.models import Workspace

R1, R2, ELK = "r1-renamed", "r2", "respected-elk-117"
ALL = [R2, R1, ELK]  # the default order: start_time DESC


@pytest.fixture
def recorded(api: ApiClient, team_a: Workspace) -> RecordedRuns:
    return recorded_runs(api, team_a)


def search(api: ApiClient, recorded: RecordedRuns, **body: Any) -> Any:
    return search_runs(api, {"experiment_ids": [recorded.experiment_id], **body})


# --- accepted filters (examples/runs/search_filters.json, search/runs_filter_semantics.json) ---


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("attributes.status = 'FINISHED'", [R1]),
        ("run_name = 'r1-renamed'", [R1]),
        ("tags.`mlflow.runName` LIKE 'r%'", ALL),
        ("params.p1 IS NOT NULL", [R1]),
        ("params.nope IS NULL", ALL),
        ("metrics.m >= 6", [R1]),
        ("datasets.name = 'ds1'", [R1]),
        ("datasets.context = 'training'", [R1]),
        ("start_time > 0", [R2, R1]),
        ("created > 0", [R2, R1]),
        ("attribute.user_id = 'unknown'", [R2, R1]),
        ("params.p1 ILIKE 'V%'", [R1]),
        ("tags.k != 'v'", []),
        ("`Run name` = 'r2'", [R2]),
        ("params.p1 LIKE 'V%'", []),
        ("params.p1 LIKE 'v%'", [R1]),
        ("run_name LIKE '%RENAMED'", []),
        ("run_name ILIKE '%RENAMED'", [R1]),
        ("tags.k = 'V'", []),
        ("metrics.m = 6", [R1]),
        ("metrics.m = 6.0", [R1]),
        ("metrics.m != 6", []),
        ("params.p1 != 'v1'", []),
        ("tags.nokey != 'x'", []),
        ("attributes.status != 'FINISHED'", [R2, ELK]),
        ("end_time > 1700000000000", [R1]),
        ("attributes.artifact_uri LIKE '%team-a%'", ALL),
        ("user_id = ''", [ELK]),
        ('params.`p1` = "v1"', [R1]),
        ("`params`.p1 = 'v1'", [R1]),
        ("metrics.m > 1 and metrics.m < 100", [R1]),
        ("datasets.digest IN ('abc123', 'zzz')", [R1]),
        ("datasets.name NOT IN ('other')", [R1]),
        ("run_id NOT IN ('x')", ALL),
        ("tags.`mlflow.runName` IS NULL", []),
        ("metrics.m > 1 AND", [R1]),
        ("datasets.context LIKE 'train%'", [R1]),
        ("datasets.context ILIKE 'TRAIN%'", [R1]),
        ("datasets.context IN ('eval', 'training')", [R1]),
        ("datasets.context NOT IN ('training')", []),
        ("datasets.context != 'eval'", [R1]),
        ("datasets.name LIKE 'DS%'", []),
        ("datasets.name ILIKE 'DS%'", [R1]),
        ("tags.t2 = 'y' and params.p2 = 'v2' and metrics.b = 2", [R1]),
        ("", ALL),
    ],
)
def test_search_runs_filter_matches_the_recorded_runs(
    api: ApiClient, recorded: RecordedRuns, filter_string: str, expected: list[str]
) -> None:
    response = search(api, recorded, filter=filter_string, max_results=10)

    assert run_names(response) == expected


def test_search_runs_filter_by_run_id_list(api: ApiClient, recorded: RecordedRuns) -> None:
    response = search(api, recorded, filter=f"attributes.run_id IN ('{recorded.r1}', 'x')")

    assert run_names(response) == [R1]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.nanm != 0", [ELK]),  # NaN satisfies only !=
        ("metrics.nanm = 0", []),  # NaN is stored as 0, which must not match
        ("metrics.nanm >= 0", []),
        ("metrics.nanm < 1", []),
        ("metrics.infm > 1e308", [ELK]),
        ("metrics.infm >= 1e999", [ELK]),  # a literal that overflows is +Infinity
        ("metrics.infm < 1e999", []),
        ("metrics.infm > -1e999", [ELK]),
        ("metrics.strts = 2", [ELK]),
        ("metrics.m > -1.5", [R1]),
        ("metrics.nope != 1", []),
    ],
)
def test_search_runs_metric_comparisons_with_nan_and_infinity(
    api: ApiClient, recorded: RecordedRuns, filter_string: str, expected: list[str]
) -> None:
    response = search(api, recorded, filter=filter_string)

    assert run_names(response) == expected


# --- LIKE and ILIKE ---------------------------------------------------------------------------


@pytest.fixture
def patterned(api: ApiClient, team_a: Workspace) -> dict[str, str]:
    """Runs whose param ``p`` holds text with wildcard and special characters."""
    experiment = ExperimentFactory(workspace=team_a, name="patterns")
    values = ["Abc", "abc", "a%c", "a_c", "aXc", "a*c", "a[c", "a\\c", "Äbc", "äbc", "ab"]
    runs = {}
    for index, value in enumerate(values):
        run_id = create_run(api, experiment, run_name=f"run-{index}", start_time=1000 - index)
        log_batch(api, run_id, params=[key_value("p", value)])
        runs[value] = run_id
    runs["experiment_id"] = str(experiment.pk)
    return runs


@pytest.mark.parametrize(
    ("pattern", "operator", "expected"),
    [
        ("abc", "LIKE", ["abc"]),
        ("Abc", "LIKE", ["Abc"]),
        ("ABC", "LIKE", []),
        ("ABC", "ILIKE", ["Abc", "abc"]),
        ("a%", "LIKE", ["abc", "a%c", "a_c", "aXc", "a*c", "a[c", "a\\c", "ab"]),
        ("A%", "LIKE", ["Abc"]),
        ("a_c", "LIKE", ["abc", "a%c", "a_c", "aXc", "a*c", "a[c", "a\\c"]),
        ("a\\%c", "LIKE", ["a%c"]),  # a backslash makes a wildcard literal
        ("a\\_c", "LIKE", ["a_c"]),
        ("a*c", "LIKE", ["a*c"]),  # GLOB's wildcards are plain characters
        ("a[c", "LIKE", ["a[c"]),
        ("a?c", "LIKE", []),
        ("a\\\\c", "LIKE", ["a\\c"]),
        ("%bc", "LIKE", ["Abc", "abc", "Äbc", "äbc"]),
        ("_bc", "LIKE", ["Abc", "abc", "Äbc", "äbc"]),  # _ is one character, not one byte
        ("äbc", "LIKE", ["äbc"]),
        ("%X%", "ILIKE", ["aXc"]),
        ("%x%", "LIKE", []),
        ("ab", "LIKE", ["ab"]),  # no implicit wildcards
    ],
)
def test_search_runs_like_is_case_sensitive_and_ilike_is_not(
    api: ApiClient, patterned: dict[str, str], pattern: str, operator: str, expected: list[str]
) -> None:
    body = {
        "experiment_ids": [patterned["experiment_id"]],
        "filter": f"params.p {operator} '{pattern}'",
        "order_by": ["attributes.start_time DESC"],
    }

    response = search_runs(api, body)

    assert response.status_code == 200, response.content
    run_ids = [run["info"]["run_id"] for run in response.json().get("runs", [])]
    assert run_ids == [patterned[value] for value in expected]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.p = 'abc'", ["abc"]),
        ("params.p = 'ABC'", []),
        (
            "params.p != 'abc'",
            ["Abc", "a%c", "a_c", "aXc", "a*c", "a[c", "a\\c", "Äbc", "äbc", "ab"],
        ),
        ("params.p IN ('abc', 'ab')", None),  # params take no lists
    ],
)
def test_search_runs_string_equality_is_case_sensitive(
    api: ApiClient, patterned: dict[str, str], filter_string: str, expected: list[str] | None
) -> None:
    body = {
        "experiment_ids": [patterned["experiment_id"]],
        "filter": filter_string,
        "order_by": ["attributes.start_time DESC"],
    }

    response = search_runs(api, body)

    if expected is None:
        assert response.status_code == 400
        return
    run_ids = [run["info"]["run_id"] for run in response.json().get("runs", [])]
    assert run_ids == [patterned[value] for value in expected]


def test_search_runs_in_list_on_run_id_is_case_sensitive(
    api: ApiClient, recorded: RecordedRuns
) -> None:
    upper = search(api, recorded, filter=f"run_id IN ('{recorded.r1.upper()}')")
    exact = search(api, recorded, filter=f"run_id IN ('{recorded.r1}', '{recorded.r2}')")
    negated = search(api, recorded, filter=f"run_id NOT IN ('{recorded.r1}')")

    assert run_names(upper) == []
    assert run_names(exact) == [R2, R1]
    assert run_names(negated) == [R2, ELK]


# --- rejected filters (examples/runs/search_filter_errors.json) --------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"filter": "metrics.m = 'abc'"},
            "Expected numeric value type for metric. Found 'abc'",
        ),
        (
            {"filter": "params.p1 > 1"},
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1",
        ),
        (
            {"filter": "params.p1 = v1"},
            "Parameter value is either not quoted or unidentified quote types used for string "
            "value v1. Use either single or double quotes.",
        ),
        (
            {"filter": "foo.bar = 'x'"},
            "Invalid entity type 'foo'. Valid values are "
            "['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        ),
        (
            {"filter": "attributes.bogus = 'x'"},
            "Invalid attribute key 'bogus' specified. Valid keys are '{'run name', 'status', "
            "'Run name', 'start_time', 'user_id', 'run_name', 'run_id', 'created', 'Run Name', "
            "'artifact_uri', 'end_time', 'Created'}'",
        ),
        (
            {"filter": "metrics.m IS NULL"},
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'm'",
        ),
        (
            {"filter": "status = 'FINISHED' OR status = 'RUNNING'"},
            "Invalid clause(s) in filter string: 'OR'",
        ),
        (
            {"filter": "run_name IN ('a')"},
            "Only ['run_id'] attributes support comparison with a list of quoted string values.",
        ),
        (
            {"filter": "status IN ('FINISHED')"},
            "Only ['run_id'] attributes support comparison with a list of quoted string values.",
        ),
        (
            {"filter": "tags.t IN ('a')"},
            "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')",
        ),
        (
            {"filter": "start_time > 'x'"},
            "Expected numeric value type for numeric attribute: start_time. Found 'x'",
        ),
        (
            {"filter": "run_id IN ()"},
            "While parsing a list in the query, expected a non-empty list of string values, "
            "but got empty list",
        ),
        (
            {"filter": "datasets.size = 'x'"},
            "Invalid dataset key 'size' specified. Valid keys are '{'name', 'digest', 'context'}'",
        ),
        (
            {"filter": "params.p1 > 'a'"},
            "Invalid comparator '>' not one of "
            "'{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'",
        ),
        (
            {"filter": "metrics.m >"},
            "Invalid clause(s) in filter string: 'metrics.m', '>'",
        ),
        (
            {"order_by": ["metrics.m SIDEWAYS"]},
            "Invalid ordering key in order_by clause 'metrics.m SIDEWAYS'.",
        ),
        # differs from reference: MLflow answers 500 INTERNAL_ERROR for duplicates.
        (
            {"order_by": ["metrics.m", "metrics.m DESC"]},
            "`order_by` contains duplicate fields: ['metrics.m', 'metrics.m DESC']",
        ),
        (
            {"order_by": ["created", "start_time DESC"]},
            "`order_by` contains duplicate fields: ['created', 'start_time DESC']",
        ),
        (
            {"order_by": ["a b c"]},
            "Invalid order_by clause 'a b c'. Could not be parsed.",
        ),
        (
            {"max_results": 50001},
            "Invalid value 50001 for parameter 'max_results' supplied:  Hint: Value was of type "
            "'int'. See the API docs for more information about request parameters.",
        ),
        (
            {"max_results": 0},
            "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer",
        ),
        (
            {"page_token": "garbage"},
            "Invalid page token, could not base64-decode",
        ),
    ],
)
def test_search_runs_rejects_bad_requests_with_mlflow_messages(
    api: ApiClient, recorded: RecordedRuns, body: dict[str, Any], message: str
) -> None:
    response = search(api, recorded, **body)

    assert response.status_code == 400
    assert response.json() == invalid(message)


def test_search_runs_rejects_a_non_integer_experiment_id(api: ApiClient, team_a: Workspace) -> None:
    response = search_runs(api, {"experiment_ids": ["abc"]})

    assert response.status_code == 400
    assert response.json() == invalid(
        "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."
    )


def test_search_runs_rejects_experiment_ids_that_are_not_a_list(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/wire/request_parsing.json
    response = search_runs(api, {"experiment_ids": "5"})

    assert response.status_code == 400
    assert response.json() == invalid(
        "Invalid value \"5\" for parameter 'experiment_ids' supplied:  Hint: Value was of type "
        "'str'. See the API docs for more information about request parameters."
    )


def test_search_runs_has_no_get_route(api: ApiClient, recorded: RecordedRuns) -> None:
    # spec: examples/runs/search_get_not_allowed.json
    response = api.call(
        "GET", SEARCH_RUNS, workspace="team-a", query={"experiment_ids": recorded.experiment_id}
    )

    assert response.status_code == 405


# --- order_by (examples/runs/search_order_by_variants.json) -------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["params.p1 ASC"], [R1, R2, ELK]),
        (["tags.`mlflow.runName` DESC"], [ELK, R2, R1]),
        (["attributes.start_time"], [ELK, R1, R2]),
        (["run_name"], [R1, R2, ELK]),
        (["`metrics`.`m` DESC"], [R1, R2, ELK]),
        (["metrics.m"], [R1, R2, ELK]),  # missing metrics sort last either way
        (["metrics.nanm"], [ELK, R2, R1]),  # NaN sorts after values and before missing keys
        (["metrics.infm DESC"], [ELK, R2, R1]),
        (["params.p1 DESC"], [R1, R2, ELK]),  # missing params sort last either way
        (["attributes.end_time"], [R1, R2, ELK]),  # unset end_time sorts last
        (["attributes.end_time DESC"], [R1, R2, ELK]),
        (["created DESC"], [R2, R1, ELK]),
        (["status", "start_time ASC"], [R1, ELK, R2]),
        (["user_id DESC"], [R2, R1, ELK]),  # ties broken by start_time DESC
        (["attr.run_id"], None),  # by id: checked below
    ],
)
def test_search_runs_order_by_variants(
    api: ApiClient, recorded: RecordedRuns, order_by: list[str], expected: list[str] | None
) -> None:
    response = search(api, recorded, order_by=order_by, max_results=10)

    if expected is None:
        by_id = sorted([(recorded.r1, R1), (recorded.r2, R2), (recorded.elk, ELK)])
        expected = [name for _, name in by_id]
    assert run_names(response) == expected


def test_search_runs_ties_are_broken_by_start_time_then_run_id(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment = ExperimentFactory(workspace=team_a)
    ids = [create_run(api, experiment, run_name=f"t{i}", start_time=5) for i in range(3)]
    log_batch(api, ids[0], metrics=[metric("m", 1.0)])

    response = search_runs(
        api, {"experiment_ids": [str(experiment.pk)], "order_by": ["metrics.m DESC"]}
    )

    assert response.status_code == 200
    returned = [run["info"]["run_id"] for run in response.json()["runs"]]
    assert returned == [ids[0], *sorted(ids[1:])]


def test_search_runs_order_by_metric_combined_with_filter(
    api: ApiClient, recorded: RecordedRuns
) -> None:
    # spec: examples/runs/search.json
    response = search(
        api,
        recorded,
        filter="metrics.m > 1 and params.p1 = 'v1'",
        order_by=["metrics.m DESC"],
        max_results=1,
        run_view_type="ACTIVE_ONLY",
    )

    assert response.status_code == 200
    body = response.json()
    assert "next_page_token" not in body
    (run,) = body["runs"]
    assert run["info"]["run_name"] == R1
    assert run["data"]["metrics"] == [
        {"key": "m", "value": 6.0, "timestamp": 1700000000004, "step": 4},
        {"key": "b", "value": 2.0, "timestamp": 1700000000001, "step": 1},
    ]
    assert run["data"]["params"] == [key_value("p1", "v1"), key_value("p2", "v2")]
    assert run["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "ds1"
    assert run["outputs"] == {}


# --- paging (examples/runs/search_paged.json) ---------------------------------------------------


def test_search_runs_pages_through_three_pages(api: ApiClient, recorded: RecordedRuns) -> None:
    first = search(api, recorded, max_results=1, filter="", run_view_type="ACTIVE_ONLY")
    token = first.json()["next_page_token"]
    second = search(api, recorded, max_results=1, page_token=token)
    third = search(api, recorded, max_results=1, page_token=second.json()["next_page_token"])

    assert token == "eyJvZmZzZXQiOiAxfQ=="
    assert run_names(first) == [R2]
    assert run_names(second) == [R1]
    assert second.json()["next_page_token"] == "eyJvZmZzZXQiOiAyfQ=="
    assert run_names(third) == [ELK]
    assert "next_page_token" not in third.json()


def test_search_runs_page_past_the_end_is_empty(api: ApiClient, recorded: RecordedRuns) -> None:
    response = search(api, recorded, page_token="eyJvZmZzZXQiOiAxMH0=")  # {"offset": 10}

    assert response.status_code == 200
    assert response.json() == {}


# --- view types (examples/runs/search_view_types.json) ------------------------------------------


def test_search_runs_view_types_by_name_and_number(api: ApiClient, recorded: RecordedRuns) -> None:
    call(api, "delete", {"run_id": recorded.r2})

    deleted_only = search(api, recorded, run_view_type="DELETED_ONLY")
    every = search(api, recorded, run_view_type=3)
    active = search(api, recorded)

    assert run_names(deleted_only) == [R2]
    assert run_names(every) == ALL
    assert run_names(active) == [R1, ELK]


def test_search_runs_with_no_matches_is_an_empty_object(
    api: ApiClient, recorded: RecordedRuns
) -> None:
    deleted_only = search(api, recorded, run_view_type="DELETED_ONLY")
    no_experiments = search_runs(api, {"experiment_ids": []})
    nothing_sent = search_runs(api, {})

    assert deleted_only.json() == {}
    assert no_experiments.json() == {}
    assert nothing_sent.json() == {}


# --- isolation ----------------------------------------------------------------------------------


def test_search_runs_never_returns_another_workspaces_runs(
    api: ApiClient, recorded: RecordedRuns, team_b: Workspace
) -> None:
    theirs = recorded_runs(api, team_b, name="b-exp")

    # team-b's experiment id passed explicitly from team-a is silently dropped
    mixed = search_runs(api, {"experiment_ids": [theirs.experiment_id, recorded.experiment_id]})
    only_theirs = search_runs(
        api, {"experiment_ids": [theirs.experiment_id], "filter": "params.p1 = 'v1'"}
    )
    ordered = search_runs(
        api,
        {
            "experiment_ids": [theirs.experiment_id, recorded.experiment_id],
            "order_by": ["metrics.m DESC", "params.p1", "tags.k"],
        },
    )
    from_b = search_runs(api, {"experiment_ids": [theirs.experiment_id]}, workspace="team-b")

    assert [run["info"]["run_id"] for run in mixed.json()["runs"]] == [
        recorded.r2,
        recorded.r1,
        recorded.elk,
    ]
    assert only_theirs.json() == {}
    assert [run["info"]["experiment_id"] for run in ordered.json()["runs"]] == [
        recorded.experiment_id
    ] * 3
    assert [run["info"]["run_id"] for run in from_b.json()["runs"]] == [
        theirs.r2,
        theirs.r1,
        theirs.elk,
    ]


def test_search_runs_in_the_default_workspace_does_not_see_team_a(
    api: ApiClient, recorded: RecordedRuns
) -> None:
    # spec: examples/runs/search_view_types.json, the same id from the default workspace
    response = search_runs(api, {"experiment_ids": [recorded.experiment_id]}, workspace="default")

    assert response.status_code == 200
    assert response.json() == {}


# --- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_search_runs_queries_do_not_grow_with_runs(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    experiment = ExperimentFactory(workspace=team_a)
    for index in range(count):
        run_id = create_run(api, experiment, run_name=f"q{index}", start_time=index)
        log_batch(
            api,
            run_id,
            metrics=[metric("m", index), metric("n", 1.0)],
            params=[key_value("p", "v"), key_value("q", "w")],
            tags=[key_value("t", "x")],
        )
    body = {
        "experiment_ids": [str(experiment.pk)],
        "filter": "metrics.m >= 0 and params.p = 'v' and tags.t LIKE 'x%'",
        "order_by": ["metrics.m DESC", "params.q", "tags.t"],
    }

    # the page, latest metrics, params, tags, dataset inputs, model links
    with django_assert_num_queries(6):
        response = search_runs(api, body)

    assert len(response.json()["runs"]) == count
