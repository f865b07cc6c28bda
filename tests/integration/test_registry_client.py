"""The model registry and prompts with the real client against a live server.

spec: client-calls.md §3-4, registry.md §5. The sklearn ``log_model`` → ``register_model`` →
``load_model`` flow (client-calls.md §2) needs logged models and is tested with them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from registry.models import RegisteredModelTag
from workspaces.context import across_workspaces

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


def wait_for_prompt_links() -> None:
    """Join the client's background threads that tag prompts with the active experiment
    (``_mlflow_experiment_ids``), so none of their requests outlives the live server."""
    for thread in threading.enumerate():
        if thread.name.startswith("link_prompt"):
            thread.join(timeout=20)


def settled(result: T) -> T:
    """``result`` once the client's prompt-linking threads are done: on SQLite the live server
    shares one connection between request threads, so requests must not overlap."""
    wait_for_prompt_links()
    return result


@pytest.fixture
def registry(mlflow_client: Any) -> Iterator[Any]:
    """The client in a fresh workspace team-a, with an experiment to run in."""
    mlflow = mlflow_client
    mlflow.create_workspace("team-a")
    mlflow.set_workspace("team-a")
    mlflow.set_experiment("models-exp")
    yield mlflow
    wait_for_prompt_links()


def run_with_model(mlflow: Any) -> str:
    """A finished run of the active experiment; its ``model`` path is registered below."""
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
    return str(run.info.run_id)


def test_registered_model_lifecycle_with_the_client(registry: Any) -> None:
    mlflow = registry
    client = mlflow.MlflowClient()
    run_id = run_with_model(mlflow)

    created = client.create_registered_model(
        "iris-clf", tags={"domain": "tabular"}, description="Iris classifier"
    )
    first = client.create_model_version("iris-clf", f"runs:/{run_id}/model", run_id=run_id)
    second = client.create_model_version(
        "iris-clf", f"runs:/{run_id}/model", run_id=run_id, tags={"candidate": "yes"}
    )
    client.set_registered_model_alias("iris-clf", "champion", first.version)
    by_alias = client.get_model_version_by_alias("iris-clf", "champion")
    with pytest.warns(FutureWarning, match="stages"):  # stages are deprecated client-side
        staged = client.transition_model_version_stage("iris-clf", second.version, "Staging")
    with pytest.warns(FutureWarning, match="get_latest_versions"):
        latest = client.get_latest_versions("iris-clf", stages=["Staging"])
    fetched = client.get_registered_model("iris-clf")
    download_uri = client.get_model_version_download_uri("iris-clf", first.version)

    assert (created.name, created.description, created.tags) == (
        "iris-clf",
        "Iris classifier",
        {"domain": "tabular"},
    )
    assert (first.version, second.version) == ("1", "2")
    assert (first.run_id, first.source, first.status) == (
        run_id,
        f"runs:/{run_id}/model",
        "READY",
    )
    assert (by_alias.version, by_alias.aliases) == ("1", ["champion"])
    assert staged.current_stage == "Staging"
    assert [version.version for version in latest] == ["2"]
    assert fetched.aliases == {"champion": "1"}
    assert sorted((v.version, v.current_stage) for v in fetched.latest_versions) == [
        ("1", "None"),
        ("2", "Staging"),
    ]
    assert download_uri == f"runs:/{run_id}/model"


def test_search_and_delete_with_the_client(registry: Any) -> None:
    mlflow = registry
    client = mlflow.MlflowClient()
    run_id = run_with_model(mlflow)
    for name in ("iris-clf", "iris-reg", "wine-clf"):
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    settled(mlflow.genai.register_prompt(name="iris-prompt", template="Classify {{x}}."))

    models = client.search_registered_models(filter_string="name LIKE 'iris%'")
    ordered = client.search_registered_models(order_by=["name DESC"], max_results=2)
    versions = client.search_model_versions(f"run_id = '{run_id}'")
    client.delete_model_version("iris-reg", "1")
    client.delete_registered_model("wine-clf")
    remaining = client.search_registered_models()

    assert [model.name for model in models] == ["iris-clf", "iris-reg"]
    assert [model.name for model in ordered] == ["wine-clf", "iris-reg"]
    assert ordered.token is not None
    assert sorted(version.name for version in versions) == ["iris-clf", "iris-reg", "wine-clf"]
    assert [(m.name, len(m.latest_versions)) for m in remaining] == [
        ("iris-clf", 1),
        ("iris-reg", 0),
    ]


def test_client_errors_from_the_registry(registry: Any) -> None:
    from mlflow.exceptions import MlflowException, RestException

    client = registry.MlflowClient()
    client.create_registered_model("iris-clf")

    with pytest.raises(MlflowException) as duplicate:
        client.create_registered_model("iris-clf")
    with pytest.raises(MlflowException) as missing:
        client.get_registered_model("nope")
    with pytest.raises(RestException) as unknown_alias:
        client.get_model_version_by_alias("iris-clf", "nosuch")
    with pytest.raises(MlflowException) as outside:
        client.create_model_version("iris-clf", "s3://bucket/elsewhere/model")

    assert duplicate.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert unknown_alias.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Registered model alias nosuch not found." in str(unknown_alias.value)
    assert outside.value.error_code == "INVALID_PARAMETER_VALUE"


def test_prompt_flow_with_the_client(registry: Any) -> None:
    # spec: examples/flows/register_and_load_prompt.json
    mlflow = registry

    first = settled(
        mlflow.genai.register_prompt(
            name="qa-prompt",
            template="Answer {{question}} briefly.",
            commit_message="first",
            tags={"team": "a"},
        )
    )
    second = settled(
        mlflow.genai.register_prompt(
            name="qa-prompt", template="Answer {{question}} in detail.", commit_message="second"
        )
    )
    by_version = settled(mlflow.genai.load_prompt("prompts:/qa-prompt/1"))
    by_argument = settled(mlflow.genai.load_prompt("qa-prompt", version=2))
    mlflow.genai.set_prompt_alias("qa-prompt", alias="production", version=1)
    by_alias = settled(mlflow.genai.load_prompt("prompts:/qa-prompt@production"))
    latest = settled(mlflow.genai.load_prompt("prompts:/qa-prompt@latest"))
    found = mlflow.genai.search_prompts(filter_string="name LIKE 'qa%'")

    assert (first.version, second.version) == (1, 2)
    assert by_version.template == "Answer {{question}} briefly."
    assert by_version.format(question="why") == "Answer why briefly."
    assert by_version.commit_message == "first"
    assert by_argument.template == "Answer {{question}} in detail."
    assert (by_alias.version, by_alias.template) == (1, "Answer {{question}} briefly.")
    assert (latest.version, latest.template) == (2, "Answer {{question}} in detail.")
    assert [prompt.name for prompt in found] == ["qa-prompt"]
    assert found[0].tags.get("team") == "a"
    wait_for_prompt_links()
    experiment_id = mlflow.get_experiment_by_name("models-exp").experiment_id
    with across_workspaces("test inspection"):
        link = RegisteredModelTag.objects.get(
            registered_model__name="qa-prompt", key="_mlflow_experiment_ids"
        )
    assert link.value == f",{experiment_id},"


def test_chat_prompt_and_alias_deletion_with_the_client(registry: Any) -> None:
    mlflow = registry
    messages = [
        {"role": "system", "content": "You are {{persona}}"},
        {"role": "user", "content": "{{q}}"},
    ]
    settled(mlflow.genai.register_prompt(name="chat-prompt", template=messages))
    mlflow.genai.set_prompt_alias("chat-prompt", alias="live", version=1)

    loaded = settled(mlflow.genai.load_prompt("prompts:/chat-prompt@live"))
    mlflow.genai.delete_prompt_alias("chat-prompt", alias="live")

    assert loaded.template == messages
    assert loaded.format(persona="a bot", q="hi") == [
        {"role": "system", "content": "You are a bot"},
        {"role": "user", "content": "hi"},
    ]
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Prompt alias live not found"):
        mlflow.genai.load_prompt("prompts:/chat-prompt@live")


def test_prompts_and_models_do_not_mix_in_searches(registry: Any) -> None:
    mlflow = registry
    client = mlflow.MlflowClient()
    client.create_registered_model("qa-model")
    settled(mlflow.genai.register_prompt(name="qa-prompt", template="Q: {{q}}"))

    models = client.search_registered_models(filter_string="name LIKE 'qa%'")
    prompts = mlflow.genai.search_prompts(filter_string="name LIKE 'qa%'")

    assert [model.name for model in models] == ["qa-model"]
    assert [prompt.name for prompt in prompts] == ["qa-prompt"]


def test_two_workspaces_are_isolated_with_the_client(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = mlflow_client
    client = mlflow.MlflowClient()
    mlflow.create_workspace("team-a")
    mlflow.create_workspace("team-b")
    mlflow.set_workspace("team-b")
    client.create_registered_model("shared", description="team b's")
    client.create_model_version(
        "shared", "mlflow-artifacts:/workspaces/team-b/1/model", tags={"secret": "b"}
    )
    client.set_registered_model_alias("shared", "champion", "1")
    settled(mlflow.genai.register_prompt(name="b-prompt", template="secret {{x}}"))
    wait_for_prompt_links()

    mlflow.set_workspace("team-a")
    with pytest.raises(MlflowException) as missing_model:
        client.get_registered_model("shared")
    with pytest.raises(MlflowException) as missing_alias:
        client.get_model_version_by_alias("shared", "champion")
    with pytest.raises(MlflowException) as missing_prompt:
        mlflow.genai.load_prompt("prompts:/b-prompt/1")
    client.create_registered_model("mine")
    with pytest.raises(MlflowException) as foreign_source:
        client.create_model_version("mine", "mlflow-artifacts:/workspaces/team-b/1/model")
    models_in_a = client.search_registered_models()
    versions_in_a = client.search_model_versions("name = 'shared'")
    prompts_in_a = mlflow.genai.search_prompts()
    own = client.create_registered_model("shared", description="team a's")

    assert missing_model.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert missing_alias.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "b-prompt" in str(missing_prompt.value)
    assert foreign_source.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [model.name for model in models_in_a] == ["mine"]
    assert list(versions_in_a) == []
    assert list(prompts_in_a) == []
    assert own.description == "team a's"
    mlflow.set_workspace("team-b")
    assert client.get_registered_model("shared").description == "team b's"
