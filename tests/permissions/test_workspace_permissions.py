"""Workspace permissions and the workspace routes under auth. spec: auth-workspace-permissions.md
§8, §13; examples/auth-3.10/workspace_permissions.json, manage_delegation.json,
workspaces_under_auth.json."""

from __future__ import annotations

from typing import Any

import pytest

from permissions.models import WorkspacePermission
from tests.permissions.conftest import AuthApi, Seed, denied, make_user

WS = "/api/3.0/mlflow/workspaces"
PER_USER = "/api/3.0/mlflow/workspace-permissions"


def row(seed: Seed, username: str, permission: str, workspace: str = "team-a") -> dict[str, Any]:
    return {
        "workspace": workspace,
        "user_id": seed.users[username].pk,
        "permission": permission,
        "can_use": permission in ("USE", "EDIT", "MANAGE"),
    }


def test_set_is_an_upsert_naming_the_user_by_id(as_user: AuthApi, seed: Seed) -> None:
    first = as_user(
        "admin", "POST", f"{WS}/team-b/permissions", {"username": "erin", "permission": "READ"}
    )
    second = as_user(
        "admin", "POST", f"{WS}/team-b/permissions", {"username": "erin", "permission": "EDIT"}
    )

    assert first.status_code == 200
    assert first.json() == {"permission": row(seed, "erin", "READ", "team-b")}
    assert second.status_code == 200
    assert second.json() == {"permission": row(seed, "erin", "EDIT", "team-b")}
    assert WorkspacePermission.objects.filter(user=seed.users["erin"]).count() == 1


def test_list_one_workspace_in_grant_order(as_user: AuthApi, seed: Seed) -> None:
    as_user(
        "admin", "POST", f"{WS}/team-a/permissions", {"username": "alice", "permission": "EDIT"}
    )

    response = as_user("admin", "GET", f"{WS}/team-a/permissions")
    unknown = as_user("admin", "GET", f"{WS}/no-such-ws/permissions")

    assert response.status_code == 200
    assert response.json() == {
        "permissions": [
            row(seed, "alice", "EDIT"),
            row(seed, "carol", "MANAGE"),
            row(seed, "dave", "EDIT"),
            row(seed, "frank", "USE"),
        ]
    }
    assert unknown.json() == {"permissions": []}


def test_list_one_users_rows_is_admin_only(as_user: AuthApi, seed: Seed) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["dave"], permission="READ"
    )

    dave = as_user("admin", "GET", PER_USER, query={"username": "dave"})
    erin = as_user("admin", "GET", PER_USER, query={"username": "erin"})
    nobody = as_user("admin", "GET", PER_USER, query={"username": "nobody"})
    missing = as_user("admin", "GET", PER_USER)
    itself = as_user("alice", "GET", PER_USER, query={"username": "alice"})
    manager = as_user("carol", "GET", PER_USER, query={"username": "erin"})

    assert dave.json() == {
        "permissions": [row(seed, "dave", "EDIT"), row(seed, "dave", "READ", "team-b")]
    }
    assert erin.json() == {"permissions": []}
    assert nobody.status_code == 404
    assert nobody.json()["message"] == "User with username=nobody not found"
    assert missing.status_code == 400
    assert missing.json()["message"] == (
        "Missing value for required parameter 'username'. "
        "See the API docs for more information about request parameters."
    )
    assert denied(itself)
    assert denied(manager)


@pytest.mark.parametrize(
    ("body", "workspace", "status", "message"),
    [
        (
            {"username": "erin", "permission": "SUPER"},
            "team-a",
            400,
            "Invalid permission 'SUPER'. Valid permissions are: "
            "('READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')",
        ),
        (
            {"username": "erin", "permission": "read"},
            "team-a",
            400,
            "Invalid permission 'read'. Valid permissions are: "
            "('READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')",
        ),
        (
            {"username": "erin"},
            "team-a",
            400,
            "Workspace permission payload missing keys: permission",
        ),
        ({}, "team-a", 400, "Workspace permission payload missing keys: permission, username"),
        (
            {"username": "nobody", "permission": "READ"},
            "team-a",
            404,
            "User with username=nobody not found",
        ),
        (
            {"username": "erin", "permission": "READ"},
            "no-such-ws",
            404,
            "Workspace 'no-such-ws' not found",
        ),
    ],
)
def test_set_errors(
    as_user: AuthApi, seed: Seed, body: dict[str, str], workspace: str, status: int, message: str
) -> None:
    response = as_user("admin", "POST", f"{WS}/{workspace}/permissions", body)

    assert response.status_code == status
    assert response.json()["message"] == message


def test_delete_answers_204_then_404(as_user: AuthApi, seed: Seed) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["erin"], permission="NO_PERMISSIONS"
    )

    deleted = as_user("admin", "DELETE", f"{WS}/team-b/permissions", query={"username": "erin"})
    again = as_user("admin", "DELETE", f"{WS}/team-b/permissions", query={"username": "erin"})
    missing = as_user("admin", "DELETE", f"{WS}/team-b/permissions")
    by_body = as_user("admin", "DELETE", f"{WS}/team-a/permissions", {"username": "frank"})

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert again.status_code == 404
    assert again.json()["message"] == (
        "Workspace permission does not exist for workspace='team-b', username='erin'"
    )
    assert missing.status_code == 400
    assert by_body.status_code == 204


def test_read_and_edit_members_cannot_manage_grants(as_user: AuthApi, seed: Seed) -> None:
    alice = as_user("alice", "GET", f"{WS}/team-a/permissions")
    dave = as_user("dave", "GET", f"{WS}/team-a/permissions")
    dave_grant = as_user(
        "dave", "POST", f"{WS}/team-a/permissions", {"username": "erin", "permission": "READ"}
    )

    assert denied(alice)
    assert denied(dave)
    assert denied(dave_grant)


def test_workspace_permission_routes_exist_under_api_only(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("admin", "GET", "/ajax-api/3.0/mlflow/workspaces/team-a/permissions")

    assert response.status_code == 404


# --- delegation: MANAGE on a workspace grants inside it and nowhere else --------------------


def test_manager_delegates_in_their_workspace(as_user: AuthApi, seed: Seed) -> None:
    granted = as_user(
        "carol", "POST", f"{WS}/team-a/permissions", {"username": "erin", "permission": "READ"}
    )
    listed = as_user("carol", "GET", f"{WS}/team-a/permissions")
    another_manager = as_user(
        "carol", "POST", f"{WS}/team-a/permissions", {"username": "erin", "permission": "MANAGE"}
    )
    revoked = as_user("carol", "DELETE", f"{WS}/team-a/permissions", query={"username": "erin"})
    experiment_grant = as_user(
        "carol",
        "POST",
        "/api/2.0/mlflow/experiments/permissions/create",
        {"experiment_id": seed.exp("exp-shared"), "username": "erin", "permission": "EDIT"},
        workspace="team-a",
    )
    model_grant = as_user(
        "carol",
        "POST",
        "/api/2.0/mlflow/registered-models/permissions/create",
        {"name": "model-a", "username": "erin", "permission": "READ"},
        workspace="team-a",
    )

    assert granted.status_code == 200
    assert row(seed, "erin", "READ") in listed.json()["permissions"]
    assert another_manager.json() == {"permission": row(seed, "erin", "MANAGE")}
    assert revoked.status_code == 204
    assert experiment_grant.status_code == 200
    assert model_grant.status_code == 200


def test_manager_cannot_grant_elsewhere_or_administer(as_user: AuthApi, seed: Seed) -> None:
    other_workspace = as_user(
        "carol", "POST", f"{WS}/team-b/permissions", {"username": "erin", "permission": "READ"}
    )
    other_list = as_user("carol", "GET", f"{WS}/team-b/permissions")
    other_experiment = as_user(
        "carol",
        "POST",
        "/api/2.0/mlflow/experiments/permissions/create",
        {"experiment_id": seed.exp("exp-b"), "username": "erin", "permission": "READ"},
        workspace="team-b",
    )
    # team-b's experiment named under the team-a header: still not carol's to grant.
    smuggled = as_user(
        "carol",
        "POST",
        "/api/2.0/mlflow/experiments/permissions/create",
        {"experiment_id": seed.exp("exp-b"), "username": "erin", "permission": "READ"},
        workspace="team-a",
    )
    create_ws = as_user("carol", "POST", WS, {"name": "carols-ws"})
    update_ws = as_user("carol", "PATCH", f"{WS}/team-a", {"description": "mine now"})
    delete_ws = as_user("carol", "DELETE", f"{WS}/team-a")

    assert all(
        denied(r)
        for r in [
            other_workspace,
            other_list,
            other_experiment,
            smuggled,
            create_ws,
            update_ws,
            delete_ws,
        ]
    )


# --- the workspace routes under auth --------------------------------------------------------


def test_admin_lists_every_workspace(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("admin", "GET", WS)

    assert [w["name"] for w in response.json()["workspaces"]] == ["default", "team-a", "team-b"]


def test_members_list_workspaces_with_a_readable_row(as_user: AuthApi, seed: Seed) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["dave"], permission="READ"
    )
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["erin"], permission="NO_PERMISSIONS"
    )

    dave = as_user("dave", "GET", WS)
    erin = as_user("erin", "GET", WS)

    assert [w["name"] for w in dave.json()["workspaces"]] == ["team-a", "team-b"]
    assert erin.json() == {}


def test_get_workspace_follows_visibility(as_user: AuthApi, seed: Seed) -> None:
    listed = as_user("alice", "GET", f"{WS}/team-a")
    unlisted = as_user("alice", "GET", f"{WS}/team-b")
    default = as_user("alice", "GET", f"{WS}/default")
    unknown = as_user("alice", "GET", f"{WS}/no-such-ws")
    admin_unknown = as_user("admin", "GET", f"{WS}/no-such-ws")

    assert listed.status_code == 200
    assert listed.json() == {"workspace": {"name": "team-a", "description": "team-a workspace"}}
    assert denied(unlisted)
    assert denied(default)
    assert denied(unknown)
    assert admin_unknown.status_code == 404
    assert admin_unknown.json()["message"] == "Workspace 'no-such-ws' not found"


def test_only_admins_create_update_and_delete_workspaces(as_user: AuthApi, seed: Seed) -> None:
    refused = as_user("alice", "POST", WS, {"name": "alices"})
    refused_ajax = as_user("carol", "POST", "/ajax-api/3.0/mlflow/workspaces", {"name": "via-ajax"})
    created = as_user("admin", "POST", WS, {"name": "temp-ws"})
    updated = as_user("admin", "PATCH", f"{WS}/temp-ws", {"description": "temp"})

    assert denied(refused)
    assert denied(refused_ajax)
    assert created.status_code == 201
    assert updated.status_code == 200


def test_deleting_a_workspace_deletes_its_permission_rows(as_user: AuthApi, seed: Seed) -> None:
    as_user("admin", "POST", WS, {"name": "temp-ws"})
    as_user(
        "admin", "POST", f"{WS}/temp-ws/permissions", {"username": "erin", "permission": "EDIT"}
    )
    listed = as_user("erin", "GET", WS)

    deleted = as_user("admin", "DELETE", f"{WS}/temp-ws")
    rows = as_user("admin", "GET", PER_USER, query={"username": "erin"})

    assert listed.json() == {"workspaces": [{"name": "temp-ws"}]}
    assert deleted.status_code == 204
    assert rows.json() == {"permissions": []}


def test_a_new_user_starts_with_no_workspace(as_user: AuthApi, seed: Seed) -> None:
    make_user("newcomer")

    response = as_user("newcomer", "GET", WS)

    assert response.status_code == 200
    assert response.json() == {}
