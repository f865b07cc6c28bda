"""Workspace isolation of the registry: team-b's models, versions, aliases, tags and prompts are
never visible or writable from team-a, and the same names live in both. spec: registry.md
(preamble), examples/workspaces/registered_model_name_per_workspace.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import ModelVersion, RegisteredModel, RegisteredModelAlias, RegisteredModelTag
from tests.conftest import ApiClient
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    artifacts_source,
    create_model,
    create_version,
    get_model,
    ok,
)
from workspaces.context import across_workspaces
from workspaces.models import Workspace

SECRET_TAG = {"key": "secret", "value": "b-only"}


@pytest.fixture
def team_b_registry(api: ApiClient, team_a: Workspace, team_b: Workspace) -> None:
    """team-b holds model ``shared`` (v1 aliased ``champion``, tagged) and prompt ``b-prompt``;
    team-a has nothing."""
    create_model(api, "shared", workspace="team-b", tags=[SECRET_TAG])
    create_version(api, "shared", artifacts_source("team-b"), workspace="team-b", tags=[SECRET_TAG])
    ok(
        api.call(
            "POST",
            f"{MODELS}/alias",
            {"name": "shared", "alias": "champion", "version": "1"},
            workspace="team-b",
        )
    )
    prompt_tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    create_model(api, "b-prompt", workspace="team-b", tags=[prompt_tag])
    create_version(api, "b-prompt", "dummy-source", workspace="team-b", tags=[prompt_tag])


NOT_FOUND_MODEL = "Registered Model with name={} not found"
NOT_FOUND_VERSION = "Model Version (name={}, version=1) not found"

# (method, path, body or query, expected message) of every endpoint naming a model.
CALLS: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", f"{MODELS}/get", {"name": "shared"}, NOT_FOUND_MODEL),
    ("PATCH", f"{MODELS}/update", {"name": "shared", "description": "x"}, NOT_FOUND_MODEL),
    ("POST", f"{MODELS}/rename", {"name": "shared", "new_name": "mine"}, NOT_FOUND_MODEL),
    ("DELETE", f"{MODELS}/delete", {"name": "shared"}, NOT_FOUND_MODEL),
    ("POST", f"{MODELS}/get-latest-versions", {"name": "shared"}, NOT_FOUND_MODEL),
    ("GET", f"{MODELS}/get-latest-versions", {"name": "shared"}, NOT_FOUND_MODEL),
    ("POST", f"{MODELS}/set-tag", {"name": "shared", "key": "k", "value": "v"}, NOT_FOUND_MODEL),
    ("DELETE", f"{MODELS}/delete-tag", {"name": "shared", "key": "secret"}, NOT_FOUND_MODEL),
    (
        "POST",
        f"{MODELS}/alias",
        {"name": "shared", "alias": "mine", "version": "1"},
        NOT_FOUND_VERSION,
    ),
    ("DELETE", f"{MODELS}/alias", {"name": "shared", "alias": "champion"}, NOT_FOUND_MODEL),
    ("GET", f"{MODELS}/alias", {"name": "shared", "alias": "champion"}, NOT_FOUND_MODEL),
    ("GET", f"{MODELS}/alias", {"name": "shared", "alias": "latest"}, NOT_FOUND_MODEL),
    (
        "POST",
        f"{VERSIONS}/create",
        {"name": "shared", "source": artifacts_source("team-a")},
        NOT_FOUND_MODEL,
    ),
    ("GET", f"{VERSIONS}/get", {"name": "shared", "version": "1"}, NOT_FOUND_VERSION),
    (
        "PATCH",
        f"{VERSIONS}/update",
        {"name": "shared", "version": "1", "description": "x"},
        NOT_FOUND_VERSION,
    ),
    (
        "POST",
        f"{VERSIONS}/transition-stage",
        {
            "name": "shared",
            "version": "1",
            "stage": "Production",
            "archive_existing_versions": True,
        },
        NOT_FOUND_VERSION,
    ),
    ("DELETE", f"{VERSIONS}/delete", {"name": "shared", "version": "1"}, NOT_FOUND_VERSION),
    (
        "GET",
        f"{VERSIONS}/get-download-uri",
        {"name": "shared", "version": "1"},
        NOT_FOUND_VERSION,
    ),
    (
        "POST",
        f"{VERSIONS}/set-tag",
        {"name": "shared", "version": "1", "key": "k", "value": "v"},
        NOT_FOUND_VERSION,
    ),
    (
        "DELETE",
        f"{VERSIONS}/delete-tag",
        {"name": "shared", "version": "1", "key": "secret"},
        NOT_FOUND_VERSION,
    ),
    ("GET", f"{MODELS}/get", {"name": "b-prompt"}, NOT_FOUND_MODEL),
    ("GET", f"{MODELS}/alias", {"name": "b-prompt", "alias": "latest"}, NOT_FOUND_MODEL),
]


def _snapshot() -> list[Any]:
    with across_workspaces("test inspection"):
        return [
            list(RegisteredModel.objects.order_by("pk").values()),
            list(RegisteredModelTag.objects.order_by("pk").values()),
            list(ModelVersion.objects.order_by("pk").values()),
            list(RegisteredModelAlias.objects.order_by("pk").values()),
        ]


@pytest.mark.parametrize(("method", "path", "payload", "message"), CALLS)
def test_team_b_resources_do_not_exist_in_team_a(
    api: ApiClient,
    team_b_registry: None,
    method: str,
    path: str,
    payload: dict[str, Any],
    message: str,
) -> None:
    before = _snapshot()

    if method == "GET":
        response = api.call(method, path, workspace="team-a", query=payload)
    else:
        response = api.call(method, path, payload, workspace="team-a")

    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert response.json()["message"] == message.format(payload["name"])
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (f"{MODELS}/search", {}),
        (f"{MODELS}/search", {"filter": "tags.`mlflow.prompt.is_prompt` = 'true'"}),
        (f"{MODELS}/search", {"filter": "tags.secret = 'b-only'"}),
        (f"{VERSIONS}/search", {}),
        (f"{VERSIONS}/search", {"filter": "tags.`mlflow.prompt.is_prompt` = 'true'"}),
        (f"{VERSIONS}/search", {"filter": "name = 'shared'"}),
    ],
)
def test_team_b_resources_never_appear_in_team_a_searches(
    api: ApiClient, team_b_registry: None, path: str, query: dict[str, str]
) -> None:
    response = api.call("GET", path, workspace="team-a", query=query)

    assert ok(response) == {}


def test_same_names_live_in_both_workspaces(api: ApiClient, team_b_registry: None) -> None:
    create_model(api, "shared", workspace="team-a")
    create_version(api, "shared", artifacts_source("team-a"), workspace="team-a")
    ok(
        api.call(
            "POST",
            f"{MODELS}/alias",
            {"name": "shared", "alias": "champion", "version": "1"},
            workspace="team-a",
        )
    )

    mine = ok(get_model(api, "shared", workspace="team-a"))["registered_model"]
    theirs = ok(get_model(api, "shared", workspace="team-b"))["registered_model"]

    assert "tags" not in mine
    assert theirs["tags"] == [SECRET_TAG]
    assert mine["latest_versions"][0]["source"] == artifacts_source("team-a")
    assert theirs["latest_versions"][0]["source"] == artifacts_source("team-b")
    deleted = api.call("DELETE", f"{MODELS}/delete", {"name": "shared"}, workspace="team-a")
    assert ok(deleted) == {}
    assert ok(get_model(api, "shared", workspace="team-b"))["registered_model"] == theirs


def test_a_prompt_name_of_team_b_is_free_in_team_a(api: ApiClient, team_b_registry: None) -> None:
    created = create_model(api, "b-prompt", workspace="team-a")

    assert created["name"] == "b-prompt"


def test_rename_onto_a_name_only_team_b_has_is_allowed(
    api: ApiClient, team_b_registry: None
) -> None:
    create_model(api, "mine", workspace="team-a")

    response = api.call(
        "POST", f"{MODELS}/rename", {"name": "mine", "new_name": "shared"}, workspace="team-a"
    )

    assert ok(response)["registered_model"]["name"] == "shared"
    assert "tags" in ok(get_model(api, "shared", workspace="team-b"))["registered_model"]


def test_version_numbers_are_independent_per_workspace(
    api: ApiClient, team_b_registry: None
) -> None:
    create_model(api, "shared", workspace="team-a")

    created = create_version(api, "shared", artifacts_source("team-a"), workspace="team-a")

    assert created["version"] == "1"
