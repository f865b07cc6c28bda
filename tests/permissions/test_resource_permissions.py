"""Experiment and registered-model (and prompt) permission endpoints, and what creators get.
spec: auth-workspace-permissions.md §6, §9; examples/auth-3.10/experiment_permissions.json,
registered_model_permissions.json, creation_and_ownership.json, prompt_permissions.json."""

from __future__ import annotations

from typing import Any

from permissions.models import ExperimentPermission, RegisteredModelPermission, WorkspacePermission
from tests.permissions.conftest import AuthApi, Seed, denied

API = "/api/2.0/mlflow"
EXP_PERMS = f"{API}/experiments/permissions"
RM_PERMS = f"{API}/registered-models/permissions"
PROMPT_VERSION_TAGS = [
    {"key": "mlflow.prompt.is_prompt", "value": "true"},
    {"key": "_mlflow_prompt_type", "value": "text"},
    {"key": "mlflow.prompt.text", "value": "Hello {{name}}"},
]
INVALID_LEVEL = (
    "Invalid permission 'WRITE'. Valid permissions are: "
    "('READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')"
)


def exp_row(seed: Seed, experiment: str, username: str, permission: str) -> dict[str, Any]:
    return {
        "experiment_permission": {
            "experiment_id": seed.exp(experiment),
            "permission": permission,
            "user_id": seed.users[username].pk,
        }
    }


def rm_row(
    seed: Seed, name: str, username: str, permission: str, workspace: str = "team-a"
) -> dict[str, Any]:
    return {
        "registered_model_permission": {
            "name": name,
            "permission": permission,
            "user_id": seed.users[username].pk,
            "workspace": workspace,
        }
    }


# --- experiment permissions -----------------------------------------------------------------


def test_experiment_permission_lifecycle(as_user: AuthApi, seed: Seed) -> None:
    experiment_id = seed.exp("exp-shared")
    key = {"experiment_id": experiment_id, "username": "erin"}

    created = as_user(
        "admin", "POST", f"{EXP_PERMS}/create", {**key, "permission": "READ"}, workspace="team-a"
    )
    duplicate = as_user(
        "admin", "POST", f"{EXP_PERMS}/create", {**key, "permission": "EDIT"}, workspace="team-a"
    )
    updated = as_user(
        "admin", "PATCH", f"{EXP_PERMS}/update", {**key, "permission": "EDIT"}, workspace="team-a"
    )
    fetched = as_user("admin", "GET", f"{EXP_PERMS}/get", workspace="team-a", query=key)
    deleted = as_user("admin", "DELETE", f"{EXP_PERMS}/delete", key, workspace="team-a")
    again = as_user("admin", "DELETE", f"{EXP_PERMS}/delete", key, workspace="team-a")

    assert created.status_code == 200
    assert created.json() == exp_row(seed, "exp-shared", "erin", "READ")
    assert duplicate.status_code == 400
    assert duplicate.json()["message"] == (
        f"Experiment permission (experiment_id={experiment_id}, username=erin) already exists."
    )
    assert updated.json() == {}
    assert fetched.json() == exp_row(seed, "exp-shared", "erin", "EDIT")
    assert deleted.json() == {}
    assert again.status_code == 404
    assert again.json()["message"] == (
        f"Experiment permission with experiment_id={experiment_id} and username=erin not found"
    )


def test_experiment_permission_errors(as_user: AuthApi, seed: Seed) -> None:
    experiment_id = seed.exp("exp-shared")

    no_row = as_user(
        "admin",
        "GET",
        f"{EXP_PERMS}/get",
        workspace="team-a",
        query={"experiment_id": experiment_id, "username": "alice"},
    )
    bad_level = as_user(
        "admin",
        "POST",
        f"{EXP_PERMS}/create",
        {"experiment_id": experiment_id, "username": "erin", "permission": "WRITE"},
        workspace="team-a",
    )
    no_user = as_user(
        "admin",
        "POST",
        f"{EXP_PERMS}/create",
        {"experiment_id": experiment_id, "username": "nobody", "permission": "READ"},
        workspace="team-a",
    )
    missing = as_user(
        "admin",
        "POST",
        f"{EXP_PERMS}/create",
        {"experiment_id": experiment_id, "permission": "READ"},
        workspace="team-a",
    )
    no_experiment = as_user(
        "admin",
        "POST",
        f"{EXP_PERMS}/create",
        {"experiment_id": "999999", "username": "erin", "permission": "READ"},
        workspace="team-a",
    )

    assert no_row.status_code == 404  # the workspace level is never reported here
    assert bad_level.status_code == 400
    assert bad_level.json()["message"] == INVALID_LEVEL
    assert no_user.status_code == 404
    assert no_user.json()["message"] == "User with username=nobody not found"
    assert missing.status_code == 400
    assert missing.json()["message"] == (
        "Missing value for required parameter 'username'. "
        "See the API docs for more information about request parameters."
    )
    # differs from reference: rows follow their experiments, so there must be one (§16.3).
    assert no_experiment.status_code == 404
    assert no_experiment.json()["message"] == "No Experiment with id=999999 exists"


def test_users_get_lists_the_experiment_rows(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("bob", "GET", f"{API}/users/get", query={"username": "bob"})

    assert response.json()["user"]["experiment_permissions"] == [
        exp_row(seed, "exp-bob", "bob", "EDIT")["experiment_permission"]
    ]


def test_experiment_permission_routes_exist_under_api_only(as_user: AuthApi, seed: Seed) -> None:
    response = as_user(
        "admin",
        "GET",
        "/ajax-api/2.0/mlflow/experiments/permissions/get",
        workspace="team-a",
        query={"experiment_id": seed.exp("exp-bob"), "username": "bob"},
    )

    assert response.status_code == 404


def test_rows_are_deleted_with_their_experiment(as_user: AuthApi, seed: Seed) -> None:
    seed.experiments["exp-bob"].delete()

    assert not ExperimentPermission.objects.filter(user=seed.users["bob"]).exists()


# --- registered-model permissions -----------------------------------------------------------


def test_registered_model_rows_are_keyed_by_the_request_workspace(
    as_user: AuthApi, seed: Seed
) -> None:
    created = as_user(
        "admin",
        "POST",
        f"{RM_PERMS}/create",
        {"name": "model-a", "username": "bob", "permission": "READ"},
        workspace="team-a",
    )
    same_workspace = as_user(
        "admin",
        "GET",
        f"{RM_PERMS}/get",
        workspace="team-a",
        query={"name": "model-a", "username": "bob"},
    )
    other_workspace = as_user(
        "admin",
        "GET",
        f"{RM_PERMS}/get",
        workspace="team-b",
        query={"name": "model-a", "username": "bob"},
    )
    no_header = as_user(
        "admin", "GET", f"{RM_PERMS}/get", query={"name": "model-a", "username": "bob"}
    )

    assert created.json() == rm_row(seed, "model-a", "bob", "READ")
    assert same_workspace.json() == rm_row(seed, "model-a", "bob", "READ")
    assert other_workspace.status_code == 404
    assert other_workspace.json()["message"] == (
        "Registered model permission with workspace=team-b, name=model-a and username=bob not found"
    )
    assert no_header.json()["message"] == (
        "Registered model permission with workspace=default, name=model-a and "
        "username=bob not found"
    )


def test_registered_model_permission_update_duplicate_and_delete(
    as_user: AuthApi, seed: Seed
) -> None:
    key = {"name": "model-a", "username": "bob"}
    as_user(
        "admin", "POST", f"{RM_PERMS}/create", {**key, "permission": "READ"}, workspace="team-a"
    )

    updated = as_user(
        "admin", "PATCH", f"{RM_PERMS}/update", {**key, "permission": "EDIT"}, workspace="team-a"
    )
    duplicate = as_user(
        "admin", "POST", f"{RM_PERMS}/create", {**key, "permission": "EDIT"}, workspace="team-a"
    )
    deleted = as_user("admin", "DELETE", f"{RM_PERMS}/delete", key, workspace="team-a")

    assert updated.json() == {}
    assert duplicate.status_code == 400
    assert duplicate.json()["message"] == (
        "Registered model permission with workspace=team-a, name=model-a and username=bob "
        "already exists."
    )
    assert deleted.json() == {}
    assert not RegisteredModelPermission.objects.filter(user=seed.users["bob"]).exists()


def test_model_permissions_need_manage_on_the_model(as_user: AuthApi, seed: Seed) -> None:
    dave = as_user(
        "dave",
        "POST",
        f"{RM_PERMS}/create",
        {"name": "model-a", "username": "erin", "permission": "READ"},
        workspace="team-a",
    )
    carol_elsewhere = as_user(
        "carol",
        "POST",
        f"{RM_PERMS}/create",
        {"name": "model-b", "username": "erin", "permission": "READ"},
        workspace="team-b",
    )

    assert denied(dave)
    assert denied(carol_elsewhere)


def test_model_rows_follow_rename_and_delete(as_user: AuthApi, seed: Seed) -> None:
    as_user(
        "admin",
        "POST",
        f"{API}/registered-models/create",
        {"name": "model-tmp"},
        workspace="team-a",
    )
    as_user(
        "admin",
        "POST",
        f"{RM_PERMS}/create",
        {"name": "model-tmp", "username": "bob", "permission": "MANAGE"},
        workspace="team-a",
    )

    renamed = as_user(
        "admin",
        "POST",
        f"{API}/registered-models/rename",
        {"name": "model-tmp", "new_name": "model-tmp2"},
        workspace="team-a",
    )
    moved = as_user(
        "admin",
        "GET",
        f"{RM_PERMS}/get",
        workspace="team-a",
        query={"name": "model-tmp2", "username": "bob"},
    )
    deleted = as_user(
        "admin",
        "DELETE",
        f"{API}/registered-models/delete",
        {"name": "model-tmp2"},
        workspace="team-a",
    )
    gone = as_user(
        "admin",
        "GET",
        f"{RM_PERMS}/get",
        workspace="team-a",
        query={"name": "model-tmp2", "username": "bob"},
    )

    assert renamed.status_code == 200
    assert moved.json() == rm_row(seed, "model-tmp2", "bob", "MANAGE")
    assert deleted.status_code == 200
    assert gone.status_code == 404


# --- who may create, and what the creator gets ----------------------------------------------


def test_only_workspace_managers_create(as_user: AuthApi, seed: Seed) -> None:
    refused = {
        who: as_user(
            who, "POST", f"{API}/experiments/create", {"name": f"by-{who}"}, workspace="team-a"
        )
        for who in ["alice", "frank", "dave", "bob"]
    }
    carol_elsewhere = as_user(
        "carol", "POST", f"{API}/experiments/create", {"name": "c"}, workspace="team-b"
    )
    carol_default = as_user("carol", "POST", f"{API}/experiments/create", {"name": "c"})

    assert [who for who, response in refused.items() if not denied(response)] == []
    assert denied(carol_elsewhere)
    assert denied(carol_default)


def test_the_creator_of_an_experiment_gets_manage(as_user: AuthApi, seed: Seed) -> None:
    created = as_user(
        "carol", "POST", f"{API}/experiments/create", {"name": "exp-by-carol"}, workspace="team-a"
    )
    experiment_id = created.json()["experiment_id"]

    row = ExperimentPermission.objects.get(
        experiment_id=int(experiment_id), user=seed.users["carol"]
    )
    assert row.permission == "MANAGE"


def test_admins_get_the_creator_row_too(as_user: AuthApi, seed: Seed) -> None:
    created = as_user(
        "admin", "POST", f"{API}/experiments/create", {"name": "exp-by-admin"}, workspace="team-a"
    )

    experiment_id = int(created.json()["experiment_id"])
    assert ExperimentPermission.objects.get(experiment_id=experiment_id).user == seed.users["admin"]


def test_the_creator_row_outlives_the_workspace_grant(as_user: AuthApi, seed: Seed) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["erin"], permission="MANAGE"
    )
    created = as_user(
        "erin", "POST", f"{API}/experiments/create", {"name": "erins-exp"}, workspace="team-b"
    )
    experiment_id = created.json()["experiment_id"]
    as_user(
        "admin",
        "DELETE",
        "/api/3.0/mlflow/workspaces/team-b/permissions",
        query={"username": "erin"},
    )

    read = as_user(
        "erin",
        "GET",
        f"{API}/experiments/get",
        workspace="team-b",
        query={"experiment_id": experiment_id},
    )
    listed = as_user("erin", "GET", "/api/3.0/mlflow/workspaces")
    second = as_user(
        "erin", "POST", f"{API}/experiments/create", {"name": "second"}, workspace="team-b"
    )

    assert read.status_code == 200
    assert listed.json() == {}
    assert denied(second)


def test_the_creator_of_a_prompt_gets_manage_on_its_name(as_user: AuthApi, seed: Seed) -> None:
    probe = as_user(
        "carol",
        "GET",
        f"{API}/registered-models/get",
        workspace="team-a",
        query={"name": "prompt-carol"},
    )
    created = as_user(
        "carol",
        "POST",
        f"{API}/registered-models/create",
        {"name": "prompt-carol", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]},
        workspace="team-a",
    )
    version = as_user(
        "carol",
        "POST",
        f"{API}/model-versions/create",
        {"name": "prompt-carol", "source": "dummy-source", "tags": PROMPT_VERSION_TAGS},
        workspace="team-a",
    )

    assert denied(probe)  # a missing model is 403 for non-admins; register_prompt tolerates it
    assert created.status_code == 200
    assert version.status_code == 200
    row = RegisteredModelPermission.objects.get(name="prompt-carol", user=seed.users["carol"])
    assert (row.for_workspace, row.permission) == (seed.team_a, "MANAGE")


def test_prompts_are_governed_by_registered_model_rows(as_user: AuthApi, seed: Seed) -> None:
    as_user(
        "admin",
        "POST",
        f"{API}/registered-models/create",
        {"name": "prompt-a", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]},
        workspace="team-a",
    )
    body = {"name": "prompt-a", "source": "dummy-source", "tags": PROMPT_VERSION_TAGS}

    read = as_user(
        "alice",
        "GET",
        f"{API}/registered-models/get",
        workspace="team-a",
        query={"name": "prompt-a"},
    )
    before = as_user("alice", "POST", f"{API}/model-versions/create", body, workspace="team-a")
    as_user(
        "admin",
        "POST",
        f"{RM_PERMS}/create",
        {"name": "prompt-a", "username": "alice", "permission": "EDIT"},
        workspace="team-a",
    )
    after = as_user("alice", "POST", f"{API}/model-versions/create", body, workspace="team-a")
    hidden = as_user(
        "alice",
        "GET",
        f"{API}/registered-models/get",
        workspace="team-a",
        query={"name": "model-hidden"},
    )
    dave_creates = as_user(
        "dave",
        "POST",
        f"{API}/registered-models/create",
        {"name": "prompt-dave"},
        workspace="team-a",
    )

    assert read.status_code == 200
    assert denied(before)
    assert after.status_code == 200, after.json()
    assert denied(hidden)
    assert denied(dave_creates)


def test_model_version_tag_and_alias_deletes_need_manage(as_user: AuthApi, seed: Seed) -> None:
    as_user(
        "admin",
        "POST",
        f"{API}/model-versions/create",
        {"name": "model-a", "source": "s"},
        workspace="team-a",
    )

    update = as_user(
        "dave",
        "PATCH",
        f"{API}/registered-models/update",
        {"name": "model-a", "description": "d"},
        workspace="team-a",
    )
    delete_tag = as_user(
        "dave",
        "DELETE",
        f"{API}/model-versions/delete-tag",
        {"name": "model-a", "version": "1", "key": "k"},
        workspace="team-a",
    )
    delete_model = as_user(
        "dave", "DELETE", f"{API}/registered-models/delete", {"name": "model-a"}, workspace="team-a"
    )
    rename = as_user(
        "alice",
        "POST",
        f"{API}/registered-models/rename",
        {"name": "model-a", "new_name": "m2"},
        workspace="team-a",
    )

    assert update.status_code == 200
    assert denied(delete_tag)
    assert denied(delete_model)
    assert denied(rename)
