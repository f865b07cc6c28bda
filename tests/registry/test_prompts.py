"""Prompts over the wire: registered models and versions marked by tags, as the client sends
them. spec: registry.md §5, examples/prompts/*.json, examples/flows/register_and_load_prompt.json.
"""

from __future__ import annotations

import json

from tests.conftest import ApiClient
from tests.registry.conftest import MODELS, VERSIONS, create_model, get_model, get_version, ok
from workspaces.models import Workspace

IS_PROMPT = {"key": "mlflow.prompt.is_prompt", "value": "true"}


def register_v1(api: ApiClient) -> None:
    """The requests of ``register_prompt(name="qa-prompt", ..., tags={"team": "a"})``."""
    assert get_model(api, "qa-prompt").status_code == 404
    create_model(
        api, "qa-prompt", tags=[IS_PROMPT, {"key": "team", "value": "a"}], description="first"
    )
    ok(
        api.call(
            "POST",
            f"{VERSIONS}/create",
            {
                "name": "qa-prompt",
                "source": "dummy-source",
                "tags": [
                    {"key": "team", "value": "a"},
                    IS_PROMPT,
                    {"key": "_mlflow_prompt_type", "value": "text"},
                    {"key": "mlflow.prompt.text", "value": "Answer {{question}} briefly."},
                ],
                "description": "first",
            },
            workspace="team-a",
        )
    )


def register_v2(api: ApiClient) -> dict[str, object]:
    ok(
        api.call(
            "POST",
            f"{MODELS}/set-tag",
            {"name": "qa-prompt", "key": "_mlflow_experiment_ids", "value": ",0,"},
            workspace="team-a",
        )
    )
    created: dict[str, object] = ok(
        api.call(
            "POST",
            f"{VERSIONS}/create",
            {
                "name": "qa-prompt",
                "source": "dummy-source",
                "tags": [
                    IS_PROMPT,
                    {"key": "_mlflow_prompt_type", "value": "text"},
                    {"key": "mlflow.prompt.text", "value": "Answer {{question}} in detail."},
                ],
                "description": "second",
            },
            workspace="team-a",
        )
    )["model_version"]
    return created


def test_register_prompt_v1_and_v2(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/register_prompt_v1.json, register_prompt_v2.json
    register_v1(api)

    v2 = register_v2(api)

    assert v2 == {
        "name": "qa-prompt",
        "version": "2",
        "creation_timestamp": v2["creation_timestamp"],
        "last_updated_timestamp": v2["creation_timestamp"],
        "current_stage": "None",
        "description": "second",
        "source": "dummy-source",
        "run_id": "",
        "status": "READY",
        "tags": [
            IS_PROMPT,
            {"key": "_mlflow_prompt_type", "value": "text"},
            {"key": "mlflow.prompt.text", "value": "Answer {{question}} in detail."},
        ],
        "run_link": "",
    }
    prompt = ok(get_model(api, "qa-prompt"))["registered_model"]
    assert prompt["description"] == "first"
    assert prompt["tags"] == [
        IS_PROMPT,
        {"key": "team", "value": "a"},
        {"key": "_mlflow_experiment_ids", "value": ",0,"},
    ]
    assert prompt["latest_versions"] == [v2]
    assert prompt["last_updated_timestamp"] == v2["creation_timestamp"]


def test_load_prompt_by_version_alias_and_latest(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/set_alias_and_load.json, load_latest.json
    register_v1(api)
    register_v2(api)
    ok(
        api.call(
            "POST",
            f"{MODELS}/alias",
            {"name": "qa-prompt", "alias": "production", "version": "1"},
            workspace="team-a",
        )
    )

    by_version = ok(get_version(api, "qa-prompt", "1"))["model_version"]
    by_alias = ok(
        api.call(
            "GET",
            f"{MODELS}/alias",
            workspace="team-a",
            query={"name": "qa-prompt", "alias": "production"},
        )
    )["model_version"]
    latest = ok(
        api.call(
            "GET",
            f"{MODELS}/alias",
            workspace="team-a",
            query={"name": "qa-prompt", "alias": "latest"},
        )
    )["model_version"]

    assert by_version == by_alias
    assert by_alias["aliases"] == ["production"]
    assert {tag["key"]: tag["value"] for tag in by_alias["tags"]}["mlflow.prompt.text"] == (
        "Answer {{question}} briefly."
    )
    assert latest["version"] == "2"
    assert ok(get_model(api, "qa-prompt"))["registered_model"]["aliases"] == [
        {"alias": "production", "version": "1"}
    ]


def test_chat_prompt_keeps_its_message_list(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/register_chat_prompt.json
    messages = [
        {"role": "system", "content": "You are {{persona}}"},
        {"role": "user", "content": "{{q}}"},
    ]
    create_model(api, "chat-prompt", tags=[IS_PROMPT])

    created = ok(
        api.call(
            "POST",
            f"{VERSIONS}/create",
            {
                "name": "chat-prompt",
                "source": "dummy-source",
                "tags": [
                    IS_PROMPT,
                    {"key": "_mlflow_prompt_type", "value": "chat"},
                    {"key": "mlflow.prompt.text", "value": json.dumps(messages)},
                ],
            },
            workspace="team-a",
        )
    )["model_version"]

    text = {tag["key"]: tag["value"] for tag in created["tags"]}["mlflow.prompt.text"]
    assert json.loads(text) == messages
    assert created["description"] == ""


def test_search_prompts_as_the_client_sends_it(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/search_prompts.json
    register_v1(api)
    create_model(api, "qa-model")

    response = api.call(
        "GET",
        f"{MODELS}/search",
        workspace="team-a",
        query={
            "filter": "tags.`mlflow.prompt.is_prompt` = 'true' AND name LIKE 'qa%'",
            "max_results": "100",
        },
    )

    assert [model["name"] for model in ok(response)["registered_models"]] == ["qa-prompt"]


def test_prompts_are_left_out_of_model_searches(api: ApiClient, team_a: Workspace) -> None:
    register_v1(api)
    create_model(api, "qa-model")

    models = api.call(
        "GET",
        f"{MODELS}/search",
        workspace="team-a",
        query={"filter": "name LIKE 'qa%' AND tag.`mlflow.prompt.is_prompt` != 'true'"},
    )
    versions = api.call("GET", f"{VERSIONS}/search", workspace="team-a")

    assert [model["name"] for model in ok(models)["registered_models"]] == ["qa-model"]
    assert ok(versions) == {}


def test_prompt_tag_and_alias_deletion(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/tags_and_alias_delete.json
    register_v1(api)
    api.call(
        "POST",
        f"{MODELS}/alias",
        {"name": "qa-prompt", "alias": "production", "version": "1"},
        workspace="team-a",
    )

    tagged = api.call(
        "POST",
        f"{MODELS}/set-tag",
        {"name": "qa-prompt", "key": "owner", "value": "bob"},
        workspace="team-a",
    )
    version_tagged = api.call(
        "POST",
        f"{VERSIONS}/set-tag",
        {"name": "qa-prompt", "version": "1", "key": "reviewed", "value": "yes"},
        workspace="team-a",
    )
    unaliased = api.call(
        "DELETE",
        f"{MODELS}/alias",
        {"name": "qa-prompt", "alias": "production"},
        workspace="team-a",
    )

    assert ok(tagged) == ok(version_tagged) == ok(unaliased) == {}
    version = ok(get_version(api, "qa-prompt", "1"))["model_version"]
    assert version["tags"][-1] == {"key": "reviewed", "value": "yes"}
    assert "aliases" not in version


def test_prompt_text_too_long_is_refused(api: ApiClient, team_a: Workspace) -> None:
    create_model(api, "qa", tags=[IS_PROMPT])

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {
            "name": "qa",
            "source": "dummy-source",
            "tags": [IS_PROMPT, {"key": "mlflow.prompt.text", "value": "x" * 100_001}],
        },
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json()["message"] == "Prompt text exceeds max length of 100000 characters."
