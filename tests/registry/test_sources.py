"""A model version's source must resolve inside the request's workspace.

spec: registry.md §3.1 (tightened: see registry/services/sources.py), examples/registry/errors.json,
examples/prompts/invalid_prompt_source.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    artifacts_source,
    create_model,
    create_version,
    invalid_parameter,
    not_found,
    ok,
)
from tracking.models import Run
from workspaces.models import Workspace

RELATIVE = (
    "Invalid model version source: '{}'. If supplying a source as an http, https, local file "
    "path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without "
    "relative path references present. Please provide an absolute path."
)
OUTSIDE = (
    "Invalid model version source: '{}'. The source must be a runs:/ or models:/ URI of this "
    "workspace, or lie under one of this workspace's artifact locations."
)
RUN_ID = (
    "Invalid model version source: '{}'. The run_id request parameter must identify the "
    "resource that contains the source."
)
MODEL_ID = (
    "Invalid model version source: '{}'. The model_id request parameter must identify the "
    "resource that contains the source."
)
LOCAL = (
    "Invalid model version source: '{}'. To use a local path as a model version source, the "
    "run_id request parameter has to be specified and the local path has to be contained within "
    "the artifact directory of the run specified by the run_id."
)


def create(api: ApiClient, source: str, **fields: Any) -> Any:
    body = {"name": "m", "source": source, **fields}
    return api.call("POST", f"{VERSIONS}/create", body, workspace="team-a")


@pytest.fixture
def model_a(api: ApiClient, team_a: Workspace) -> Any:
    return create_model(api, "m")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # spec: examples/registry/errors.json
        ("s3://bucket/../x", RELATIVE),
        ("/local/path/model", LOCAL),
        ("runs:/abc/model", RUN_ID),
        ("file:///etc/passwd", LOCAL),
        ("C:\\models\\m", LOCAL),
        ("relative/path", LOCAL),
        ("mlflow-artifacts:/workspaces/team-a/../team-b/1/model", RELATIVE),
        ("mlflow-artifacts:/workspaces/team-a/%2e%2e/team-b/1/model", RELATIVE),
        ("mlflow-artifacts:/workspaces/team-a/%252e%252e/team-b/m", RELATIVE),
        ("mlflow-artifacts:/workspaces/team-a/./1/model", RELATIVE),
        ("mlflow-artifacts:/workspaces/team-a/1/model%00", RELATIVE),
        ("s3://bucket", RELATIVE),
        ("mlflow-artifacts:/workspaces/team-b/1/model", OUTSIDE),
        ("mlflow-artifacts:/workspaces/team-ab/1/model", OUTSIDE),
        ("mlflow-artifacts:/workspaces", OUTSIDE),
        ("s3://bucket/path/model", OUTSIDE),
        ("gs://bucket/workspaces/team-a/model", OUTSIDE),
        ("runs://host/abc/model", RUN_ID),
        ("models:/m-44ff4f96d60c430e9eb03c827a914909", MODEL_ID),
    ],
)
def test_create_model_version_refuses_sources_outside_the_workspace(
    api: ApiClient, model_a: Any, source: str, message: str
) -> None:
    response = create(api, source)

    assert response.status_code == 400
    assert response.json() == invalid_parameter(message.format(source))


@pytest.mark.parametrize("scheme", ["http", "https", "ftp", "sftp", "hdfs"])
def test_create_model_version_refuses_host_addressed_sources(
    api: ApiClient, model_a: Any, scheme: str
) -> None:
    response = create(api, f"{scheme}://evil.example.com/api/2.0/mlflow-artifacts/artifacts/x")

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        f"'source' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses a host"
    )


def test_create_model_version_refuses_mlflow_artifacts_with_a_host(
    api: ApiClient, model_a: Any
) -> None:
    response = create(api, "mlflow-artifacts://other-host/workspaces/team-a/1/model")

    assert response.status_code == 400
    assert response.json()["message"].startswith("'source' cannot use the 'mlflow-artifacts'")


@pytest.mark.parametrize(
    "path", ["1/model", "7/models/m-1/artifacts", "1/abc/artifacts/model/MLmodel"]
)
def test_create_model_version_accepts_the_workspace_artifact_root(
    api: ApiClient, model_a: Any, path: str
) -> None:
    created = create_version(api, "m", artifacts_source("team-a", path))

    assert created["source"] == artifacts_source("team-a", path)
    assert created["run_id"] == ""


def test_run_source_needs_the_run_id_parameter(api: ApiClient, model_a: Any, run_a: Run) -> None:
    source = f"runs:/{run_a.run_uuid}/model"

    without = create(api, source)
    mismatched = create(api, source, run_id="0" * 32)

    assert without.json() == invalid_parameter(RUN_ID.format(source))
    assert mismatched.json() == invalid_parameter(RUN_ID.format(source))


def test_run_source_of_another_workspace_is_refused(
    api: ApiClient, model_a: Any, run_b: Run
) -> None:
    source = f"runs:/{run_b.run_uuid}/model"

    response = create(api, source, run_id=run_b.run_uuid)

    assert response.status_code == 400
    assert response.json() == invalid_parameter(RUN_ID.format(source))


def test_run_source_of_an_unknown_run_is_refused(api: ApiClient, model_a: Any) -> None:
    source = f"runs:/{'a' * 32}/model"

    response = create(api, source, run_id="a" * 32)

    assert response.json() == invalid_parameter(RUN_ID.format(source))


def test_artifact_source_under_the_run_is_accepted(
    api: ApiClient, model_a: Any, run_a: Run
) -> None:
    source = f"{run_a.artifact_uri}/model"

    created = create_version(api, "m", source, run_id=run_a.run_uuid)

    assert (created["source"], created["run_id"]) == (source, run_a.run_uuid)


def test_artifact_source_outside_the_named_run_is_refused(
    api: ApiClient, model_a: Any, run_a: Run
) -> None:
    other = RunFactory(experiment=run_a.experiment)
    source = f"{other.artifact_uri}/model"

    response = create(api, source, run_id=run_a.run_uuid)

    assert response.json() == invalid_parameter(RUN_ID.format(source))


def test_run_id_of_another_workspace_is_refused_even_with_a_valid_path(
    api: ApiClient, model_a: Any, run_b: Run
) -> None:
    source = artifacts_source("team-a")

    response = create(api, source, run_id=run_b.run_uuid)

    assert response.json() == invalid_parameter(RUN_ID.format(source))


def test_source_under_an_experiment_location_of_the_workspace_is_accepted(
    api: ApiClient, model_a: Any, team_a: Workspace, team_b: Workspace
) -> None:
    ExperimentFactory(workspace=team_a, artifact_location="s3://bucket/legacy/5")
    ExperimentFactory(workspace=team_b, artifact_location="s3://bucket/legacy/6")

    accepted = create(api, "s3://bucket/legacy/5/abc/artifacts/model")
    other_team = create(api, "s3://bucket/legacy/6/abc/artifacts/model")
    sibling = create(api, "s3://bucket/legacy/55/model")

    assert ok(accepted)["model_version"]["source"] == "s3://bucket/legacy/5/abc/artifacts/model"
    assert other_team.json() == invalid_parameter(
        OUTSIDE.format("s3://bucket/legacy/6/abc/artifacts/model")
    )
    assert sibling.json() == invalid_parameter(OUTSIDE.format("s3://bucket/legacy/55/model"))


def test_source_under_the_workspace_default_artifact_root_is_accepted(
    api: ApiClient, default_workspace: Workspace
) -> None:
    WorkspaceFactory(name="team-s3", default_artifact_root="s3://bucket/team-s3")
    create_model(api, "m", workspace="team-s3")

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "m", "source": "s3://bucket/team-s3/3/model"},
        workspace="team-s3",
    )

    assert ok(response)["model_version"]["source"] == "s3://bucket/team-s3/3/model"


def test_copy_of_a_registered_version_inherits_its_lineage(
    api: ApiClient, model_a: Any, run_a: Run
) -> None:
    create_version(api, "m", f"runs:/{run_a.run_uuid}/model", run_id=run_a.run_uuid)
    create_model(api, "copy")

    by_version = create_version(api, "copy", "models:/m/1")
    by_latest = create_version(api, "copy", "models:/m/latest")

    assert (by_version["source"], by_version["run_id"]) == ("models:/m/1", run_a.run_uuid)
    assert by_latest["source"] == "models:/m/1"


def test_copy_by_stage_and_alias_is_normalised(api: ApiClient, model_a: Any) -> None:
    create_version(api, "m", artifacts_source("team-a"))
    create_version(api, "m", artifacts_source("team-a"))
    api.call(
        "POST",
        f"{VERSIONS}/transition-stage",
        {"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": False},
        workspace="team-a",
    )
    api.call(
        "POST",
        f"{MODELS}/alias",
        {"name": "m", "alias": "champ", "version": "2"},
        workspace="team-a",
    )
    create_model(api, "copy")

    by_stage = create_version(api, "copy", "models:/m/staging")
    by_alias = create_version(api, "copy", "models:/m@champ")

    assert by_stage["source"] == "models:/m/1"
    assert by_alias["source"] == "models:/m/2"


def test_copy_with_mismatched_lineage_is_refused(api: ApiClient, model_a: Any, run_a: Run) -> None:
    create_version(api, "m", artifacts_source("team-a"))
    create_model(api, "copy")

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "copy", "source": "models:/m/1", "run_id": run_a.run_uuid},
        workspace="team-a",
    )

    assert response.json() == invalid_parameter(
        "Invalid model version source: 'models:/m/1'. The run_id and model_id request "
        "parameters must match the referenced model version."
    )


def test_copy_of_another_workspace_model_is_not_found(
    api: ApiClient, model_a: Any, team_b: Workspace
) -> None:
    create_model(api, "secret", workspace="team-b")
    create_version(api, "secret", artifacts_source("team-b"), workspace="team-b")

    response = create(api, "models:/secret/1")

    assert response.status_code == 404
    assert response.json() == not_found("Registered Model with name=secret not found")


def test_copy_of_a_missing_version_is_not_found(api: ApiClient, model_a: Any) -> None:
    response = create(api, "models:/m/4")

    assert response.status_code == 404
    assert response.json() == not_found("Model Version (name=m, version=4) not found")


def test_copy_of_a_prompt_version_is_refused(api: ApiClient, model_a: Any) -> None:
    prompt_tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    create_model(api, "qa", tags=[prompt_tag])
    create_version(api, "qa", "dummy-source", tags=[prompt_tag])

    response = create(api, "models:/qa/1")

    assert response.json() == invalid_parameter(
        "Invalid model version source: 'models:/qa/1'. Prompt versions cannot be used as model "
        "version sources."
    )


def test_models_source_with_a_registry_host_is_refused(api: ApiClient, model_a: Any) -> None:
    response = create(api, "models://other-registry/m/1")

    assert response.json() == invalid_parameter(
        "Invalid model version source: 'models://other-registry/m/1'. Registered model sources "
        "must use the active model registry."
    )


def test_logged_model_id_is_refused_until_logged_models_exist(api: ApiClient, model_a: Any) -> None:
    # TODO(#4): accepted once logged models are stored (registry/services/sources.py hook).
    model_id = "m-44ff4f96d60c430e9eb03c827a914909"

    response = create(api, f"models:/{model_id}", model_id=model_id)

    assert response.json() == invalid_parameter(MODEL_ID.format(f"models:/{model_id}"))


def test_model_id_with_a_run_source_is_refused(api: ApiClient, model_a: Any, run_a: Run) -> None:
    source = f"runs:/{run_a.run_uuid}/model"

    response = create(api, source, run_id=run_a.run_uuid, model_id="m-1")

    assert response.json() == invalid_parameter(MODEL_ID.format(source))


def test_prompt_version_needs_a_placeholder_source(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/prompts/invalid_prompt_source.json
    create_model(api, "qa-prompt", tags=[{"key": "mlflow.prompt.is_prompt", "value": "true"}])

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {
            "name": "qa-prompt",
            "source": "s3://x",
            "tags": [
                {"key": "mlflow.prompt.is_prompt", "value": "true"},
                {"key": "mlflow.prompt.text", "value": "hi"},
            ],
        },
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid_parameter(
        "Invalid prompt source: 's3://x'. Prompt sources must use an MLflow placeholder."
    )


@pytest.mark.parametrize("source", ["dummy-source", "prompt-template"])
def test_prompt_version_placeholders_are_accepted(
    api: ApiClient, team_a: Workspace, source: str
) -> None:
    create_model(api, "qa", tags=[{"key": "mlflow.prompt.is_prompt", "value": "TRUE"}])

    created = create_version(
        api, "qa", source, tags=[{"key": "mlflow.prompt.is_prompt", "value": "TRUE"}]
    )

    assert created["source"] == source


def test_placeholder_source_is_refused_for_a_model_version(api: ApiClient, model_a: Any) -> None:
    response = create(api, "dummy-source")

    assert response.json() == invalid_parameter(LOCAL.format("dummy-source"))


def test_prompt_version_with_a_foreign_run_id_is_refused(
    api: ApiClient, team_a: Workspace, run_b: Run
) -> None:
    prompt_tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    create_model(api, "qa", tags=[prompt_tag])

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "qa", "source": "dummy-source", "run_id": run_b.run_uuid, "tags": [prompt_tag]},
        workspace="team-a",
    )

    assert response.json() == invalid_parameter(RUN_ID.format("dummy-source"))
