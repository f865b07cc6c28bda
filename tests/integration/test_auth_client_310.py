"""MLflow 3.10.1's ``AuthServiceClient``, unchanged, against a live server with auth on.

The project's client (mlflow-skinny 3.17.2) no longer has the workspace and resource permission
methods, so the 3.10.1 client runs in its own virtualenv, .venv-auth310 (gitignored; about a
minute and 800 MB, since the client module imports MLflow's server package), created here on
first use and reused afterwards; tests/integration/auth310_driver.py runs the calls.
spec: auth-workspace-permissions.md §5, §6, §8 ("AuthServiceClient (3.10.1) maps 1:1").
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from permissions.authentication import reset_bootstrap_state, verified_passwords
from tests.factories import ExperimentFactory, WorkspaceFactory
from tests.permissions.conftest import make_model
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-auth310"
# The client module imports mlflow.server (Flask, SQLAlchemy...): the full package it is.
CLIENT_REQUIREMENT = "mlflow[auth]==3.10.1"
PROBE = "import mlflow, mlflow.server.auth.client; print(mlflow.__version__)"
DRIVER = Path(__file__).with_name("auth310_driver.py")
ADMIN = ["admin", "acceptance-admin-pw-42"]


def _client_ready(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() == "3.10.1"


@pytest.fixture(scope="session")
def client310() -> Path:
    """The 3.10.1 client's interpreter; the venv is built once (a lock keeps workers apart)."""
    python = VENV / "bin" / "python"
    with open(REPO / ".venv-auth310.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _client_ready(python):
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", CLIENT_REQUIREMENT], check=True
            )
        if not _client_ready(python):
            pytest.fail(f"{VENV} does not provide {CLIENT_REQUIREMENT}")
    return python


@pytest.fixture
def server(live_server: Any, settings: Any, default_workspace: Workspace) -> str:
    """The live server with authentication on and the bootstrap admin configured."""
    settings.MLFLOW_AUTH_ENABLED = True
    settings.MLFLOW_AUTH_ADMIN_USERNAME = ADMIN[0]
    settings.MLFLOW_AUTH_ADMIN_PASSWORD = ADMIN[1]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    verified_passwords.clear()
    reset_bootstrap_state()
    WorkspaceFactory(name="team-a", description="team-a workspace")
    WorkspaceFactory(name="team-b", description="team-b workspace")
    return str(live_server.url)


def run(python: Path, server: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    }
    env.pop("MLFLOW_WORKSPACE", None)
    done = subprocess.run(
        [str(python), str(DRIVER)],
        input=json.dumps({"tracking_uri": server, "steps": steps}),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def step(
    call: str, *args: Any, user: list[str] = ADMIN, workspace: str | None = None
) -> dict[str, Any]:
    return {"call": call, "args": list(args), "user": user, "workspace": workspace}


def test_users_with_the_3_10_client(client310: Path, server: str) -> None:
    answers = run(
        client310,
        server,
        [
            step("create_user", "alice", "alice-password-1234"),
            step("get_user", "alice"),
            step("get_user", "alice", user=["alice", "alice-password-1234"]),
            step("update_user_password", "alice", "alice-password-5678"),
            step("update_user_admin", "alice", True),
            step("get_user", "alice", user=["alice", "alice-password-5678"]),
            step("create_user", "alice", "another-password-1"),
            step("get_user", "admin", user=["alice", "wrong-password-123"]),
            step("delete_user", "alice"),
            step("get_user", "alice"),
        ],
    )

    alice_id = answers[0]["result"]["id"]
    assert answers[0]["result"] == {
        "id": alice_id,
        "username": "alice",
        "is_admin": False,
        "experiment_permissions": [],
        "registered_model_permissions": [],
        "scorer_permissions": [],
    }
    assert answers[1] == answers[2] == answers[0]
    assert answers[3] == answers[4] == {"result": None}
    assert answers[5]["result"]["is_admin"] is True
    assert answers[6]["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert answers[7]["error_code"] == "UNAUTHENTICATED"
    assert answers[8] == {"result": None}
    assert answers[9]["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert not User.objects.filter(username="alice").exists()


def test_workspace_and_resource_permissions_with_the_3_10_client(
    client310: Path, server: str
) -> None:
    experiment = ExperimentFactory(
        workspace=Workspace.objects.get(name="team-a"), name="exp-shared"
    )
    experiment_id = str(experiment.pk)
    make_model(Workspace.objects.get(name="team-a"), "model-x")
    carol = ["carol", "carol-password-1234"]

    answers = run(
        client310,
        server,
        [
            step("create_user", *carol),
            step("create_user", "erin", "erin-password-1234"),
            step("set_workspace_permission", "team-a", "carol", "MANAGE"),
            step("list_workspace_permissions", "team-a"),
            step("list_user_workspace_permissions", "carol"),
            # carol delegates inside team-a...
            step("set_workspace_permission", "team-a", "erin", "EDIT", user=carol),
            step(
                "create_experiment_permission",
                experiment_id,
                "erin",
                "READ",
                user=carol,
                workspace="team-a",
            ),
            step(
                "get_experiment_permission", experiment_id, "erin", user=carol, workspace="team-a"
            ),
            step(
                "update_experiment_permission",
                experiment_id,
                "erin",
                "EDIT",
                user=carol,
                workspace="team-a",
            ),
            step(
                "delete_experiment_permission",
                experiment_id,
                "erin",
                user=carol,
                workspace="team-a",
            ),
            step(
                "create_registered_model_permission",
                "model-x",
                "erin",
                "READ",
                user=carol,
                workspace="team-a",
            ),
            step(
                "get_registered_model_permission", "model-x", "erin", user=carol, workspace="team-a"
            ),
            step(
                "update_registered_model_permission",
                "model-x",
                "erin",
                "EDIT",
                user=carol,
                workspace="team-a",
            ),
            step(
                "delete_registered_model_permission",
                "model-x",
                "erin",
                user=carol,
                workspace="team-a",
            ),
            step("delete_workspace_permission", "team-a", "erin", user=carol),
            # ...and nowhere else
            step("set_workspace_permission", "team-b", "erin", "EDIT", user=carol),
            step("list_user_workspace_permissions", "erin", user=carol),
            step("set_workspace_permission", "team-a", "erin", "SUPER"),
        ],
    )

    carol_id = answers[0]["result"]["id"]
    erin_id = answers[1]["result"]["id"]
    manage = {"workspace": "team-a", "user_id": carol_id, "permission": "MANAGE"}
    assert {k: answers[2]["result"][k] for k in manage} == manage
    assert [{k: row[k] for k in manage} for row in answers[3]["result"]] == [manage]
    assert [{k: row[k] for k in manage} for row in answers[4]["result"]] == [manage]
    assert answers[5]["result"]["permission"] == "EDIT"
    assert answers[6]["result"] == {
        "experiment_id": experiment_id,
        "permission": "READ",
        "user_id": erin_id,
    }
    assert answers[7] == answers[6]
    assert answers[8] == answers[9] == {"result": None}
    assert answers[10]["result"]["name"] == "model-x"
    assert answers[10]["result"]["permission"] == "READ"
    assert answers[11] == answers[10]
    assert answers[12] == answers[13] == answers[14] == {"result": None}
    assert answers[15]["error_code"] == "PERMISSION_DENIED"
    assert answers[16]["error_code"] == "PERMISSION_DENIED"
    assert answers[17]["error_code"] == "INVALID_PARAMETER_VALUE"
