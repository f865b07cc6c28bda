"""Fixtures for authentication and permission tests: auth switched on, users, and the seed.

The seed mirrors examples/auth-3.10 (auth-workspace-permissions.md, intro): workspaces team-a
and team-b; alice READ on team-a with NO_PERMISSIONS on exp-secret and model-hidden; bob EDIT
on exp-bob only; carol MANAGE on team-a; dave EDIT on team-a; frank USE on team-a; erin nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User

from permissions.access import registered_model_class
from permissions.authentication import reset_bootstrap_state, verified_passwords
from permissions.decisions import decisions
from permissions.models import ExperimentPermission, RegisteredModelPermission, WorkspacePermission
from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from tracking.models import Experiment, Run
from workspaces.context import across_workspaces
from workspaces.models import Workspace

ADMIN_PASSWORD = "acceptance-admin-pw-42"
UNAUTHENTICATED = (
    "You are not authenticated. Please see "
    "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
    "on how to authenticate."
)


def password_of(username: str) -> str:
    return ADMIN_PASSWORD if username == "admin" else f"{username}-password-1234"


def basic(username: str, password: str | None = None) -> dict[str, str]:
    secret = f"{username}:{password if password is not None else password_of(username)}"
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def make_user(username: str, *, admin: bool = False) -> User:
    return User.objects.create_user(
        username=username,
        password=password_of(username),
        is_superuser=admin,
        is_staff=admin,
    )


def make_model(workspace: Workspace, name: str) -> Any:
    """A registered model row, as the registry stores it."""
    model = registered_model_class()
    assert model is not None
    with across_workspaces("test data"):
        return model._default_manager.create(
            workspace=workspace, name=name, creation_timestamp=1, last_updated_timestamp=1
        )


def denied(response: Any) -> bool:
    """The wire shape of a 403 (JSON, as the spec allows)."""
    return response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"


def unauthenticated(response: Any) -> bool:
    """The wire shape of a 401, with the reference's message and challenge."""
    return (
        response.status_code == 401
        and response.json()["error_code"] == "UNAUTHENTICATED"
        and response.json()["message"] == UNAUTHENTICATED
        and response["WWW-Authenticate"] == 'Basic realm="mlflow"'
    )


class AuthApi:
    """The ``api`` client speaking as a given user."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def __call__(
        self,
        who: str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        workspace: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        headers = basic(who) if who is not None else {}
        return self.api.call(method, path, body, workspace=workspace, query=query, headers=headers)


@pytest.fixture
def auth_settings(settings: Any) -> Iterator[Any]:
    """Authentication on with the spec's recorded configuration; fast password hashing."""
    settings.MLFLOW_AUTH_ENABLED = True
    settings.MLFLOW_AUTH_DEFAULT_PERMISSION = "READ"
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = False
    settings.MLFLOW_AUTH_ADMIN_PASSWORD = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    verified_passwords.clear()
    decisions.clear()
    reset_bootstrap_state()
    yield settings
    verified_passwords.clear()
    decisions.clear()
    reset_bootstrap_state()


@pytest.fixture
def as_user(api: ApiClient, auth_settings: Any) -> AuthApi:
    return AuthApi(api)


@dataclass
class Seed:
    team_a: Workspace
    team_b: Workspace
    default: Workspace
    experiments: dict[str, Experiment] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def exp(self, name: str) -> str:
        return str(self.experiments[name].pk)

    def run(self, name: str) -> str:
        return self.runs[name].pk


@pytest.fixture
def seed(as_user: AuthApi, default_workspace: Workspace) -> Seed:
    team_a = WorkspaceFactory(name="team-a", description="team-a workspace")
    team_b = WorkspaceFactory(name="team-b", description="team-b workspace")
    data = Seed(team_a=team_a, team_b=team_b, default=default_workspace)
    for name, workspace in [
        ("exp-shared", team_a),
        ("exp-secret", team_a),
        ("exp-bob", team_a),
        ("exp-b", team_b),
        ("exp-default", default_workspace),
        ("exp-downgrade", team_a),
        ("exp-upgrade", team_a),
    ]:
        data.experiments[name] = ExperimentFactory(name=name, workspace=workspace)
    for name, experiment in [
        ("run-shared", "exp-shared"),
        ("run-secret", "exp-secret"),
        ("run-bob", "exp-bob"),
        ("run-b", "exp-b"),
        ("run-default", "exp-default"),
    ]:
        data.runs[name] = RunFactory(
            experiment=data.experiments[experiment], run_name=name, status="RUNNING"
        )
    for workspace, name in [(team_a, "model-a"), (team_a, "model-hidden"), (team_b, "model-b")]:
        make_model(workspace, name)
    for username in ["admin", "alice", "bob", "carol", "dave", "erin", "frank"]:
        data.users[username] = make_user(username, admin=username == "admin")
    users = data.users
    for username, level in [("alice", "READ"), ("carol", "MANAGE"), ("dave", "EDIT")]:
        WorkspacePermission.objects.create(
            for_workspace=team_a, user=users[username], permission=level
        )
    WorkspacePermission.objects.create(for_workspace=team_a, user=users["frank"], permission="USE")
    ExperimentPermission.objects.create(
        experiment=data.experiments["exp-secret"], user=users["alice"], permission="NO_PERMISSIONS"
    )
    ExperimentPermission.objects.create(
        experiment=data.experiments["exp-bob"], user=users["bob"], permission="EDIT"
    )
    RegisteredModelPermission.objects.create(
        for_workspace=team_a, name="model-hidden", user=users["alice"], permission="NO_PERMISSIONS"
    )
    return data
