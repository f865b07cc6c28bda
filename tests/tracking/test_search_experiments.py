"""experiments/search over the wire: filters, errors, ordering, paging, view types, isolation.

spec: search.md §1, §3, §7, §8; examples/experiments/search_*.json,
examples/search/experiments_*.json, examples/wire/request_parsing.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tests.tracking.test_search_support import (
    experiment_names,
    invalid,
    search_experiments,
)
from tracking.models import DELETED, Experiment, ExperimentTag
from workspaces.context import across_workspaces
from workspaces.models import Workspace

DEMO, TRACKING, TO_DELETE, MODELS = "demo-exp", "tracking-exp-renamed", "to-delete", "models-exp"
NEWEST_FIRST = [MODELS, TO_DELETE, TRACKING, DEMO]


@dataclass(frozen=True)
class RecordedExperiments:
    """The experiments of the recorded examples, oldest first, and a deleted one."""

    demo: Experiment
    tracking: Experiment
    to_delete: Experiment
    models: Experiment
    deleted: Experiment


def make_experiment(
    workspace: Workspace,
    name: str,
    created: int,
    updated: int,
    tags: dict[str, str] | None = None,
    **fields: Any,
) -> Experiment:
    experiment = ExperimentFactory(
        workspace=workspace,
        name=name,
        creation_time=created,
        last_update_time=updated,
        artifact_location=f"mlflow-artifacts:/workspaces/{workspace.name}/{name}",
        **fields,
    )
    with across_workspaces("test data"):
        for key, value in (tags or {}).items():
            ExperimentTag.objects.create(
                workspace=workspace, experiment=experiment, key=key, value=value
            )
    return experiment


def recorded_experiments(workspace: Workspace) -> RecordedExperiments:
    """demo-exp (tag team=a), tracking-exp-renamed (owner=alice), to-delete, models-exp, and
    the deleted dup-del, with the recorded relative creation and update times."""
    return RecordedExperiments(
        demo=make_experiment(workspace, DEMO, 1000, 1000, {"team": "a"}),
        tracking=make_experiment(workspace, TRACKING, 2000, 2400, {"owner": "alice"}),
        to_delete=make_experiment(workspace, TO_DELETE, 3000, 3100),
        models=make_experiment(workspace, MODELS, 4000, 4000),
        deleted=make_experiment(workspace, "dup-del", 5000, 5000, lifecycle_stage=DELETED),
    )


@pytest.fixture
def recorded(team_a: Workspace, default_workspace: Workspace) -> RecordedExperiments:
    return recorded_experiments(team_a)


# --- filters (examples/search/experiments_filter_semantics.json) --------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'demo-exp'", [DEMO]),
        ("name LIKE 'DEMO%'", []),
        ("name ILIKE 'DEMO%'", [DEMO]),
        ("name LIKE 'demo%'", [DEMO]),
        ("creation_time > 0", NEWEST_FIRST),
        ("tags.team = 'a'", [DEMO]),
        ("tags.team IS NULL", [MODELS, TO_DELETE, TRACKING]),
        ("tags.team IS NOT NULL", [DEMO]),
        ("tags.`team` LIKE 'a'", [DEMO]),
        ("tags.team != 'b'", [DEMO]),  # experiments without the tag never match
        ("tag.owner ILIKE 'ALI%'", [TRACKING]),
        ("attribute.name != 'demo-exp'", [MODELS, TO_DELETE, TRACKING]),
        ("last_update_time >= 0", NEWEST_FIRST),
        ("last_update_time < 2400", [DEMO]),
        ("creation_time = 3000", [TO_DELETE]),
        ("creation_time != 3000", [MODELS, TRACKING, DEMO]),
        ("name LIKE '%-exp%' AND creation_time > 1000", [MODELS, TRACKING]),
        ("", NEWEST_FIRST),
    ],
)
def test_search_experiments_filter_matches_the_recorded_experiments(
    api: ApiClient, recorded: RecordedExperiments, filter_string: str, expected: list[str]
) -> None:
    response = search_experiments(api, {"filter": filter_string, "max_results": 100})

    assert experiment_names(response) == expected


def test_search_experiments_filter_by_experiment_id(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    demo_id, tracking_id = recorded.demo.pk, recorded.tracking.pk

    one = search_experiments(api, {"filter": f"experiment_id = '{demo_id}'", "max_results": 100})
    listed = search_experiments(
        api, {"filter": f"experiment_id IN ('{demo_id}','{tracking_id}')", "max_results": 100}
    )
    excluded = search_experiments(
        api, {"filter": f"experiment_id NOT IN ('{demo_id}')", "max_results": 100}
    )
    not_equal = search_experiments(
        api, {"filter": f"experiment_id != '{demo_id}'", "max_results": 100}
    )

    assert experiment_names(one) == [DEMO]
    assert experiment_names(listed) == [TRACKING, DEMO]
    assert experiment_names(excluded) == [MODELS, TO_DELETE, TRACKING]
    assert experiment_names(not_equal) == [MODELS, TO_DELETE, TRACKING]


def test_search_experiments_renders_experiments_as_mlflow(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    # spec: examples/experiments/search_post.json
    response = search_experiments(
        api,
        {
            "max_results": 10,
            "filter": "name LIKE 'tracking%'",
            "order_by": ["name ASC"],
            "view_type": "ACTIVE_ONLY",
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "experiments": [
            {
                "experiment_id": str(recorded.tracking.pk),
                "name": TRACKING,
                "artifact_location": f"mlflow-artifacts:/workspaces/team-a/{TRACKING}",
                "lifecycle_stage": "active",
                "last_update_time": 2400,
                "creation_time": 2000,
                "tags": [{"key": "owner", "value": "alice"}],
                "workspace": "team-a",
            }
        ]
    }


# --- errors (examples/experiments/search_errors.json) ------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"filter": "foo.bar = 'x'", "max_results": 100},
            "Invalid entity type 'foo'. Valid entity types are ('attribute', 'tag', 'tags')",
        ),
        (
            {"filter": "attributes.name = 'x'", "max_results": 100},
            "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')",
        ),
        (
            {"max_results": 0},
            "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer",
        ),
        (
            {"max_results": 50001},
            "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000",
        ),
        (
            {},
            "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer",
        ),
        (
            {"max_results": 10, "order_by": ["foo DESC"]},
            "Invalid attribute key 'foo' specified. Valid keys are "
            "'{'experiment_id', 'creation_time', 'last_update_time', 'name'}'",
        ),
        (
            {"max_results": 10, "order_by": ["tags.team"]},
            "Invalid order_by entity: tag",
        ),
        (
            {"max_results": 10, "page_token": "garbage"},
            "Invalid page token, could not base64-decode",
        ),
        (
            {"max_results": 10, "page_token": "Z2FyYmFnZQ=="},
            "Invalid page token, decoded value=b'garbage'",
        ),
        (
            {"max_results": 10, "page_token": "eyJvZmZzZXQiOiAwfQ=="},
            "Invalid page token, parsed value={'offset': 0}",
        ),
        (
            {"filter": "name IN ('demo-exp')", "max_results": 100},
            "Only ['experiment_id'] attributes support comparison with a list of quoted "
            "string values.",
        ),
        (
            {"filter": "experiment_id > 0", "max_results": 100},
            "Expected a quoted string value for attributes. Got value 0",
        ),
        (
            {"filter": "experiment_id = 'abc'", "max_results": 100},
            "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.",
        ),
        (
            {"filter": "name = 'a' OR name = 'b'", "max_results": 100},
            "Invalid clause(s) in filter string: OR",
        ),
        (
            {"filter": "name IS NULL", "max_results": 100},
            "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'",
        ),
        (
            {"filter": "creation_time > 1.5", "max_results": 100},
            "Invalid value for numeric attribute 'creation_time': '1.5'",
        ),
        (
            {"filter": "tags.team > 'a'", "max_results": 100},
            "Invalid comparator for tag: >",
        ),
    ],
)
def test_search_experiments_rejects_bad_requests_with_mlflow_messages(
    api: ApiClient, recorded: RecordedExperiments, body: dict[str, Any], message: str
) -> None:
    response = search_experiments(api, body)

    assert response.status_code == 400
    assert response.json() == invalid(message)


def test_search_experiments_without_a_body_needs_max_results(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    # spec: examples/wire/request_parsing.json (POST with no body at all)
    response = api.call(
        "POST",
        "/api/2.0/mlflow/experiments/search",
        workspace="team-a",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == invalid(
        "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer"
    )


# --- order_by (examples/search/experiments_order_by.json) --------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["name DESC"], [TRACKING, TO_DELETE, MODELS, DEMO]),
        (["last_update_time ASC"], [DEMO, TRACKING, TO_DELETE, MODELS]),
        (["experiment_id"], [DEMO, TRACKING, TO_DELETE, MODELS]),
        (["creation_time DESC", "name"], [MODELS, TO_DELETE, TRACKING, DEMO]),
        (["attribute.name"], [DEMO, MODELS, TO_DELETE, TRACKING]),
        (["`name` desc"], [TRACKING, TO_DELETE, MODELS, DEMO]),
        ([], NEWEST_FIRST),
    ],
)
def test_search_experiments_order_by_variants(
    api: ApiClient, recorded: RecordedExperiments, order_by: list[str], expected: list[str]
) -> None:
    response = search_experiments(api, {"order_by": order_by, "max_results": 100})

    assert experiment_names(response) == expected


def test_search_experiments_ties_are_broken_by_experiment_id_descending(
    api: ApiClient, team_a: Workspace
) -> None:
    made = [make_experiment(team_a, f"same-{index}", 7, 7) for index in range(3)]

    response = search_experiments(api, {"max_results": 10, "order_by": ["creation_time"]})

    assert experiment_names(response) == [e.name for e in reversed(made)]


# --- GET, paging and view types (examples/experiments/search_get.json, wire/request_parsing) ---


def test_search_experiments_get_with_repeated_order_by_and_a_page_token(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    first = search_experiments(
        api, max_results="2", order_by=["name ASC", "experiment_id DESC"], view_type="ALL"
    )

    assert experiment_names(first) == ["demo-exp", "dup-del"]
    assert first.json()["next_page_token"] == "eyJvZmZzZXQiOiAyfQ=="


def test_search_experiments_pages_through_three_pages(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    first = search_experiments(api, max_results="1")
    second = search_experiments(api, max_results="1", page_token=first.json()["next_page_token"])
    rest = search_experiments(api, max_results="2", page_token=second.json()["next_page_token"])

    assert experiment_names(first) == [MODELS]
    assert first.json()["next_page_token"] == "eyJvZmZzZXQiOiAxfQ=="
    assert experiment_names(second) == [TO_DELETE]
    assert second.json()["next_page_token"] == "eyJvZmZzZXQiOiAyfQ=="
    assert experiment_names(rest) == [TRACKING, DEMO]
    assert "next_page_token" not in rest.json()


@pytest.mark.parametrize("view_type", ["3", "ALL"])
def test_search_experiments_view_type_by_number_or_name_over_get(
    api: ApiClient, recorded: RecordedExperiments, view_type: str
) -> None:
    response = search_experiments(api, max_results="5", view_type=view_type)

    assert experiment_names(response) == ["dup-del", *NEWEST_FIRST]


def test_search_experiments_deleted_only(api: ApiClient, recorded: RecordedExperiments) -> None:
    response = search_experiments(api, {"max_results": 10, "view_type": "DELETED_ONLY"})

    assert experiment_names(response) == ["dup-del"]


def test_search_experiments_accepts_max_results_as_a_string(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    response = search_experiments(api, {"max_results": "2"})

    assert experiment_names(response) == [MODELS, TO_DELETE]
    assert response.json()["next_page_token"] == "eyJvZmZzZXQiOiAyfQ=="


def test_search_experiments_with_no_matches_is_an_empty_object(
    api: ApiClient, recorded: RecordedExperiments
) -> None:
    response = search_experiments(api, {"max_results": 10, "filter": "name = 'nope'"})

    assert response.status_code == 200
    assert response.json() == {}


def test_search_experiments_under_ajax_api(api: ApiClient, recorded: RecordedExperiments) -> None:
    response = api.call(
        "POST", "/ajax-api/2.0/mlflow/experiments/search", {"max_results": 1}, workspace="team-a"
    )

    assert experiment_names(response) == [MODELS]


# --- isolation ----------------------------------------------------------------------------------


def test_search_experiments_never_returns_another_workspaces_experiments(
    api: ApiClient, recorded: RecordedExperiments, team_b: Workspace
) -> None:
    theirs = make_experiment(team_b, DEMO, 9000, 9000, {"team": "a"})

    everything = search_experiments(api, {"max_results": 100, "view_type": "ALL"})
    by_their_id = search_experiments(
        api, {"max_results": 100, "filter": f"experiment_id IN ('{theirs.pk}')"}
    )
    by_tag = search_experiments(api, {"max_results": 100, "filter": "tags.team = 'a'"})
    from_b = search_experiments(api, {"max_results": 100}, workspace="team-b")

    assert experiment_names(everything) == ["dup-del", *NEWEST_FIRST]
    assert by_their_id.json() == {}
    assert [e["experiment_id"] for e in by_tag.json()["experiments"]] == [str(recorded.demo.pk)]
    assert [e["experiment_id"] for e in from_b.json()["experiments"]] == [str(theirs.pk)]


# --- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_search_experiments_queries_do_not_grow_with_experiments(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    for index in range(count):
        make_experiment(team_a, f"exp-{index}", index, index, {"team": "a", "other": "b"})
    body = {
        "max_results": 100,
        "filter": "tags.team = 'a' and name LIKE 'exp-%'",
        "order_by": ["name DESC"],
    }

    # workspace, the page, its tags
    with django_assert_num_queries(3):
        response = search_experiments(api, body)

    assert len(response.json()["experiments"]) == count
    assert all(len(e["tags"]) == 2 for e in response.json()["experiments"])
