"""Registered model aliases: set, move, get (``latest`` included), delete, and their errors.

spec: registry.md §2, examples/registry/aliases.json, alias_errors.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.registry.conftest import (
    MODELS,
    artifacts_source,
    create_model,
    create_version,
    get_model,
    get_version,
    invalid_parameter,
    not_found,
    ok,
)
from workspaces.models import Workspace


def set_alias(api: ApiClient, name: str, alias: str, version: str) -> Any:
    body = {"name": name, "alias": alias, "version": version}
    return api.call("POST", f"{MODELS}/alias", body, workspace="team-a")


def get_alias(api: ApiClient, name: str, alias: str) -> Any:
    query = {"name": name, "alias": alias}
    return api.call("GET", f"{MODELS}/alias", workspace="team-a", query=query)


@pytest.fixture
def two_versions(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))
    create_version(api, "m", artifacts_source("team-a"))


def test_set_and_get_alias(api: ApiClient, two_versions: None) -> None:
    # spec: examples/registry/aliases.json
    response = set_alias(api, "m", "prod", "2")

    fetched = get_alias(api, "m", "prod")

    assert ok(response) == {}
    version = ok(fetched)["model_version"]
    assert (version["version"], version["aliases"]) == ("2", ["prod"])
    assert ok(get_model(api, "m"))["registered_model"]["aliases"] == [
        {"alias": "prod", "version": "2"}
    ]


def test_setting_an_alias_again_moves_it(api: ApiClient, two_versions: None) -> None:
    set_alias(api, "m", "prod", "1")

    set_alias(api, "m", "prod", "2")

    assert ok(get_alias(api, "m", "prod"))["model_version"]["version"] == "2"
    assert "aliases" not in ok(get_version(api, "m", "1"))["model_version"]
    assert ok(get_model(api, "m"))["registered_model"]["aliases"] == [
        {"alias": "prod", "version": "2"}
    ]


def test_a_version_lists_all_its_aliases(api: ApiClient, two_versions: None) -> None:
    set_alias(api, "m", "champion", "1")
    set_alias(api, "m", "stable", "1")

    version = ok(get_version(api, "m", "1"))["model_version"]

    assert version["aliases"] == ["champion", "stable"]


def test_alias_names_are_case_sensitive(api: ApiClient, two_versions: None) -> None:
    set_alias(api, "m", "Prod", "1")
    set_alias(api, "m", "prod", "2")

    assert ok(get_alias(api, "m", "Prod"))["model_version"]["version"] == "1"
    assert ok(get_alias(api, "m", "prod"))["model_version"]["version"] == "2"


def test_latest_resolves_to_the_highest_version(api: ApiClient, two_versions: None) -> None:
    # spec: examples/registry/aliases.json, examples/prompts/load_latest.json
    set_alias(api, "m", "first", "1")

    latest = ok(get_alias(api, "m", "latest"))["model_version"]
    upper = ok(get_alias(api, "m", "LATEST"))["model_version"]

    assert latest["version"] == "2"
    assert upper == latest
    assert "aliases" not in latest


def test_latest_skips_deleted_versions(api: ApiClient, two_versions: None) -> None:
    api.call(
        "DELETE",
        "/api/2.0/mlflow/model-versions/delete",
        {"name": "m", "version": "2"},
        workspace="team-a",
    )

    assert ok(get_alias(api, "m", "latest"))["model_version"]["version"] == "1"


def test_latest_of_a_model_without_versions_is_404(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "empty")

    response = get_alias(api, "empty", "latest")

    assert response.status_code == 404
    assert response.json() == not_found("Latest version not found for model empty.")


def test_delete_alias(api: ApiClient, two_versions: None) -> None:
    set_alias(api, "m", "prod", "1")

    response = api.call(
        "DELETE", f"{MODELS}/alias", {"name": "m", "alias": "prod"}, workspace="team-a"
    )

    assert ok(response) == {}
    assert get_alias(api, "m", "prod").json() == invalid_parameter(
        "Registered model alias prod not found."
    )


def test_delete_missing_alias_is_not_an_error(api: ApiClient, two_versions: None) -> None:
    response = api.call(
        "DELETE", f"{MODELS}/alias", {"name": "m", "alias": "nope"}, workspace="team-a"
    )

    assert ok(response) == {}


def test_delete_alias_of_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "DELETE", f"{MODELS}/alias", {"name": "nope", "alias": "a"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


@pytest.mark.parametrize(
    ("alias", "version", "status", "message"),
    [
        # spec: examples/registry/alias_errors.json
        ("latest", "1", 400, "'latest' alias name (case insensitive) is reserved."),
        ("Latest", "1", 400, "'latest' alias name (case insensitive) is reserved."),
        ("v1", "1", 400, "Version alias name 'v1' is reserved."),
        ("V12", "1", 400, "Version alias name 'V12' is reserved."),
        (
            "bad alias!",
            "1",
            400,
            "Invalid alias name: 'bad alias!'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-).",
        ),
        (
            "a" * 256,
            "1",
            400,
            "'Registered model alias name' exceeds the maximum length of 255 characters",
        ),
        ("ok", "42", 404, "Model Version (name=m, version=42) not found"),
        ("ok", "x", 400, "Parameter 'version' must be an integer, got 'x'."),
    ],
)
def test_set_alias_errors(
    api: ApiClient, two_versions: None, alias: str, version: str, status: int, message: str
) -> None:
    response = set_alias(api, "m", alias, version)

    assert response.status_code == status
    assert response.json()["message"] == message


def test_set_alias_on_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = set_alias(api, "nope", "a", "1")

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=nope, version=1) not found")


def test_get_unknown_alias_is_400(api: ApiClient, two_versions: None) -> None:
    # spec: examples/registry/alias_errors.json (400, not 404)
    response = get_alias(api, "m", "nosuch")

    assert response.status_code == 400
    assert response.json() == invalid_parameter("Registered model alias nosuch not found.")


def test_get_alias_of_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = get_alias(api, "nope", "a")

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_get_alias_with_an_invalid_name_is_400(api: ApiClient, two_versions: None) -> None:
    response = get_alias(api, "m", "no way")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid alias name: 'no way'.")
