"""The real client (mlflow-skinny 3.17.2) against a live server with authentication on:
credentials from MLFLOW_TRACKING_USERNAME/PASSWORD (or MLFLOW_TRACKING_TOKEN), the seed's
scenarios, and 401/403 surfacing as the client's error codes.
spec: auth-workspace-permissions.md §2, §7, examples/auth-3.10/seed_scenarios.json."""

from __future__ import annotations

from typing import Any

import pytest

from permissions.authentication import reset_bootstrap_state, verified_passwords
from permissions.models import ExperimentPermission, WorkspacePermission
from permissions.services import token_issue
from tests.factories import WorkspaceFactory
from tests.permissions.conftest import make_user, password_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def secured(mlflow_client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client against the live server with auth on, alice, bob and carol seeded."""
    from tracking.services.experiments import experiment_ensure_default

    settings.MLFLOW_AUTH_ENABLED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    verified_passwords.clear()
    reset_bootstrap_state()
    experiment_ensure_default()
    team_a = WorkspaceFactory(name="team-a", description="team-a workspace")
    WorkspaceFactory(name="team-b", description="team-b workspace")
    users = {name: make_user(name, admin=name == "admin") for name in ["admin", "alice", "bob"]}
    WorkspacePermission.objects.create(for_workspace=team_a, user=users["alice"], permission="READ")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    return mlflow_client


def login(monkeypatch: pytest.MonkeyPatch, username: str | None) -> None:
    if username is None:
        monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
        monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
        return
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password_of(username))


def test_the_seed_scenarios_with_the_client(secured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException

    mlflow = secured
    client = mlflow.MlflowClient()
    login(monkeypatch, "admin")
    mlflow.set_workspace("team-a")
    shared = mlflow.create_experiment("exp-shared")
    secret = mlflow.create_experiment("exp-secret")
    bobs = mlflow.create_experiment("exp-bob")
    with mlflow.start_run(experiment_id=shared) as shared_run:
        mlflow.log_metric("acc", 0.5)
        mlflow.log_param("lr", "0.1")
    with mlflow.start_run(experiment_id=bobs) as bob_run:
        mlflow.log_metric("loss", 1.0)
    ExperimentPermission.objects.create(
        experiment_id=int(secret), user_id=make_id("alice"), permission="NO_PERMISSIONS"
    )
    ExperimentPermission.objects.create(
        experiment_id=int(bobs), user_id=make_id("bob"), permission="EDIT"
    )

    login(monkeypatch, "alice")
    alice_reads = client.get_run(shared_run.info.run_id).data.metrics
    alice_experiment = client.get_experiment(shared).name
    with pytest.raises(MlflowException) as alice_secret:
        client.get_experiment(secret)
    with pytest.raises(MlflowException) as alice_writes:
        client.create_run(shared)
    alice_workspaces = [w.name for w in mlflow.list_workspaces()]

    login(monkeypatch, "bob")
    client.log_metric(bob_run.info.run_id, "loss", 0.25, step=1)
    bobs_new_run = client.create_run(bobs).info.experiment_id
    with pytest.raises(MlflowException) as bob_other:
        client.get_experiment(shared)
    with pytest.raises(MlflowException) as bob_delete:
        client.delete_experiment(bobs)
    bob_workspaces = mlflow.list_workspaces()

    assert alice_reads == {"acc": 0.5}
    assert alice_experiment == "exp-shared"
    assert alice_secret.value.error_code == "PERMISSION_DENIED"
    assert alice_writes.value.error_code == "PERMISSION_DENIED"
    assert alice_workspaces == ["team-a"]
    assert bobs_new_run == bobs
    assert bob_other.value.error_code == "PERMISSION_DENIED"
    assert bob_delete.value.error_code == "PERMISSION_DENIED"
    assert bob_workspaces == []


def make_id(username: str) -> int:
    from django.contrib.auth.models import User

    return User.objects.get(username=username).pk


def test_creators_own_what_they_create(secured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = secured
    WorkspacePermission.objects.create(
        for_workspace_id=WorkspaceFactory(name="team-a").pk,
        user_id=make_id("bob"),
        permission="MANAGE",
    )
    login(monkeypatch, "bob")
    mlflow.set_workspace("team-a")

    experiment = mlflow.set_experiment("bobs-own")  # get-by-name 404, then create
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
        mlflow.log_text("hello", "notes.txt")
    downloaded = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes.txt")
    WorkspacePermission.objects.filter(user_id=make_id("bob")).delete()
    still_mine = mlflow.MlflowClient().get_experiment(experiment.experiment_id).name

    assert downloaded == "hello"
    assert still_mine == "bobs-own"
    assert (
        ExperimentPermission.objects.get(
            experiment_id=int(experiment.experiment_id), user_id=make_id("bob")
        ).permission
        == "MANAGE"
    )


def test_without_credentials_the_client_is_unauthenticated(
    secured: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.exceptions import MlflowException

    login(monkeypatch, None)

    with pytest.raises(MlflowException) as error:
        secured.MlflowClient().search_experiments()

    assert error.value.error_code == "UNAUTHENTICATED"


def test_a_token_works_like_a_password(secured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.auth.models import User

    login(monkeypatch, None)
    monkeypatch.setenv(
        "MLFLOW_TRACKING_TOKEN", token_issue(user=User.objects.get(username="alice"))
    )

    workspaces = [w.name for w in secured.list_workspaces()]

    assert workspaces == ["team-a"]
