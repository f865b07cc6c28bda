"""The seed's "Managing Workspaces" flow with the real client and with plain REST calls."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.factories import ExperimentFactory
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)
DEFAULT_DESCRIPTION = "Default workspace for legacy resources"


def test_workspace_lifecycle_with_the_client(mlflow_client: Any) -> None:
    mlflow = mlflow_client

    created = mlflow.create_workspace(
        "team-a", description="Team A", default_artifact_root="s3://bucket/team-a"
    )
    listed = mlflow.list_workspaces()
    fetched = mlflow.get_workspace("team-a")
    updated = mlflow.update_workspace("team-a", description="Team A v2", default_artifact_root="")
    mlflow.delete_workspace("team-a")

    assert (created.name, created.description, created.default_artifact_root) == (
        "team-a",
        "Team A",
        "s3://bucket/team-a",
    )
    assert [ws.name for ws in listed] == ["default", "team-a"]
    assert fetched == created
    assert (updated.description, updated.default_artifact_root) == ("Team A v2", None)
    assert not Workspace.objects.filter(name="team-a").exists()


def test_client_errors_arrive_as_rest_exceptions(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = mlflow_client
    mlflow.create_workspace("team-a")

    with pytest.raises(MlflowException) as duplicate:
        mlflow.create_workspace("team-a")
    with pytest.raises(MlflowException) as missing:
        mlflow.get_workspace("nope-ws")
    with pytest.raises(MlflowException) as default:
        mlflow.delete_workspace("default")

    assert duplicate.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Workspace 'nope-ws' not found" in str(missing.value)
    assert default.value.error_code == "INVALID_PARAMETER_VALUE"


def test_deleting_a_nonempty_workspace_fails_at_once(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = mlflow_client
    team = mlflow.create_workspace("team-a")
    ExperimentFactory(workspace=Workspace.objects.get(name=team.name), name="demo-exp")
    started = time.monotonic()

    with pytest.raises(MlflowException) as refused:
        mlflow.delete_workspace("team-a")

    # differs from reference: a 500 there, retried by the client for about four minutes.
    assert time.monotonic() - started < 5
    assert refused.value.error_code == "INVALID_STATE"
    assert "table 'experiments' still contains 1 resource(s)" in str(refused.value)
    assert Workspace.objects.filter(name="team-a").exists()


def test_cascade_delete_with_the_client(mlflow_client: Any) -> None:
    mlflow = mlflow_client
    mlflow.create_workspace("team-a")
    ExperimentFactory(workspace=Workspace.objects.get(name="team-a"))

    mlflow.delete_workspace("team-a", mode="CASCADE")

    assert not Workspace.objects.filter(name="team-a").exists()


def test_set_workspace_to_an_unknown_workspace(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = mlflow_client
    mlflow.set_workspace("no-such-ws")

    with pytest.raises(MlflowException) as missing:
        mlflow.search_experiments()

    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Workspace 'no-such-ws' not found" in str(missing.value)


def test_rest_calls_with_the_workspace_header(live_server: Any, default_workspace: Any) -> None:
    base = f"{live_server.url}/api/3.0/mlflow"

    created = requests.post(f"{base}/workspaces", json={"name": "team-a"}, timeout=10)
    listed = requests.get(
        f"{base}/workspaces", headers={"X-MLFLOW-WORKSPACE": "team-a"}, timeout=10
    )
    unknown = requests.get(
        f"{base}/workspaces", headers={"X-MLFLOW-WORKSPACE": "team-zz"}, timeout=10
    )
    info = requests.get(f"{base}/server-info", headers={"X-MLFLOW-WORKSPACE": "x"}, timeout=10)
    deleted = requests.delete(f"{base}/workspaces/team-a", timeout=10)

    assert created.status_code == 201
    assert listed.json() == {
        "workspaces": [{"name": "default", "description": DEFAULT_DESCRIPTION}, {"name": "team-a"}]
    }
    assert unknown.status_code == 404
    assert info.json()["workspaces_enabled"] is True
    assert (deleted.status_code, deleted.content) == (204, b"")


def test_client_refuses_a_workspace_when_the_server_has_none(
    mlflow_client: Any, settings: Any
) -> None:
    from mlflow.exceptions import MlflowException

    settings.MLFLOW_ENABLE_WORKSPACES = False
    mlflow = mlflow_client
    mlflow.set_workspace("team-a")

    with pytest.raises(MlflowException) as refused:
        mlflow.search_experiments()

    assert refused.value.error_code == "FEATURE_DISABLED"


def test_workspace_apis_report_disabled_when_the_server_has_none(
    mlflow_client: Any, settings: Any
) -> None:
    from mlflow.exceptions import MlflowException

    settings.MLFLOW_ENABLE_WORKSPACES = False

    with pytest.raises(MlflowException) as refused:
        mlflow_client.list_workspaces()

    assert "does not expose workspace APIs" in str(refused.value)
