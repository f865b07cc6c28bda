"""The users API. spec: auth-workspace-permissions.md §5, examples/auth-3.10/users.json."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from permissions.models import ExperimentPermission, WorkspacePermission
from tests.conftest import ApiClient
from tests.permissions.conftest import AuthApi, Seed, basic, denied, make_user

USERS = "/api/2.0/mlflow/users"


def user_body(user: User, **lists: Any) -> dict[str, Any]:
    return {
        "user": {
            "id": user.pk,
            "username": user.username,
            "is_admin": user.is_superuser,
            "experiment_permissions": lists.get("experiment_permissions", []),
            "registered_model_permissions": lists.get("registered_model_permissions", []),
            "scorer_permissions": [],
        }
    }


def error(code: str, message: str) -> dict[str, str]:
    classes = {
        "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
        "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
        "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    }
    sqlstate, error_class = classes[code]
    return {
        "error_code": code,
        "message": message,
        "sqlstate": sqlstate,
        "error_class": error_class,
    }


def test_admin_creates_a_user_with_empty_permission_lists(as_user: AuthApi, seed: Seed) -> None:
    response = as_user(
        "admin", "POST", f"{USERS}/create", {"username": "gina", "password": "gina-password-1234"}
    )

    gina = User.objects.get(username="gina")
    assert response.status_code == 200
    assert response.json() == user_body(gina)
    assert gina.check_password("gina-password-1234")
    assert not gina.is_superuser


def test_create_user_errors(as_user: AuthApi, seed: Seed, api: ApiClient) -> None:
    duplicate = as_user(
        "admin", "POST", f"{USERS}/create", {"username": "alice", "password": "x" * 20}
    )
    short = as_user("admin", "POST", f"{USERS}/create", {"username": "s", "password": "x" * 11})
    twelve = as_user("admin", "POST", f"{USERS}/create", {"username": "t", "password": "x" * 12})
    empty = as_user("admin", "POST", f"{USERS}/create", {"username": "", "password": "x" * 20})
    form = api.post(
        f"{USERS}/create",
        "username=x&password=y",
        content_type="application/x-www-form-urlencoded",
        headers=basic("admin"),
    )

    assert duplicate.status_code == 400
    # differs from reference: no SQL text (it holds the new password's hash).
    assert duplicate.json() == error(
        "RESOURCE_ALREADY_EXISTS", "User (username=alice) already exists."
    )
    assert short.status_code == 400
    assert short.json() == error(
        "INVALID_PARAMETER_VALUE", "Password must be a string longer than 12 characters."
    )
    assert twelve.status_code == 200
    assert empty.status_code == 400
    assert empty.json()["message"] == "Username and password cannot be empty."
    assert form.status_code == 400
    assert form.json()["message"] == "Invalid content type. Must be application/json"


def test_non_admins_cannot_create_list_promote_or_delete(as_user: AuthApi, seed: Seed) -> None:
    create = as_user(
        "bob", "POST", f"{USERS}/create", {"username": "mallory", "password": "m" * 20}
    )
    listed = as_user("alice", "GET", f"{USERS}/list")
    listed_ajax = as_user("alice", "GET", "/ajax-api/2.0/mlflow/users/list")
    promote = as_user(
        "bob", "PATCH", f"{USERS}/update-admin", {"username": "bob", "is_admin": True}
    )
    delete = as_user("bob", "DELETE", f"{USERS}/delete", {"username": "erin"})
    carol = as_user(
        "carol", "POST", f"{USERS}/create", {"username": "newbie", "password": "n" * 20}
    )

    assert all(denied(r) for r in [create, listed, listed_ajax, promote, delete, carol])
    assert not User.objects.filter(username__in=["mallory", "newbie"]).exists()


def test_a_user_reads_themselves_only(as_user: AuthApi, seed: Seed) -> None:
    itself = as_user("alice", "GET", f"{USERS}/get", query={"username": "alice"})
    other = as_user("alice", "GET", f"{USERS}/get", query={"username": "bob"})
    missing = as_user("admin", "GET", f"{USERS}/get", query={"username": "nobody"})

    assert itself.status_code == 200
    assert itself.json()["user"]["username"] == "alice"
    assert itself.json()["user"]["experiment_permissions"] == [
        {
            "experiment_id": seed.exp("exp-secret"),
            "permission": "NO_PERMISSIONS",
            "user_id": seed.users["alice"].pk,
        }
    ]
    assert itself.json()["user"]["registered_model_permissions"] == [
        {
            "name": "model-hidden",
            "permission": "NO_PERMISSIONS",
            "user_id": seed.users["alice"].pk,
            "workspace": "team-a",
        }
    ]
    assert denied(other)
    assert missing.status_code == 404
    assert missing.json() == error("RESOURCE_DOES_NOT_EXIST", "User with username=nobody not found")


def test_admin_lists_users_by_id_without_the_admin_flag(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("admin", "GET", f"{USERS}/list")
    ajax = as_user("admin", "GET", "/ajax-api/2.0/mlflow/users/list")

    expected = [{"id": u.pk, "username": u.username} for u in User.objects.order_by("pk")]
    assert response.status_code == 200
    assert response.json() == {"users": expected}
    assert ajax.json() == {"users": expected}


def test_users_routes_exist_under_api_only_except_list(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("admin", "GET", "/ajax-api/2.0/mlflow/users/get", query={"username": "bob"})

    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_self_service_password_change(as_user: AuthApi, seed: Seed) -> None:
    changed = as_user(
        "bob", "PATCH", f"{USERS}/update-password", {"username": "bob", "password": "b" * 20}
    )
    hijack = as_user(
        "alice", "PATCH", f"{USERS}/update-password", {"username": "bob", "password": "h" * 20}
    )
    short = as_user(
        "admin", "PATCH", f"{USERS}/update-password", {"username": "bob", "password": "short"}
    )
    old_password = as_user("bob", "GET", f"{USERS}/get", query={"username": "bob"})

    assert changed.status_code == 200
    assert changed.json() == {}
    assert denied(hijack)
    # differs from reference: it accepts a short password on update (spec §16.6).
    assert short.status_code == 400
    assert old_password.status_code == 401  # the verified-password cache follows the change
    assert User.objects.get(username="bob").check_password("b" * 20)


def test_admin_promotes_and_demotes(as_user: AuthApi, seed: Seed) -> None:
    promoted = as_user(
        "admin", "PATCH", f"{USERS}/update-admin", {"username": "frank", "is_admin": True}
    )
    as_admin = as_user("frank", "GET", f"{USERS}/get", query={"username": "frank"})
    frank_lists = as_user("frank", "GET", f"{USERS}/list")
    demoted = as_user(
        "admin", "PATCH", f"{USERS}/update-admin", {"username": "frank", "is_admin": False}
    )
    after = as_user("frank", "GET", f"{USERS}/list")

    assert promoted.status_code == 200
    assert as_admin.json()["user"]["is_admin"] is True
    assert frank_lists.status_code == 200
    assert demoted.status_code == 200
    assert denied(after)


def test_delete_removes_the_user_with_their_rows(as_user: AuthApi, seed: Seed) -> None:
    ivan = make_user("ivan")
    WorkspacePermission.objects.create(for_workspace=seed.team_b, user=ivan, permission="READ")
    ExperimentPermission.objects.create(
        experiment=seed.experiments["exp-shared"], user=ivan, permission="READ"
    )

    deleted = as_user("admin", "DELETE", f"{USERS}/delete", {"username": "ivan"})
    again = as_user("admin", "DELETE", f"{USERS}/delete", {"username": "ivan"})

    # differs from reference: it fails with a foreign-key error (spec §16.1).
    assert deleted.status_code == 200
    assert deleted.json() == {}
    assert not WorkspacePermission.objects.filter(user_id=ivan.pk).exists()
    assert not ExperimentPermission.objects.filter(user_id=ivan.pk).exists()
    assert again.status_code == 404
    assert again.json()["message"] == "User with username=ivan not found"


def test_users_current_does_not_exist_in_3_10(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("alice", "GET", f"{USERS}/current")

    assert response.status_code == 404
