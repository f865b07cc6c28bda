"""Deleting a workspace that holds registered models, in the three modes. spec: workspaces.md
§5.4 (registered_models is the first table RESTRICT reports), examples/workspaces/delete_*.json.
"""

from __future__ import annotations

from typing import Any

from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, WorkspaceFactory
from tests.registry.conftest import (
    MODELS,
    artifacts_source,
    create_model,
    create_version,
    get_model,
    ok,
)
from workspaces.context import across_workspaces
from workspaces.models import Workspace

WS = "/api/3.0/mlflow/workspaces"


def delete_workspace(api: ApiClient, name: str, mode: str | None = None) -> Any:
    return api.call("DELETE", f"{WS}/{name}", query={"mode": mode} if mode else None)


def fill(api: ApiClient, workspace: str, name: str = "iris-clf") -> None:
    """A model with a tag, a tagged version and an alias."""
    create_model(api, name, workspace=workspace, tags=[{"key": "k", "value": "v"}])
    create_version(
        api,
        name,
        artifacts_source(workspace),
        workspace=workspace,
        tags=[{"key": "t", "value": "1"}],
    )
    ok(
        api.call(
            "POST",
            f"{MODELS}/alias",
            {"name": name, "alias": "champion", "version": "1"},
            workspace=workspace,
        )
    )


def test_restrict_refuses_and_names_registered_models_first(api: ApiClient) -> None:
    team = WorkspaceFactory(name="tmp-restrict")
    fill(api, "tmp-restrict")
    create_model(api, "second", workspace="tmp-restrict")
    ExperimentFactory(workspace=team)

    response = delete_workspace(api, "tmp-restrict")

    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_STATE",
        "message": "Cannot delete workspace 'tmp-restrict': table 'registered_models' still "
        "contains 2 resource(s). Remove or reassign them before deleting the workspace.",
        "sqlstate": "XXM00",
        "error_class": "CLIENT_INTERNAL_ERROR",
    }
    assert Workspace.objects.filter(name="tmp-restrict").exists()


def test_cascade_deletes_every_registry_row_of_the_workspace(
    api: ApiClient, team_b: Workspace
) -> None:
    WorkspaceFactory(name="tmp-cascade")
    fill(api, "tmp-cascade")
    fill(api, "team-b")

    response = delete_workspace(api, "tmp-cascade", "CASCADE")

    assert response.status_code == 204
    with across_workspaces("test inspection"):
        for model in (
            RegisteredModel,
            RegisteredModelTag,
            ModelVersion,
            ModelVersionTag,
            RegisteredModelAlias,
        ):
            assert {row.workspace_id for row in model.objects.all()} == {team_b.pk}, model
    assert ok(get_model(api, "iris-clf", workspace="team-b"))["registered_model"]["aliases"] == [
        {"alias": "champion", "version": "1"}
    ]


def test_set_default_moves_models_with_versions_tags_and_aliases(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-setdef")
    fill(api, "tmp-setdef")
    before = ok(get_model(api, "iris-clf", workspace="tmp-setdef"))["registered_model"]

    response = delete_workspace(api, "tmp-setdef", "SET_DEFAULT")

    assert response.status_code == 204
    moved = ok(get_model(api, "iris-clf", workspace="default"))["registered_model"]
    assert moved == before
    version = ok(
        api.call(
            "GET",
            f"{MODELS}/alias",
            workspace="default",
            query={"name": "iris-clf", "alias": "champion"},
        )
    )["model_version"]
    assert version["tags"] == [{"key": "t", "value": "1"}]
    # The moved model keeps numbering after its old versions.
    assert (
        create_version(api, "iris-clf", artifacts_source("default"), workspace="default")["version"]
        == "2"
    )


def test_set_default_refuses_on_a_model_name_conflict(api: ApiClient) -> None:
    WorkspaceFactory(name="tmp-conflict")
    create_model(api, "iris-clf", workspace="default")
    create_model(api, "iris-clf", workspace="tmp-conflict")

    response = delete_workspace(api, "tmp-conflict", "SET_DEFAULT")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Cannot reassign resources from workspace 'tmp-conflict' to 'default': the following "
        "names already exist in the default workspace and would cause conflicts:\n"
        "  - registered_models: 'iris-clf'\n"
        "Rename or remove the conflicting resources before retrying."
    )
    with across_workspaces("test inspection"):
        assert RegisteredModel.objects.filter(workspace__name="tmp-conflict").count() == 1
