"""Model version endpoints: create, get, update, transition-stage, delete, tags, download URI.

spec: registry.md §3, examples/registry/create_model_version.json, model_version_get_update.json,
transition_stage.json, download_uri.json, version_numbering_and_aliases_on_versions.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import ModelVersionTag, RegisteredModelAlias
from tests.conftest import ApiClient
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    artifacts_source,
    create_model,
    create_version,
    get_model,
    get_version,
    invalid_parameter,
    not_found,
    ok,
)
from tracking.models import Run
from workspaces.context import in_workspace
from workspaces.models import Workspace


def transition(api: ApiClient, name: str, version: str, stage: str, archive: bool = False) -> Any:
    body = {"name": name, "version": version, "stage": stage, "archive_existing_versions": archive}
    return api.call("POST", f"{VERSIONS}/transition-stage", body, workspace="team-a")


def test_create_model_version_from_a_run(api: ApiClient, run_a: Run) -> None:
    # spec: examples/registry/create_model_version.json
    create_model(api, "reg-model")
    source = f"runs:/{run_a.run_uuid}/model"

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {
            "name": "reg-model",
            "source": source,
            "run_id": run_a.run_uuid,
            "tags": [{"key": "v", "value": "1"}],
            "description": "from run",
        },
        workspace="team-a",
    )

    created = ok(response)["model_version"]
    assert created == {
        "name": "reg-model",
        "version": "1",
        "creation_timestamp": created["creation_timestamp"],
        "last_updated_timestamp": created["creation_timestamp"],
        "current_stage": "None",
        "description": "from run",
        "source": source,
        "run_id": run_a.run_uuid,
        "status": "READY",
        "tags": [{"key": "v", "value": "1"}],
        "run_link": "",
    }
    model = ok(get_model(api, "reg-model"))["registered_model"]
    assert model["last_updated_timestamp"] == created["creation_timestamp"]
    assert model["latest_versions"] == [created]


def test_create_model_version_answers_what_get_reads_back(api: ApiClient, run_a: Run) -> None:
    create_model(api, "m")
    tags = [{"key": "k", "value": "1"}, {"key": "j", "value": "2"}, {"key": "k", "value": "3"}]

    created = create_version(
        api, "m", f"runs:/{run_a.run_uuid}/model", run_id=run_a.run_uuid, tags=tags
    )

    assert created["tags"] == [{"key": "k", "value": "3"}, {"key": "j", "value": "2"}]
    assert created == ok(get_version(api, "m", "1"))["model_version"]


@pytest.mark.parametrize("tag_count", [1, 3])
def test_create_model_version_queries_do_not_grow_with_tags(
    api: ApiClient, run_a: Run, django_assert_num_queries: Any, tag_count: int
) -> None:
    create_model(api, "m")
    body = {
        "name": "m",
        "source": f"runs:/{run_a.run_uuid}/model",
        "run_id": run_a.run_uuid,
        "tags": [{"key": f"k{index}", "value": "v"} for index in range(tag_count)],
    }

    # begin; the locked model with its run and whether a webhook subscribes; its counter;
    # the version; its tags; commit (no webhook, so nothing after the commit)
    with django_assert_num_queries(6):
        response = api.call("POST", f"{VERSIONS}/create", body, workspace="team-a")

    assert ok(response)["model_version"]["version"] == "1"


def test_create_model_version_keeps_run_link(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    created = create_version(api, "m", artifacts_source("team-a"), run_link="http://ui/run")

    assert created["run_link"] == "http://ui/run"
    assert created["run_id"] == ""


def test_create_model_version_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/errors.json
    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "nope", "source": "models:/m-44ff4f96d60c430e9eb03c827a914909"},
        workspace="team-a",
    )

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=nope not found")


def test_create_model_version_requires_source(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call("POST", f"{VERSIONS}/create", {"name": "m"}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Missing value for required parameter 'source'. See the API docs for more information "
        "about request parameters."
    )


def test_create_model_version_invalid_tag(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "m", "source": artifacts_source("team-a"), "tags": [{"key": "a/../b"}]},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Invalid value \"a/../b\" for parameter 'key' supplied: Names may be treated as files"
    )


def test_version_numbers_are_never_reused(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/version_numbering_and_aliases_on_versions.json
    create_model(api, "numbering")
    create_version(api, "numbering", artifacts_source("team-a"))
    create_version(api, "numbering", artifacts_source("team-a"))
    api.call(
        "DELETE", f"{VERSIONS}/delete", {"name": "numbering", "version": "2"}, workspace="team-a"
    )

    third = create_version(api, "numbering", artifacts_source("team-a"))

    assert third["version"] == "3"


def test_version_numbers_are_per_model(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "one")
    create_model(api, "two")
    create_version(api, "one", artifacts_source("team-a"))

    created = create_version(api, "two", artifacts_source("team-a"))

    assert created["version"] == "1"


def test_get_model_version_with_tags_and_aliases(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/version_numbering_and_aliases_on_versions.json
    create_model(api, "m")
    created = create_version(
        api, "m", artifacts_source("team-a"), tags=[{"key": "v", "value": "1"}]
    )
    api.call(
        "POST", f"{MODELS}/alias", {"name": "m", "alias": "a1", "version": "1"}, workspace="team-a"
    )

    response = get_version(api, "m", "1")

    assert ok(response) == {"model_version": {**created, "aliases": ["a1"]}}


@pytest.mark.parametrize(
    ("version", "status", "message"),
    [
        ("99", 404, "Model Version (name=m, version=99) not found"),
        ("abc", 400, "Parameter 'version' must be an integer, got 'abc'."),
    ],
)
def test_get_model_version_errors(
    api: ApiClient, team_a: Workspace, version: str, status: int, message: str
) -> None:
    # spec: examples/registry/errors.json
    create_model(api, "m")

    response = get_version(api, "m", version)

    assert response.status_code == status
    assert response.json()["message"] == message


def test_get_model_version_of_unknown_model_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = get_version(api, "nope", "1")

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=nope, version=1) not found")


def test_update_model_version_description(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/model_version_get_update.json
    create_model(api, "m")
    created = create_version(api, "m", artifacts_source("team-a"), description="from run")

    response = api.call(
        "PATCH",
        f"{VERSIONS}/update",
        {"name": "m", "version": "1", "description": "new desc"},
        workspace="team-a",
    )

    updated = ok(response)["model_version"]
    assert updated["description"] == "new desc"
    assert updated["last_updated_timestamp"] >= created["last_updated_timestamp"]
    assert ok(get_version(api, "m", "1"))["model_version"] == updated


def test_update_model_version_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "PATCH", f"{VERSIONS}/update", {"name": "m", "version": "3"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=m, version=3) not found")


def test_transition_stage_moves_the_version_and_the_model_time(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/registry/transition_stage.json
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = transition(api, "m", "1", "Staging")

    moved = ok(response)["model_version"]
    assert moved["current_stage"] == "Staging"
    model = ok(get_model(api, "m"))["registered_model"]
    assert model["last_updated_timestamp"] == moved["last_updated_timestamp"]


def test_transition_stage_is_case_insensitive(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = transition(api, "m", "1", "production")

    assert ok(response)["model_version"]["current_stage"] == "Production"


def test_transition_stage_archives_existing_versions(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    for _ in range(3):
        create_version(api, "m", artifacts_source("team-a"))
    transition(api, "m", "1", "Staging")
    transition(api, "m", "2", "Production")

    response = transition(api, "m", "3", "Staging", archive=True)

    assert ok(response)["model_version"]["current_stage"] == "Staging"
    stages = {
        version: ok(get_version(api, "m", version))["model_version"]["current_stage"]
        for version in ("1", "2", "3")
    }
    assert stages == {"1": "Archived", "2": "Production", "3": "Staging"}


def test_transition_stage_without_archiving_keeps_others(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))
    create_version(api, "m", artifacts_source("team-a"))
    transition(api, "m", "1", "Staging")

    transition(api, "m", "2", "Staging")

    assert ok(get_version(api, "m", "1"))["model_version"]["current_stage"] == "Staging"


def test_transition_stage_invalid_stage(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/transition_stage.json
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = transition(api, "m", "1", "Bogus")

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid Model Version stage: Bogus. Value must be one of None, Staging, Production, "
        "Archived."
    )


def test_transition_stage_archiving_needs_an_active_stage(
    api: ApiClient, team_a: Workspace
) -> None:
    # differs from reference: INTERNAL_ERROR (500) there.
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = transition(api, "m", "1", "archived", archive=True)

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Model version transition cannot archive existing model versions because 'archived' "
        "is not an Active stage. Valid stages are ['Staging', 'Production']"
    )


def test_delete_model_version_removes_it_with_tags_and_aliases(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"), tags=[{"key": "k", "value": "v"}])
    api.call(
        "POST", f"{MODELS}/alias", {"name": "m", "alias": "a1", "version": "1"}, workspace="team-a"
    )

    response = api.call(
        "DELETE", f"{VERSIONS}/delete", {"name": "m", "version": "1"}, workspace="team-a"
    )

    assert ok(response) == {}
    assert get_version(api, "m", "1").status_code == 404
    assert "aliases" not in ok(get_model(api, "m"))["registered_model"]
    with in_workspace(team_a):
        assert not ModelVersionTag.objects.exists()
        assert not RegisteredModelAlias.objects.exists()


def test_delete_model_version_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "DELETE", f"{VERSIONS}/delete", {"name": "m", "version": "1"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=m, version=1) not found")


def test_set_and_delete_model_version_tag(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/registry/tags.json
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"), tags=[{"key": "v", "value": "1"}])

    set_response = api.call(
        "POST",
        f"{VERSIONS}/set-tag",
        {"name": "m", "version": "1", "key": "quality", "value": "good"},
        workspace="team-a",
    )
    after_set = ok(get_version(api, "m", "1"))["model_version"]["tags"]
    delete_response = api.call(
        "DELETE",
        f"{VERSIONS}/delete-tag",
        {"name": "m", "version": "1", "key": "quality"},
        workspace="team-a",
    )
    after_delete = ok(get_version(api, "m", "1"))["model_version"]["tags"]

    assert ok(set_response) == {}
    assert ok(delete_response) == {}
    assert after_set == [{"key": "v", "value": "1"}, {"key": "quality", "value": "good"}]
    assert after_delete == [{"key": "v", "value": "1"}]


def test_set_model_version_tag_overwrites(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"), tags=[{"key": "v", "value": "1"}])

    api.call(
        "POST",
        f"{VERSIONS}/set-tag",
        {"name": "m", "version": "1", "key": "v", "value": "2"},
        workspace="team-a",
    )

    assert ok(get_version(api, "m", "1"))["model_version"]["tags"] == [{"key": "v", "value": "2"}]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"name": "m", "version": "9", "key": "k", "value": "v"},
            404,
            "Model Version (name=m, version=9) not found",
        ),
        (
            {"name": "m", "version": "x", "key": "k", "value": "v"},
            400,
            "Parameter 'version' must be an integer, got 'x'.",
        ),
        (
            {"name": "m", "version": "1", "key": "mlflow.prompt.text", "value": "x" * 100_001},
            400,
            "Prompt text exceeds max length of 100000 characters.",
        ),
    ],
)
def test_set_model_version_tag_errors(
    api: ApiClient, team_a: Workspace, body: dict[str, str], status: int, message: str
) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = api.call("POST", f"{VERSIONS}/set-tag", body, workspace="team-a")

    assert response.status_code == status
    assert response.json()["message"] == message


def test_delete_model_version_tag_missing_tag_is_not_an_error(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "m")
    create_version(api, "m", artifacts_source("team-a"))

    response = api.call(
        "DELETE",
        f"{VERSIONS}/delete-tag",
        {"name": "m", "version": "1", "key": "nope"},
        workspace="team-a",
    )

    assert ok(response) == {}


def test_download_uri_of_a_run_source_is_the_source(api: ApiClient, run_a: Run) -> None:
    # spec: examples/registry/download_uri.json
    create_model(api, "m")
    source = f"runs:/{run_a.run_uuid}/model"
    create_version(api, "m", source, run_id=run_a.run_uuid)

    response = api.call(
        "GET",
        f"{VERSIONS}/get-download-uri",
        workspace="team-a",
        query={"name": "m", "version": "1"},
    )

    assert ok(response) == {"artifact_uri": source}


def test_download_uri_of_a_copied_version_is_the_original_location(
    api: ApiClient, team_a: Workspace
) -> None:
    create_model(api, "original")
    create_version(api, "original", artifacts_source("team-a", "7/model"))
    create_model(api, "copy")
    create_version(api, "copy", "models:/original/1")

    response = api.call(
        "GET",
        f"{VERSIONS}/get-download-uri",
        workspace="team-a",
        query={"name": "copy", "version": "1"},
    )

    assert ok(response) == {"artifact_uri": artifacts_source("team-a", "7/model")}


def test_download_uri_unknown_version_is_404(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "m")

    response = api.call(
        "GET",
        f"{VERSIONS}/get-download-uri",
        workspace="team-a",
        query={"name": "m", "version": "1"},
    )

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=m, version=1) not found")
