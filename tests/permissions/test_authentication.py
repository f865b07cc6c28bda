"""Authentication: public routes, 401 on every route family, Basic and bearer credentials,
the verified-password cache, login throttling and the bootstrap admin.
spec: auth-workspace-permissions.md §1-2, examples/auth-3.10/public_and_unauthenticated.json."""

from __future__ import annotations

import base64
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from permissions.authentication import (
    BasicCredentials,
    TokenCredentials,
    credentials_from_header,
    credentials_verify,
    ensure_bootstrap_admin,
    reset_bootstrap_state,
)
from permissions.models import LoginFailure, Token
from permissions.services import token_issue, user_bootstrap_admin
from tests.conftest import ApiClient
from tests.permissions.conftest import (
    AuthApi,
    Seed,
    basic,
    denied,
    make_user,
    password_of,
    unauthenticated,
)

RUN = "0" * 32
# One route of every family, under both prefixes where both exist (spec §2, §10).
PROTECTED_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/3.0/mlflow/server-info", None),
    ("GET", "/version", None),
    ("GET", "/metrics", None),
    ("GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "1"}),
    ("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 10}),
    ("POST", "/ajax-api/2.0/mlflow/experiments/search", {"max_results": 10}),
    ("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "1"}),
    ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["1"]}),
    ("GET", "/api/2.0/mlflow/metrics/get-history", {"run_id": RUN, "metric_key": "m"}),
    ("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", {"run_ids": RUN}),
    ("GET", "/api/2.0/mlflow/registered-models/search", {}),
    ("GET", "/api/2.0/mlflow/registered-models/get", {"name": "model-a"}),
    ("GET", "/api/2.0/mlflow/model-versions/search", {}),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", {"path": "workspaces/team-a/1"}),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts/workspaces/team-a/1/x/artifacts/f.txt", None),
    ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/workspaces/team-a/1/x/artifacts/f.txt", None),
    ("GET", "/api/2.0/mlflow/artifacts/list", {"run_id": RUN}),
    ("GET", "/get-artifact", {"run_id": RUN, "path": "f.txt"}),
    ("GET", "/api/3.0/mlflow/workspaces", None),
    ("GET", "/ajax-api/3.0/mlflow/workspaces", None),
    ("POST", "/api/3.0/mlflow/workspaces", {"name": "new-ws"}),
    ("GET", "/api/3.0/mlflow/workspaces/team-a", None),
    ("GET", "/api/3.0/mlflow/workspaces/team-a/permissions", None),
    ("GET", "/api/3.0/mlflow/workspace-permissions", {"username": "alice"}),
    ("GET", "/api/2.0/mlflow/users/get", {"username": "alice"}),
    ("GET", "/ajax-api/2.0/mlflow/users/list", None),
    ("POST", "/api/2.0/mlflow/users/create", {"username": "x", "password": "x" * 12}),
    ("GET", "/api/2.0/mlflow/experiments/permissions/get", {"experiment_id": "1", "username": "a"}),
    ("GET", "/api/2.0/mlflow/registered-models/permissions/get", {"name": "m", "username": "a"}),
]


def call(api: ApiClient, method: str, path: str, data: Any, headers: dict[str, str]) -> Any:
    if method == "GET":
        return api.call("GET", path, query=data, headers=headers)
    return api.call(method, path, data, headers=headers)


@pytest.mark.parametrize(("method", "path", "data"), PROTECTED_ROUTES)
def test_every_route_family_needs_credentials(
    api: ApiClient, seed: Seed, method: str, path: str, data: Any
) -> None:
    response = call(api, method, path, data, {})

    assert unauthenticated(response), (response.status_code, response.content[:200])


@pytest.mark.parametrize(
    "headers",
    [
        basic("alice", "wrong-password-123"),
        basic("nobody-here"),
        {"Authorization": "Bearer some-token"},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Digest username=alice"},
    ],
)
def test_bad_credentials_are_the_same_401(
    api: ApiClient, seed: Seed, headers: dict[str, str]
) -> None:
    response = api.call("POST", "/api/2.0/mlflow/experiments/search", {}, headers=headers)

    assert unauthenticated(response)


def test_health_is_public(api: ApiClient, seed: Seed) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    assert response.content == b"OK"


def test_version_and_server_info_need_any_user(as_user: AuthApi, seed: Seed) -> None:
    version = as_user("erin", "GET", "/version")
    info = as_user("erin", "GET", "/api/3.0/mlflow/server-info")

    assert version.status_code == 200
    assert info.status_code == 200


def test_metrics_are_for_admins(as_user: AuthApi, seed: Seed) -> None:
    admin = as_user("admin", "GET", "/metrics")
    member = as_user("carol", "GET", "/metrics")

    assert admin.status_code == 200
    assert denied(member)


def test_auth_off_needs_no_credentials(api: ApiClient, settings: Any) -> None:
    settings.MLFLOW_AUTH_ENABLED = False

    response = api.call("GET", "/api/3.0/mlflow/workspaces")

    assert response.status_code == 200


def test_inactive_users_are_not_authenticated(as_user: AuthApi, seed: Seed) -> None:
    User.objects.filter(username="alice").update(is_active=False)

    response = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")

    assert unauthenticated(response)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Basic " + base64.b64encode(b"alice:pw:with:colons").decode(),
            BasicCredentials("alice", "pw:with:colons"),
        ),
        ("basic " + base64.b64encode(b"bob:").decode(), BasicCredentials("bob", "")),
        ("Bearer abc.def", TokenCredentials("abc.def")),
        ("Basic " + base64.b64encode(b":nouser").decode(), None),
        ("Basic " + base64.b64encode(b"nocolon").decode(), None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_credentials_from_header(header: str | None, expected: Any) -> None:
    assert credentials_from_header(header) == expected


# --- bearer tokens --------------------------------------------------------------------------


def test_a_token_authenticates_its_user(api: ApiClient, seed: Seed) -> None:
    secret = token_issue(user=seed.users["alice"], name="ci")

    listed = api.call(
        "GET", "/api/3.0/mlflow/workspaces", headers={"Authorization": f"Bearer {secret}"}
    )

    token = Token.objects.get()
    assert listed.status_code == 200
    assert listed.json() == {"workspaces": [{"name": "team-a", "description": "team-a workspace"}]}
    assert secret not in (token.key_hash, token.prefix)
    assert len(token.key_hash) == 64


def test_an_expired_token_is_refused(api: ApiClient, seed: Seed) -> None:
    secret = token_issue(user=seed.users["alice"], expires_at=timezone.now() - timedelta(seconds=1))

    response = api.call(
        "GET", "/api/3.0/mlflow/workspaces", headers={"Authorization": f"Bearer {secret}"}
    )

    assert unauthenticated(response)


def test_issue_token_command_prints_a_working_token(
    api: ApiClient, seed: Seed, capsys: Any
) -> None:
    call_command("issue_token", "bob", "--name", "laptop", "--expires-in-days", "30")
    secret = capsys.readouterr().out.strip()

    response = api.call(
        "GET",
        "/api/2.0/mlflow/users/get",
        query={"username": "bob"},
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 200
    assert Token.objects.get().name == "laptop"


# --- the verified-password cache ------------------------------------------------------------


def test_a_password_is_hashed_once_per_cache_window(
    as_user: AuthApi, seed: Seed, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from django.contrib.auth.hashers import check_password

    settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS = 0  # every request reaches the password check
    calls: list[str] = []

    def counting(password: str, encoded: str) -> bool:
        calls.append(password)
        return check_password(password, encoded)

    monkeypatch.setattr("permissions.authentication.check_password", counting)

    for _ in range(3):
        as_user("alice", "GET", "/api/3.0/mlflow/workspaces")
    as_user("alice", "GET", "/api/3.0/mlflow/workspaces")  # same credentials: cached
    seed.users["alice"].set_password("a-new-password-123")
    seed.users["alice"].save()
    stale = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")

    assert len(calls) == 2  # once, then once more after the stored hash changed
    assert unauthenticated(stale)


def test_a_password_in_use_is_not_hashed_again(
    as_user: AuthApi, seed: Seed, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from django.contrib.auth.hashers import check_password

    settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS = 0
    settings.MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS = 1
    calls: list[str] = []

    def counting(password: str, encoded: str) -> bool:
        calls.append(password)
        return check_password(password, encoded)

    monkeypatch.setattr("permissions.authentication.check_password", counting)

    for _ in range(4):  # 1.6 s in all, never 1 s apart: the entry lives on
        as_user("alice", "GET", "/api/3.0/mlflow/workspaces")
        time.sleep(0.4)
    time.sleep(1.1)  # idle past the window
    as_user("alice", "GET", "/api/3.0/mlflow/workspaces")

    assert len(calls) == 2


def test_concurrent_checks_of_the_same_password_hash_once(
    seed: Seed, monkeypatch: pytest.MonkeyPatch, auth_settings: Any
) -> None:
    from django.contrib.auth.hashers import check_password

    calls: list[str] = []

    def slow(password: str, encoded: str) -> bool:
        calls.append(password)
        time.sleep(0.2)
        return check_password(password, encoded)

    monkeypatch.setattr("permissions.authentication.check_password", slow)
    alice = seed.users["alice"]
    credentials = BasicCredentials("alice", password_of("alice"))
    results: list[bool] = []

    threads = [
        threading.Thread(
            target=lambda: results.append(credentials_verify(alice, credentials, "10.0.0.1", {}))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True] * 4
    assert len(calls) == 1


# --- throttling -----------------------------------------------------------------------------


def test_repeated_failures_lock_the_username_and_address(
    as_user: AuthApi, seed: Seed, api: ApiClient, settings: Any
) -> None:
    settings.MLFLOW_AUTH_MAX_FAILED_LOGINS = 3
    wrong = basic("alice", "wrong-password-123")
    for _ in range(3):
        api.call("GET", "/api/3.0/mlflow/workspaces", headers=wrong)

    locked = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")
    other_user = as_user("bob", "GET", "/api/3.0/mlflow/workspaces")
    other_address = api.get(
        "/api/3.0/mlflow/workspaces", headers=basic("alice"), REMOTE_ADDR="10.9.8.7"
    )

    assert unauthenticated(locked)  # the right password is refused while locked
    assert other_user.status_code == 200
    assert other_address.status_code == 200
    assert LoginFailure.objects.get(username="alice", client_ip="127.0.0.1").count == 3


def test_the_lock_ends_with_its_window_and_success_clears_failures(
    as_user: AuthApi, seed: Seed, api: ApiClient, settings: Any
) -> None:
    settings.MLFLOW_AUTH_MAX_FAILED_LOGINS = 2
    wrong = basic("alice", "wrong-password-123")
    api.call("GET", "/api/3.0/mlflow/workspaces", headers=wrong)
    api.call("GET", "/api/3.0/mlflow/workspaces", headers=wrong)
    locked = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")
    LoginFailure.objects.update(window_started_at=timezone.now() - timedelta(hours=1))

    after_window = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")
    api.call("GET", "/api/3.0/mlflow/workspaces", headers=wrong)
    as_user("alice", "GET", "/api/3.0/mlflow/workspaces")  # success clears recent failures

    assert unauthenticated(locked)
    assert after_window.status_code == 200
    assert not LoginFailure.objects.exists()


def test_unknown_usernames_are_not_counted(api: ApiClient, seed: Seed) -> None:
    api.call("GET", "/api/3.0/mlflow/workspaces", headers=basic("nobody-here"))

    assert not LoginFailure.objects.exists()


# --- the bootstrap admin --------------------------------------------------------------------


def test_the_configured_admin_is_created_once(auth_settings: Any, db: None) -> None:
    auth_settings.MLFLOW_AUTH_ADMIN_USERNAME = "root"
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "root-password-1234"

    created = user_bootstrap_admin()
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "another-password-99"
    again = user_bootstrap_admin()

    root = User.objects.get(username="root")
    assert created == root
    assert again is None
    assert root.is_superuser
    assert root.check_password("root-password-1234")  # a later change of the setting is ignored


def test_the_first_request_creates_the_admin(
    api: ApiClient, auth_settings: Any, default_workspace: Any
) -> None:
    auth_settings.MLFLOW_AUTH_ADMIN_USERNAME = "root"
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "root-password-1234"
    reset_bootstrap_state()

    response = api.call(
        "GET", "/api/3.0/mlflow/workspaces", headers=basic("root", "root-password-1234")
    )

    assert response.status_code == 200
    assert [w["name"] for w in response.json()["workspaces"]] == ["default"]


def test_no_admin_without_a_password_or_with_auth_off(auth_settings: Any, db: None) -> None:
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = ""
    without_password = user_bootstrap_admin()
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "root-password-1234"
    auth_settings.MLFLOW_AUTH_ENABLED = False
    auth_off = user_bootstrap_admin()
    reset_bootstrap_state()
    ensure_bootstrap_admin()

    assert (without_password, auth_off) == (None, None)
    assert not User.objects.exists()


def test_migrate_creates_the_admin(auth_settings: Any, db: None) -> None:
    auth_settings.MLFLOW_AUTH_ADMIN_USERNAME = "root"
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "root-password-1234"

    call_command("migrate", verbosity=0)

    assert User.objects.get(username="root").is_superuser


def test_an_existing_user_is_not_made_admin(auth_settings: Any, db: None) -> None:
    make_user("root")
    auth_settings.MLFLOW_AUTH_ADMIN_USERNAME = "root"
    auth_settings.MLFLOW_AUTH_ADMIN_PASSWORD = "root-password-1234"

    user_bootstrap_admin()

    assert not User.objects.get(username="root").is_superuser
