"""grant_default_workspace_access, default_permission and workspaces switched off.
spec: auth-workspace-permissions.md §14; examples/auth-3.10/grant_default_workspace_access_*.json,
workspaces_disabled.json."""

from __future__ import annotations

from typing import Any

from permissions.models import ExperimentPermission, WorkspacePermission
from tests.permissions.conftest import AuthApi, Seed, denied

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"


def get_experiment(
    as_user: AuthApi, who: str, seed: Seed, name: str, workspace: str | None = None
) -> Any:
    return as_user(
        who,
        "GET",
        f"{API}/experiments/get",
        workspace=workspace,
        query={"experiment_id": seed.exp(name)},
    )


def test_without_the_grant_default_permission_is_not_used(as_user: AuthApi, seed: Seed) -> None:
    listed = as_user("erin", "GET", WS)
    read = get_experiment(as_user, "erin", seed, "exp-default")
    created = as_user("erin", "POST", f"{API}/experiments/create", {"name": "erin-default"})

    assert listed.json() == {}
    assert denied(read)
    assert denied(created)


def test_an_explicit_row_on_default_works_like_any_workspace(as_user: AuthApi, seed: Seed) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.default, user=seed.users["erin"], permission="READ"
    )

    read = get_experiment(as_user, "erin", seed, "exp-default")
    listed = as_user("erin", "GET", WS)

    assert read.status_code == 200
    assert [w["name"] for w in listed.json()["workspaces"]] == ["default"]


def test_the_grant_gives_default_permission_in_default_only(
    as_user: AuthApi, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = True

    listed = as_user("erin", "GET", WS)
    fetched = as_user("erin", "GET", f"{WS}/default")
    read = get_experiment(as_user, "erin", seed, "exp-default")
    write = as_user(
        "erin",
        "POST",
        f"{API}/runs/log-metric",
        {"run_id": seed.run("run-default"), "key": "m", "value": 1, "timestamp": 1},
    )
    created = as_user("erin", "POST", f"{API}/experiments/create", {"name": "erin-exp"})
    elsewhere = get_experiment(as_user, "erin", seed, "exp-shared", "team-a")
    other_workspace = as_user("erin", "GET", f"{WS}/team-a")

    assert listed.json() == {
        "workspaces": [{"name": "default", "description": "Default workspace for legacy resources"}]
    }
    assert fetched.status_code == 200
    assert read.status_code == 200
    assert denied(write)
    assert denied(created)  # creating needs MANAGE
    assert denied(elsewhere)
    assert denied(other_workspace)


def test_explicit_rows_still_win_under_the_grant(
    as_user: AuthApi, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = True
    ExperimentPermission.objects.create(
        experiment=seed.experiments["exp-default"],
        user=seed.users["alice"],
        permission="NO_PERMISSIONS",
    )
    WorkspacePermission.objects.create(
        for_workspace=seed.default, user=seed.users["erin"], permission="NO_PERMISSIONS"
    )

    alice = get_experiment(as_user, "alice", seed, "exp-default")
    erin = get_experiment(as_user, "erin", seed, "exp-default")
    erin_list = as_user("erin", "GET", WS)

    assert denied(alice)
    assert denied(erin)
    assert [w["name"] for w in erin_list.json()["workspaces"]] == ["default"]  # still listed


def test_the_grant_with_manage_lets_anyone_create_and_delete_in_default(
    as_user: AuthApi, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = True
    settings.MLFLOW_AUTH_DEFAULT_PERMISSION = "MANAGE"

    created = as_user("erin", "POST", f"{API}/experiments/create", {"name": "erin-exp"})
    deleted = as_user(
        "erin", "POST", f"{API}/experiments/delete", {"experiment_id": seed.exp("exp-default")}
    )
    elsewhere = as_user(
        "erin", "POST", f"{API}/experiments/create", {"name": "erin-a"}, workspace="team-a"
    )

    assert created.status_code == 200
    assert (
        ExperimentPermission.objects.get(
            experiment_id=int(created.json()["experiment_id"]), user=seed.users["erin"]
        ).permission
        == "MANAGE"
    )
    assert deleted.status_code == 200
    assert denied(elsewhere)


def test_without_workspaces_default_permission_applies_and_anyone_creates(
    as_user: AuthApi, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False

    read = get_experiment(as_user, "erin", seed, "exp-default")
    update = as_user(
        "erin",
        "POST",
        f"{API}/experiments/update",
        {"experiment_id": seed.exp("exp-default"), "new_name": "x"},
    )
    created = as_user("erin", "POST", f"{API}/experiments/create", {"name": "erin-exp"})
    deleted = as_user(
        "erin",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": created.json()["experiment_id"]},
    )
    permissions = as_user("admin", "GET", f"{WS}/default/permissions")
    per_user = as_user(
        "admin", "GET", "/api/3.0/mlflow/workspace-permissions", query={"username": "erin"}
    )

    assert read.status_code == 200
    assert denied(update)
    assert created.status_code == 200
    assert deleted.status_code == 200  # the creator got MANAGE
    # differs from reference: 503 there, which the client retries for minutes.
    assert permissions.status_code == 404
    assert (
        "disabled because the server is running without workspaces support"
        in permissions.json()["message"]
    )
    assert per_user.status_code == 404
