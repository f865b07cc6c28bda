"""Searching registered models and model versions: filters, prompts, ordering, paging, errors,
and query counts. spec: search.md §4-5, §7-8, examples/registry/search_*.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import ModelVersion
from tests.conftest import ApiClient
from tests.factories import (
    ModelVersionFactory,
    ModelVersionTagFactory,
    RegisteredModelAliasFactory,
    RegisteredModelFactory,
    RegisteredModelTagFactory,
)
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    artifacts_source,
    create_model,
    create_version,
    invalid_parameter,
    ok,
)
from workspaces.context import across_workspaces
from workspaces.models import Workspace

PROMPT_TAG = {"key": "mlflow.prompt.is_prompt", "value": "true"}
NOT_PROMPT = "tag.`mlflow.prompt.is_prompt` != 'true'"


def search_models(api: ApiClient, **query: Any) -> Any:
    return api.call("GET", f"{MODELS}/search", workspace="team-a", query=query)


def search_versions(api: ApiClient, **query: Any) -> Any:
    return api.call("GET", f"{VERSIONS}/search", workspace="team-a", query=query)


def model_names(response: Any) -> list[str]:
    return [model["name"] for model in ok(response).get("registered_models", [])]


def version_keys(response: Any) -> list[tuple[str, str]]:
    return [(v["name"], v["version"]) for v in ok(response).get("model_versions", [])]


@pytest.fixture
def registry(api: ApiClient, team_a: Workspace) -> None:
    """iris-clf (v1, v2), tmp-a (v1, Production), prompts qa-prompt (v1, v2) and chat-prompt."""
    create_model(api, "iris-clf", tags=[{"key": "team", "value": "a"}])
    create_version(api, "iris-clf", artifacts_source("team-a", "1/m1"))
    create_version(api, "iris-clf", artifacts_source("team-a", "1/m2"))
    create_model(api, "tmp-a")
    create_version(api, "tmp-a", artifacts_source("team-a", "2/tmp"))
    api.call(
        "POST",
        f"{VERSIONS}/transition-stage",
        {
            "name": "tmp-a",
            "version": "1",
            "stage": "Production",
            "archive_existing_versions": False,
        },
        workspace="team-a",
    )
    create_model(api, "qa-prompt", tags=[PROMPT_TAG, {"key": "team", "value": "a"}])
    create_version(api, "qa-prompt", "dummy-source", tags=[PROMPT_TAG])
    create_version(api, "qa-prompt", "dummy-source", tags=[PROMPT_TAG])
    create_model(api, "chat-prompt", tags=[PROMPT_TAG])
    create_version(api, "chat-prompt", "dummy-source", tags=[PROMPT_TAG])
    # Fixed update times, so the default order (newest update first) is deterministic.
    stamps = {
        ("iris-clf", 1): 1000,
        ("qa-prompt", 1): 1500,
        ("iris-clf", 2): 2000,
        ("qa-prompt", 2): 2500,
        ("tmp-a", 1): 3000,
        ("chat-prompt", 1): 3500,
    }
    with across_workspaces("test data"):
        for (name, number), stamp in stamps.items():
            ModelVersion.objects.filter(registered_model__name=name, version=number).update(
                last_updated_timestamp=stamp
            )


# --- registered models: filters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # spec: search.md §8
        ("tags.`mlflow.prompt.is_prompt` != 'true'", ["iris-clf", "tmp-a"]),
        ("tags.`mlflow.prompt.is_prompt` = 'false'", ["iris-clf", "tmp-a"]),
        ("tags.`mlflow.prompt.is_prompt` = 'true'", ["chat-prompt", "qa-prompt"]),
        ("tags.`mlflow.prompt.is_prompt` != 'false'", ["chat-prompt", "qa-prompt"]),
        ("tag.`mlflow.prompt.is_prompt` = 'TRUE'", []),  # asks for prompts; values compare exactly
        ("name IN ('iris-clf', 'tmp-a')", ["iris-clf", "tmp-a"]),
        ("name NOT IN ('iris-clf')", ["tmp-a"]),
        ("", ["iris-clf", "tmp-a"]),
        ("name LIKE 'iris%'", ["iris-clf"]),
        ("name LIKE 'IRIS%'", []),
        ("name ILIKE 'IRIS%'", ["iris-clf"]),
        ("name = 'tmp-a'", ["tmp-a"]),
        ("name != 'tmp-a'", ["iris-clf"]),
        ("name = 'TMP-A'", []),
        ("attribute.name = 'tmp-a'", ["tmp-a"]),
        ('name = "tmp-a"', ["tmp-a"]),
        ("tags.team = 'a'", ["iris-clf"]),
        ("tags.team = 'a' AND tags.`mlflow.prompt.is_prompt` = 'true'", ["qa-prompt"]),
        (f"name LIKE 'i%' AND {NOT_PROMPT}", ["iris-clf"]),
        ("tags.team != 'b'", ["iris-clf"]),
        ("tags.nokey != 'x'", []),
        ("tags.team LIKE '%'", ["iris-clf"]),
        ("name = 'qa-prompt'", []),
        ("name = 'x' and", []),
    ],
)
def test_search_registered_models_filters(
    api: ApiClient, registry: None, filter_string: str, expected: list[str]
) -> None:
    response = search_models(api, filter=filter_string)

    assert model_names(response) == expected


def test_search_registered_models_shape_matches_get(api: ApiClient, registry: None) -> None:
    # spec: examples/registry/search_registered_models.json
    api.call(
        "POST",
        f"{MODELS}/alias",
        {"name": "iris-clf", "alias": "champion", "version": "1"},
        workspace="team-a",
    )
    fetched = ok(api.call("GET", f"{MODELS}/get", workspace="team-a", query={"name": "iris-clf"}))

    response = search_models(api, filter="name = 'iris-clf'", max_results=10)

    assert ok(response) == {"registered_models": [fetched["registered_model"]]}
    latest = fetched["registered_model"]["latest_versions"]
    assert [v["version"] for v in latest] == ["2"]
    assert "aliases" not in latest[0]


def test_search_registered_models_no_match_is_empty_object(api: ApiClient, registry: None) -> None:
    response = search_models(api, filter="name = 'nothing'")

    assert ok(response) == {}


# --- registered models: ordering and paging -------------------------------------------------


def test_search_registered_models_default_order_is_name(api: ApiClient, team_a: Workspace) -> None:
    for name in ("b", "c", "a"):
        create_model(api, name)

    response = search_models(api)

    assert model_names(response) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["last_updated_timestamp DESC"], ["second", "first", "third"]),
        (["timestamp ASC"], ["third", "first", "second"]),
        (["name DESC"], ["third", "second", "first"]),
        (["`name` ASC"], ["first", "second", "third"]),
        (["last_updated_timestamp DESC", "name"], ["second", "first", "third"]),
    ],
)
def test_search_registered_models_order_by(
    api: ApiClient, team_a: Workspace, order_by: list[str], expected: list[str]
) -> None:
    RegisteredModelFactory(workspace=team_a, name="first", last_updated_timestamp=20)
    RegisteredModelFactory(workspace=team_a, name="second", last_updated_timestamp=30)
    RegisteredModelFactory(workspace=team_a, name="third", last_updated_timestamp=10)

    response = search_models(api, order_by=order_by)

    assert model_names(response) == expected


def test_search_registered_models_pages(api: ApiClient, registry: None) -> None:
    # spec: examples/registry/search_registered_models.json
    first = search_models(api, filter=NOT_PROMPT, max_results=1)
    token = ok(first)["next_page_token"]
    second = search_models(api, filter=NOT_PROMPT, max_results=1, page_token=token)

    assert model_names(first) == ["iris-clf"]
    assert token == "eyJvZmZzZXQiOiAxfQ=="
    assert model_names(second) == ["tmp-a"]
    assert "next_page_token" not in ok(second)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # spec: examples/registry/search_errors.json
        (
            {"filter": "description = 'x'"},
            "Invalid attribute key 'description' specified. Valid keys are '{'name'}'",
        ),
        ({"filter": "name = 'x' OR name = 'y'"}, "Invalid clause(s) in filter string: OR"),
        (
            {"max_results": "1001"},
            "Invalid value \"1001\" for parameter 'max_results' supplied:  Hint: Value was of "
            "type 'str'. See the API docs for more information about request parameters.",
        ),
        (
            {"order_by": "bogus ASC"},
            "Invalid order by key 'bogus' specified. Valid keys are '{'timestamp', 'name'}'",
        ),
        (
            {"order_by": "creation_timestamp"},
            "Invalid order by key 'creation_timestamp' specified. Valid keys are "
            "'{'timestamp', 'name'}'",
        ),
        (
            {"order_by": "name SIDEWAYS"},
            "Invalid ordering key in order_by clause 'name SIDEWAYS'.",
        ),
        (
            {"order_by": ["timestamp", "last_updated_timestamp DESC"]},
            "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp DESC']",
        ),
        (
            {"filter": "metrics.x > 1"},
            "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')",
        ),
        (
            {"filter": "tags.team IS NULL"},
            "Invalid comparator for tag: IS NULL",
        ),
        (
            {"filter": "tags.team IN ('a')"},
            "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')",
        ),
        (
            {"filter": "name > 'a'"},
            "Invalid comparator for attribute: >",
        ),
        (
            {"filter": "name = 1"},
            "Expected a quoted string value or a list of quoted string values for attributes. "
            "Got value 1",
        ),
        (
            {"filter": "name = iris"},
            "Parameter value is either not quoted or unidentified quote types used for string "
            "value iris. Use either single or double quotes.",
        ),
        ({"page_token": "abc"}, "Invalid page token, could not base64-decode"),
        (
            {"max_results": "0"},
            "Invalid value for max_results. It must be a positive integer, but got 0",
        ),
    ],
)
def test_search_registered_models_errors(
    api: ApiClient, team_a: Workspace, query: dict[str, Any], message: str
) -> None:
    response = search_models(api, **query)

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)


# --- model versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # spec: search.md §8, examples/registry/search_model_versions.json
        ("name = 'iris-clf'", [("iris-clf", "2"), ("iris-clf", "1")]),
        ("version_number >= 2", [("iris-clf", "2")]),
        ("version_number = '2'", [("iris-clf", "2")]),
        ("name ILIKE 'IRIS%'", [("iris-clf", "2"), ("iris-clf", "1")]),
        ("name = 'iris-clf' AND version_number > 1", [("iris-clf", "2")]),
        ("run_id IN ('x')", []),
        ("run_id = ''", [("tmp-a", "1"), ("iris-clf", "2"), ("iris-clf", "1")]),
        ("source_path LIKE '%/1/%'", [("iris-clf", "2"), ("iris-clf", "1")]),
        ("source_path = 'mlflow-artifacts:/workspaces/team-a/2/tmp'", [("tmp-a", "1")]),
        ("name IN ('tmp-a', 'nope')", [("tmp-a", "1")]),
        ("name NOT IN ('tmp-a')", [("iris-clf", "2"), ("iris-clf", "1")]),
        (
            "tags.`mlflow.prompt.is_prompt` = 'false'",
            [("tmp-a", "1"), ("iris-clf", "2"), ("iris-clf", "1")],
        ),
        (
            "tags.`mlflow.prompt.is_prompt` = 'true'",
            [("chat-prompt", "1"), ("qa-prompt", "2"), ("qa-prompt", "1")],
        ),
        (
            "tags.`mlflow.prompt.is_prompt` = 'true' AND name = 'qa-prompt' AND version_number = 1",
            [("qa-prompt", "1")],
        ),
    ],
)
def test_search_model_versions_filters(
    api: ApiClient, registry: None, filter_string: str, expected: list[tuple[str, str]]
) -> None:
    response = search_versions(api, filter=filter_string)

    assert version_keys(response) == expected


def test_search_model_versions_default_order_is_newest_update_first(
    api: ApiClient, registry: None
) -> None:
    # spec: examples/registry/search_model_versions.json (prompt versions are left out)
    response = search_versions(api)

    assert version_keys(response) == [("tmp-a", "1"), ("iris-clf", "2"), ("iris-clf", "1")]


def test_search_model_versions_shape_has_tags_but_no_aliases(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m")
    created = create_version(
        api, "m", artifacts_source("team-a"), tags=[{"key": "v", "value": "1"}]
    )
    api.call(
        "POST", f"{MODELS}/alias", {"name": "m", "alias": "a1", "version": "1"}, workspace="team-a"
    )

    response = search_versions(api, filter="name='m'")

    assert ok(response) == {"model_versions": [created]}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["version_number DESC"], [("a", "2"), ("b", "2"), ("a", "1"), ("b", "1")]),
        (["version_number ASC"], [("a", "1"), ("b", "1"), ("a", "2"), ("b", "2")]),
        (["name DESC"], [("b", "2"), ("b", "1"), ("a", "2"), ("a", "1")]),
        (["creation_timestamp ASC"], [("a", "1"), ("b", "1"), ("a", "2"), ("b", "2")]),
        (["last_updated_timestamp DESC"], [("b", "2"), ("a", "2"), ("b", "1"), ("a", "1")]),
    ],
)
def test_search_model_versions_order_by(
    api: ApiClient, team_a: Workspace, order_by: list[str], expected: list[tuple[str, str]]
) -> None:
    a = RegisteredModelFactory(workspace=team_a, name="a")
    b = RegisteredModelFactory(workspace=team_a, name="b")
    for number, stamp in ((1, 10), (2, 30)):
        ModelVersionFactory(
            registered_model=a,
            version=number,
            creation_timestamp=stamp,
            last_updated_timestamp=stamp,
        )
        ModelVersionFactory(
            registered_model=b,
            version=number,
            creation_timestamp=stamp + 5,
            last_updated_timestamp=stamp + 5,
        )

    response = search_versions(api, order_by=order_by)

    assert version_keys(response) == expected


def test_search_model_versions_pages(api: ApiClient, registry: None) -> None:
    # spec: examples/registry/search_model_versions.json
    first = search_versions(api, filter="source_path LIKE 'mlflow-artifacts:%'", max_results=1)
    token = ok(first)["next_page_token"]
    rest = search_versions(
        api, filter="source_path LIKE 'mlflow-artifacts:%'", max_results=5, page_token=token
    )

    assert token == "eyJvZmZzZXQiOiAxfQ=="
    assert version_keys(first) == [("tmp-a", "1")]
    assert version_keys(rest) == [("iris-clf", "2"), ("iris-clf", "1")]
    assert "next_page_token" not in ok(rest)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # spec: examples/registry/search_errors.json, search.md §5
        (
            {"filter": "metrics.x > 1"},
            "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')",
        ),
        (
            {"max_results": "200001"},
            "Invalid value \"200001\" for parameter 'max_results' supplied:  Hint: Value was of "
            "type 'str'. See the API docs for more information about request parameters.",
        ),
        (
            {"filter": "current_stage = 'None'"},
            "Invalid attribute key 'current_stage' specified. Valid keys are "
            "'{'source_path', 'run_id', 'version_number', 'name'}'",
        ),
        (
            {"filter": "version_number = 'x'"},
            "Invalid value for numeric attribute 'version_number': 'x'",
        ),
        (
            {"filter": "version_number = 1.5"},
            "Invalid value for numeric attribute 'version_number': 1.5",
        ),
        (
            {"filter": "version_number LIKE '1'"},
            "Invalid comparator for attribute version_number: LIKE",
        ),
        (
            {"filter": "source_path IN ('a')"},
            "Only ['name', 'run_id'] attributes support comparison with a list of quoted string "
            "values.",
        ),
        (
            {"filter": "name = 1"},
            "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' "
            "attributes support comparison with numeric values.",
        ),
        ({"filter": "tags.k IS NOT NULL"}, "Invalid comparator for tag: IS NOT NULL"),
        ({"filter": "name = 'a' OR name = 'b'"}, "Invalid clause(s) in filter string: OR"),
        (
            {"order_by": "current_stage"},
            "Invalid attribute key 'current_stage' specified. Valid keys are "
            "'{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'",
        ),
        ({"order_by": "tags.k"}, "Invalid order_by entity: tag"),
        (
            {"order_by": ["name", "name DESC"]},
            "`order_by` contains duplicate fields: ['name', 'name DESC']",
        ),
        (
            {"max_results": "0"},
            "Invalid value for max_results. It must be a positive integer, but got 0",
        ),
    ],
)
def test_search_model_versions_errors(
    api: ApiClient, team_a: Workspace, query: dict[str, Any], message: str
) -> None:
    response = search_versions(api, **query)

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)


# --- query counts -----------------------------------------------------------------------------


def _models_with_everything(workspace: Workspace, count: int) -> None:
    for index in range(count):
        model = RegisteredModelFactory(workspace=workspace, name=f"model-{index}")
        RegisteredModelTagFactory(registered_model=model, key="team", value="a")
        RegisteredModelTagFactory(registered_model=model, key="other", value="b")
        first = ModelVersionFactory(registered_model=model)
        ModelVersionTagFactory(model_version=first, key="k", value="v")
        second = ModelVersionFactory(registered_model=model, current_stage="Staging")
        ModelVersionTagFactory(model_version=second, key="k", value="v")
        RegisteredModelAliasFactory(model_version=first, alias="champion")


@pytest.mark.parametrize("count", [1, 3])
def test_search_registered_models_queries_do_not_grow(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    _models_with_everything(team_a, count)

    # workspace, the page, tags, aliases, latest versions, their tags
    with django_assert_num_queries(6):
        response = search_models(api, filter=f"tags.team = 'a' AND {NOT_PROMPT}")

    models = ok(response)["registered_models"]
    assert len(models) == count
    assert all(len(m["latest_versions"]) == 2 and len(m["tags"]) == 2 for m in models)
    assert all(m["aliases"] == [{"alias": "champion", "version": "1"}] for m in models)


@pytest.mark.parametrize("count", [1, 3])
def test_search_model_versions_queries_do_not_grow(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    _models_with_everything(team_a, count)

    # workspace, the page (with model names), their tags
    with django_assert_num_queries(3):
        response = search_versions(api, filter="name LIKE 'model-%'")

    versions = ok(response)["model_versions"]
    assert len(versions) == 2 * count
    assert all(v["tags"] == [{"key": "k", "value": "v"}] for v in versions)


@pytest.mark.parametrize("count", [1, 3])
def test_search_registered_models_without_tags_or_aliases_skips_their_queries(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    for index in range(count):
        model = RegisteredModelFactory(workspace=team_a, name=f"model-{index}")
        ModelVersionFactory(registered_model=model)
        ModelVersionFactory(registered_model=model, current_stage="Staging")
    tagged = RegisteredModelFactory(workspace=team_a, name="tagged")
    RegisteredModelTagFactory(registered_model=tagged, key="team", value="a")

    # workspace, the page (saying which models have tags or aliases), latest versions (saying
    # which have tags)
    with django_assert_num_queries(3):
        response = search_models(api, filter="name LIKE 'model-%'")

    models = ok(response)["registered_models"]
    assert [len(m["latest_versions"]) for m in models] == [2] * count
    assert all("tags" not in m and "aliases" not in m for m in models)
    assert all("tags" not in v for m in models for v in m["latest_versions"])


@pytest.mark.parametrize("count", [1, 3])
def test_search_model_versions_without_tags_skips_the_tag_query(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    for index in range(count):
        ModelVersionFactory(
            registered_model=RegisteredModelFactory(workspace=team_a, name=f"m{index}")
        )
    ModelVersionTagFactory(
        model_version=ModelVersionFactory(
            registered_model=RegisteredModelFactory(workspace=team_a, name="tagged")
        )
    )

    # workspace, the page (saying which versions have tags)
    with django_assert_num_queries(2):
        response = search_versions(api, filter="name LIKE 'm%'")

    versions = ok(response)["model_versions"]
    assert len(versions) == count
    assert all("tags" not in v for v in versions)


@pytest.mark.parametrize("count", [1, 3])
def test_get_registered_model_queries_do_not_grow_with_versions(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m")
    for stage in ["None", "Staging", "Production"][:count]:
        version = ModelVersionFactory(registered_model=model, current_stage=stage)
        ModelVersionTagFactory(model_version=version)
        RegisteredModelAliasFactory(model_version=version)

    # workspace, the model, tags, aliases, latest versions, their tags
    with django_assert_num_queries(6):
        response = api.call("GET", f"{MODELS}/get", workspace="team-a", query={"name": "m"})

    assert len(ok(response)["registered_model"]["latest_versions"]) == count


def test_search_selectors_apply_a_visibility_condition(team_a: Workspace) -> None:
    from django.db.models import Q

    from registry.selectors.search import model_version_search, registered_model_search
    from workspaces.context import in_workspace

    for name in ("a", "b", "c"):
        ModelVersionFactory(registered_model=RegisteredModelFactory(workspace=team_a, name=name))

    with in_workspace(team_a):
        models = registered_model_search(max_results=1, visible=Q(name__in=["b", "c"]))
        versions = model_version_search(visible=Q(registered_model__name="c"))

    assert [item.model.name for item in models.items] == ["b"]
    assert models.next_page_token is not None
    assert [item.version.registered_model.name for item in versions.items] == ["c"]


@pytest.mark.parametrize("count", [1, 3])
def test_get_latest_versions_queries_do_not_grow(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m")
    for stage in ["None", "Staging", "Production"][:count]:
        version = ModelVersionFactory(registered_model=model, current_stage=stage)
        ModelVersionTagFactory(model_version=version)
        RegisteredModelAliasFactory(model_version=version)

    # workspace, the model, latest versions, their tags, their aliases
    with django_assert_num_queries(5):
        response = api.call(
            "POST", f"{MODELS}/get-latest-versions", {"name": "m"}, workspace="team-a"
        )

    assert [len(v["aliases"]) for v in ok(response)["model_versions"]] == [1] * count
