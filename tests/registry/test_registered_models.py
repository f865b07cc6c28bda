"""Registered model endpoints: create, get, update, rename, delete, tags, latest versions.

spec: registry.md §2, examples/registry/create_get_update.json, rename_delete.json, tags.json,
errors.json, get_latest_versions.json, version_numbering_and_aliases_on_versions.json.
"""

from __future__ import annotations

import pytest

from registry.models import ModelVersion, RegisteredModel, RegisteredModelTag
from tests.conftest import ApiClient
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    already_exists,
    artifacts_source,
    create_model,
    create_version,
    get_model,
    invalid_parameter,
    not_found,
    ok,
)
from workspaces.context import in_workspace
from workspaces.models import Workspace


def test_create_registered_model_returns_it_with_tags_and_description(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/create_get_update.json
    body = {"name": "reg-model", "tags": [{"key": "domain", "value": "nlp"}], "description": "A"}

    response = api.call("POST", f"{MODELS}/create", body, workspace="team-a")

    created = ok(response)["registered_model"]
    assert created == {
        "name": "reg-model",
        "creation_timestamp": created["creation_timestamp"],
        "last_updated_timestamp": created["creation_timestamp"],
        "description": "A",
        "tags": [{"key": "domain", "value": "nlp"}],
    }
    with in_workspace(team_a):
        assert RegisteredModel.objects.get().creation_timestamp == created["creation_timestamp"]


def test_create_registered_model_minimal_omits_empty_fields(
    api: ApiClient, team_a: Workspace
) -> None:
    created = create_model(api, "tmp-a")

    assert set(created) == {"name", "creation_timestamp", "last_updated_timestamp"}


def test_create_registered_model_duplicate_tag_keys_keep_the_last_value(
    api: ApiClient, team_a: Workspace
) -> None:
    tags = [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}, {"key": "a", "value": "3"}]

    created = create_model(api, "m", tags=tags)

    assert created["tags"] == [{"key": "a", "value": "3"}, {"key": "b", "value": "2"}]


def test_get_registered_model_returns_what_create_returned(
    api: ApiClient, team_a: Workspace
) -> None:
    created = create_model(api, "reg-model", tags=[{"key": "domain", "value": "nlp"}])

    response = get_model(api, "reg-model")

    assert ok(response) == {"registered_model": created}


def test_get_registered_model_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = get_model(api, "nope")

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_get_registered_model_name_is_case_sensitive(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "Model")

    response = get_model(api, "model")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad/name", "Invalid model name 'bad/name'. Names cannot contain '/' or ':'."),
        ("bad:name", "Invalid model name 'bad:name'. Names cannot contain '/' or ':'."),
        (
            "",
            "Missing value for required parameter 'name'. See the API docs for more information "
            "about request parameters.",
        ),
        (
            "   ",
            "Missing value for required parameter 'name'. See the API docs for more information "
            "about request parameters.",
        ),
        (
            "a" * 257,
            "'name' exceeds the maximum length of 256 characters",
        ),
    ],
)
def test_create_registered_model_invalid_names(
    api: ApiClient, team_a: Workspace, name: str, message: str
) -> None:
    # spec: examples/registry/errors.json
    response = api.call("POST", f"{MODELS}/create", {"name": name}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)


def test_create_registered_model_path_like_name_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    response = api.call("POST", f"{MODELS}/create", {"name": ".."}, workspace="team-a")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid value \"..\" for parameter 'name'")


def test_create_registered_model_duplicate_is_refused(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/workspaces/registered_model_name_per_workspace.json
    create_model(api, "iris-clf")

    response = api.call("POST", f"{MODELS}/create", {"name": "iris-clf"}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == already_exists("Registered Model (name=iris-clf) already exists.")


def test_create_registered_model_same_name_differing_in_case_is_allowed(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "iris")

    created = create_model(api, "IRIS")

    assert created["name"] == "IRIS"


def test_create_model_with_a_prompt_name_explains_the_clash(
    api: ApiClient, team_a: Workspace
) -> None:
    prompt_tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    create_model(api, "qa", tags=[prompt_tag])

    as_model = api.call("POST", f"{MODELS}/create", {"name": "qa"}, workspace="team-a")
    as_prompt = api.call(
        "POST", f"{MODELS}/create", {"name": "qa", "tags": [prompt_tag]}, workspace="team-a"
    )

    assert as_model.json() == already_exists(
        "Tried to create a registered model with name 'qa', but the name is already taken by a "
        "prompt. MLflow does not allow creating a model and a prompt with the same name."
    )
    assert as_prompt.json() == already_exists("Prompt (name=qa) already exists.")


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            {"key": "bad$", "value": "x"},
            "Invalid value \"bad$\" for parameter 'key' supplied: Names may only contain "
            "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
            "slashes (/).",
        ),
        ({"key": "k" * 251, "value": "x"}, "'key' exceeds the maximum length of 250 characters"),
        (
            {"key": "k", "value": "v" * 100_001},
            "'value' exceeds the maximum length of 100000 characters",
        ),
    ],
)
def test_create_registered_model_invalid_tags(
    api: ApiClient, team_a: Workspace, tag: dict[str, str], message: str
) -> None:
    response = api.call(
        "POST", f"{MODELS}/create", {"name": "m", "tags": [tag]}, workspace="team-a"
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)
    with in_workspace(team_a):
        assert not RegisteredModel.objects.exists()


def test_update_registered_model_sets_description_and_time(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/create_get_update.json
    created = create_model(api, "reg-model", description="A model")

    response = api.call(
        "PATCH",
        f"{MODELS}/update",
        {"name": "reg-model", "description": "Updated description"},
        workspace="team-a",
    )

    updated = ok(response)["registered_model"]
    assert updated["description"] == "Updated description"
    assert updated["last_updated_timestamp"] >= created["last_updated_timestamp"]
    assert ok(get_model(api, "reg-model"))["registered_model"] == updated


def test_update_registered_model_returns_latest_versions(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/version_numbering_and_aliases_on_versions.json
    create_model(api, "numbering")
    version = create_version(api, "numbering", artifacts_source("team-a"))

    response = api.call(
        "PATCH", f"{MODELS}/update", {"name": "numbering", "description": "d"}, workspace="team-a"
    )

    assert ok(response)["registered_model"]["latest_versions"] == [version]


def test_update_registered_model_without_description_clears_it(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m", description="old")

    response = api.call("PATCH", f"{MODELS}/update", {"name": "m"}, workspace="team-a")

    assert "description" not in ok(response)["registered_model"]


def test_update_registered_model_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "PATCH", f"{MODELS}/update", {"name": "nope", "description": "x"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_update_registered_model_needs_patch(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"{MODELS}/update", {"name": "m"}, workspace="team-a")

    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_rename_registered_model_moves_versions_tags_and_aliases(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/rename_delete.json
    create_model(api, "reg-model", tags=[{"key": "domain", "value": "nlp"}])
    create_version(api, "reg-model", artifacts_source("team-a"))
    api.call(
        "POST",
        f"{MODELS}/alias",
        {"name": "reg-model", "alias": "prod", "version": "1"},
        workspace="team-a",
    )

    response = api.call(
        "POST",
        f"{MODELS}/rename",
        {"name": "reg-model", "new_name": "reg-model-2"},
        workspace="team-a",
    )

    renamed = ok(response)["registered_model"]
    stamp = renamed["last_updated_timestamp"]
    assert renamed["name"] == "reg-model-2"
    assert renamed["tags"] == [{"key": "domain", "value": "nlp"}]
    assert renamed["aliases"] == [{"alias": "prod", "version": "1"}]
    assert [(v["name"], v["last_updated_timestamp"]) for v in renamed["latest_versions"]] == [
        ("reg-model-2", stamp)
    ]
    assert get_model(api, "reg-model").status_code == 404
    assert ok(get_model(api, "reg-model-2"))["registered_model"] == renamed


def test_rename_registered_model_onto_a_taken_name_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/errors.json (the database's own text follows "Error: ")
    create_model(api, "iris-clf")
    create_model(api, "tmp-a")

    response = api.call(
        "POST", f"{MODELS}/rename", {"name": "tmp-a", "new_name": "iris-clf"}, workspace="team-a"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert body["message"].startswith("Registered Model (name=iris-clf) already exists. Error: ")
    assert ok(get_model(api, "tmp-a"))["registered_model"]["name"] == "tmp-a"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "m", "new_name": ""},
            "Missing value for required parameter 'new_name'. See the API docs for more "
            "information about request parameters.",
        ),
        (
            {"name": "m", "new_name": "a/b"},
            "Invalid model name 'a/b'. Names cannot contain '/' or ':'.",
        ),
    ],
)
def test_rename_registered_model_invalid_new_name(
    api: ApiClient, team_a: Workspace, body: dict[str, str], message: str
) -> None:
    create_model(api, "m")

    response = api.call("POST", f"{MODELS}/rename", body, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message)


def test_rename_registered_model_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST", f"{MODELS}/rename", {"name": "nope", "new_name": "x"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_delete_registered_model_deletes_versions_tags_and_aliases(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/rename_delete.json
    create_model(api, "reg-model", tags=[{"key": "k", "value": "v"}])
    create_version(api, "reg-model", artifacts_source("team-a"), tags=[{"key": "v", "value": "1"}])

    response = api.call("DELETE", f"{MODELS}/delete", {"name": "reg-model"}, workspace="team-a")

    assert ok(response) == {}
    assert get_model(api, "reg-model").json() == not_found(
        "Registered Model with name=reg-model not found"
    )
    with in_workspace(team_a):
        assert not ModelVersion.objects.exists()
        assert not RegisteredModelTag.objects.exists()


def test_delete_registered_model_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/errors.json
    response = api.call("DELETE", f"{MODELS}/delete", {"name": "nope"}, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_set_registered_model_tag_adds_and_overwrites_in_place(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/tags.json (last_updated_timestamp does not move)
    created = create_model(api, "reg-model", tags=[{"key": "domain", "value": "nlp"}])

    first = api.call(
        "POST",
        f"{MODELS}/set-tag",
        {"name": "reg-model", "key": "owner", "value": "carol"},
        workspace="team-a",
    )
    api.call(
        "POST",
        f"{MODELS}/set-tag",
        {"name": "reg-model", "key": "domain", "value": "cv"},
        workspace="team-a",
    )

    assert ok(first) == {}
    fetched = ok(get_model(api, "reg-model"))["registered_model"]
    assert fetched["tags"] == [
        {"key": "domain", "value": "cv"},
        {"key": "owner", "value": "carol"},
    ]
    assert fetched["last_updated_timestamp"] == created["last_updated_timestamp"]


def test_set_registered_model_tag_without_value_sets_empty_string(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m")

    api.call("POST", f"{MODELS}/set-tag", {"name": "m", "key": "flag"}, workspace="team-a")

    assert ok(get_model(api, "m"))["registered_model"]["tags"] == [{"key": "flag", "value": ""}]


def test_set_registered_model_tag_invalid_key(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/errors.json
    create_model(api, "tmp-a")

    response = api.call(
        "POST",
        f"{MODELS}/set-tag",
        {"name": "tmp-a", "key": "bad$", "value": "x"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid value \"bad$\" for parameter 'key' supplied: Names may only contain "
        "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
        "slashes (/)."
    )


def test_set_registered_model_tag_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST", f"{MODELS}/set-tag", {"name": "nope", "key": "k", "value": "v"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_set_registered_model_tag_requires_key(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"{MODELS}/set-tag", {"name": "m"}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Missing value for required parameter 'key'. See the API docs for more information "
        "about request parameters."
    )


def test_delete_registered_model_tag(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m", tags=[{"key": "owner", "value": "carol"}, {"key": "k", "value": "v"}])

    response = api.call(
        "DELETE", f"{MODELS}/delete-tag", {"name": "m", "key": "owner"}, workspace="team-a"
    )

    assert ok(response) == {}
    assert ok(get_model(api, "m"))["registered_model"]["tags"] == [{"key": "k", "value": "v"}]


def test_delete_registered_model_tag_missing_tag_is_not_an_error(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m")

    response = api.call(
        "DELETE", f"{MODELS}/delete-tag", {"name": "m", "key": "nope"}, workspace="team-a"
    )

    assert ok(response) == {}


def test_delete_registered_model_tag_unknown_model_is_404(
    api: ApiClient, team_a: Workspace
) -> None:
    response = api.call(
        "DELETE", f"{MODELS}/delete-tag", {"name": "nope", "key": "k"}, workspace="team-a"
    )

    assert response.status_code == 404


def test_get_latest_versions_per_stage(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/get_latest_versions.json
    create_model(api, "m")
    for _ in range(4):
        create_version(api, "m", artifacts_source("team-a"))
    for version, stage in (("1", "Archived"), ("2", "Staging"), ("3", "Staging")):
        api.call(
            "POST",
            f"{VERSIONS}/transition-stage",
            {"name": "m", "version": version, "stage": stage, "archive_existing_versions": False},
            workspace="team-a",
        )

    posted = api.call(
        "POST",
        f"{MODELS}/get-latest-versions",
        {"name": "m", "stages": ["Staging", "archived"]},
        workspace="team-a",
    )
    everything = api.call(
        "GET", f"{MODELS}/get-latest-versions", workspace="team-a", query={"name": "m"}
    )
    production = api.call(
        "GET",
        f"{MODELS}/get-latest-versions",
        workspace="team-a",
        query={"name": "m", "stages": "Production"},
    )

    assert [(v["version"], v["current_stage"]) for v in ok(posted)["model_versions"]] == [
        ("1", "Archived"),
        ("3", "Staging"),
    ]
    assert [(v["version"], v["current_stage"]) for v in ok(everything)["model_versions"]] == [
        ("1", "Archived"),
        ("3", "Staging"),
        ("4", "None"),
    ]
    assert ok(production) == {}


def test_get_latest_versions_include_aliases(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))
    api.call(
        "POST", f"{MODELS}/alias", {"name": "m", "alias": "a1", "version": "1"}, workspace="team-a"
    )

    response = api.call(
        "GET", f"{MODELS}/get-latest-versions", workspace="team-a", query={"name": "m"}
    )

    assert ok(response)["model_versions"][0]["aliases"] == ["a1"]


def test_get_latest_versions_invalid_stage(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "POST",
        f"{MODELS}/get-latest-versions",
        {"name": "m", "stages": ["Bogus"]},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid Model Version stage: Bogus. Value must be one of None, Staging, Production, "
        "Archived."
    )


def test_get_latest_versions_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST", f"{MODELS}/get-latest-versions", {"name": "nope"}, workspace="team-a"
    )

    assert response.status_code == 404


def test_registered_model_latest_versions_follow_stage_and_deletion(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/rename_delete.json
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))
    create_version(api, "m", artifacts_source("team-a"))
    api.call(
        "POST",
        f"{VERSIONS}/transition-stage",
        {"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": False},
        workspace="team-a",
    )
    before = ok(get_model(api, "m"))["registered_model"]

    api.call("DELETE", f"{VERSIONS}/delete", {"name": "m", "version": "1"}, workspace="team-a")

    after = ok(get_model(api, "m"))["registered_model"]
    assert [(v["version"], v["current_stage"]) for v in before["latest_versions"]] == [
        ("1", "Staging"),
        ("2", "None"),
    ]
    assert [v["version"] for v in after["latest_versions"]] == ["2"]
    assert after["last_updated_timestamp"] >= before["last_updated_timestamp"]


def test_registry_routes_exist_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "GET", "/ajax-api/2.0/mlflow/registered-models/get", workspace="team-a", query={"name": "m"}
    )

    assert ok(response)["registered_model"]["name"] == "m"
