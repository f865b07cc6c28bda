"""Remembered authorization decisions (permissions/decisions.py): a granted request is answered
without a query for MLFLOW_AUTH_DECISION_CACHE_SECONDS, a change made in this process applies
at once, a change made elsewhere (another process: here the ORM without our services) within
the bound, and refusals are never remembered."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permissions.decisions import decisions
from permissions.models import ExperimentPermission, WorkspacePermission
from permissions.services import token_issue
from tests.conftest import ApiClient
from tests.permissions.conftest import AuthApi, Seed, basic, denied, unauthenticated

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"


def read_shared(as_user: AuthApi, seed: Seed, who: str) -> Any:
    return as_user(
        who,
        "GET",
        f"{API}/experiments/get",
        workspace="team-a",
        query={"experiment_id": seed.exp("exp-shared")},
    )


def create_in_team_a(as_user: AuthApi, who: str, name: str) -> Any:
    return as_user(who, "POST", f"{API}/experiments/create", {"name": name}, workspace="team-a")


def test_a_granted_request_is_remembered_per_credentials_and_resource(
    as_user: AuthApi, seed: Seed
) -> None:
    read_shared(as_user, seed, "alice")
    read_shared(as_user, seed, "carol")

    assert len(decisions) == 2  # nothing of the password, one entry per caller and resource


def test_a_workspace_grant_lowered_through_the_api_applies_at_once(
    as_user: AuthApi, seed: Seed
) -> None:
    before = create_in_team_a(as_user, "carol", "carol-1")
    as_user(
        "admin", "POST", f"{WS}/team-a/permissions", {"username": "carol", "permission": "READ"}
    )

    after = create_in_team_a(as_user, "carol", "carol-2")

    assert before.status_code == 200
    assert denied(after)


def test_an_experiment_row_added_through_the_api_applies_at_once(
    as_user: AuthApi, seed: Seed
) -> None:
    before = read_shared(as_user, seed, "dave")
    as_user(
        "admin",
        "POST",
        f"{API}/experiments/permissions/create",
        {
            "experiment_id": seed.exp("exp-shared"),
            "username": "dave",
            "permission": "NO_PERMISSIONS",
        },
        workspace="team-a",
    )

    after = read_shared(as_user, seed, "dave")

    assert before.status_code == 200
    assert denied(after)


def test_a_changed_password_applies_at_once(as_user: AuthApi, seed: Seed) -> None:
    before = read_shared(as_user, seed, "alice")
    as_user(
        "admin",
        "PATCH",
        f"{API}/users/update-password",
        {"username": "alice", "password": "alice-new-password-99"},
    )

    old = read_shared(as_user, seed, "alice")

    assert before.status_code == 200
    assert unauthenticated(old)


def test_a_deleted_user_is_refused_at_once(as_user: AuthApi, seed: Seed) -> None:
    before = read_shared(as_user, seed, "alice")
    as_user("admin", "DELETE", f"{API}/users/delete", {"username": "alice"})

    after = read_shared(as_user, seed, "alice")

    assert before.status_code == 200
    assert unauthenticated(after)


def test_a_removed_admin_flag_applies_at_once(as_user: AuthApi, seed: Seed) -> None:
    as_user("admin", "PATCH", f"{API}/users/update-admin", {"username": "erin", "is_admin": True})
    before = read_shared(as_user, seed, "erin")
    as_user("admin", "PATCH", f"{API}/users/update-admin", {"username": "erin", "is_admin": False})

    after = read_shared(as_user, seed, "erin")

    assert before.status_code == 200
    assert denied(after)


def test_an_admin_site_edit_applies_at_once(as_user: AuthApi, seed: Seed) -> None:
    site = Client()
    site.force_login(seed.users["admin"])
    row = WorkspacePermission.objects.get(user=seed.users["alice"], for_workspace=seed.team_a)
    before = read_shared(as_user, seed, "alice")

    site.post(f"/admin/permissions/workspacepermission/{row.pk}/delete/", {"post": "yes"})
    after = read_shared(as_user, seed, "alice")

    assert before.status_code == 200
    assert not WorkspacePermission.objects.filter(pk=row.pk).exists()
    assert denied(after)


def test_a_failed_login_ends_the_remembered_grants(
    as_user: AuthApi, seed: Seed, api: ApiClient, settings: Any
) -> None:
    settings.MLFLOW_AUTH_MAX_FAILED_LOGINS = 1
    before = read_shared(as_user, seed, "alice")
    api.call("GET", WS, headers=basic("alice", "wrong-password-123"))

    locked = read_shared(as_user, seed, "alice")

    assert before.status_code == 200
    assert unauthenticated(locked)


def test_a_change_made_elsewhere_applies_within_the_bound(
    as_user: AuthApi, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS = 1
    granted_at = time.monotonic()
    before = read_shared(as_user, seed, "alice")
    # Another process (or a direct database edit) revokes: this process is not told.
    WorkspacePermission.objects.filter(user=seed.users["alice"]).update(permission="NO_PERMISSIONS")

    within = read_shared(as_user, seed, "alice")
    within_bound = time.monotonic() - granted_at < 1
    time.sleep(max(0.0, granted_at + 1.05 - time.monotonic()))
    after = read_shared(as_user, seed, "alice")

    assert before.status_code == 200
    if within_bound:  # the documented revocation delay (on a very slow machine it has passed)
        assert within.status_code == 200
    assert denied(after)


def test_refusals_are_not_remembered(as_user: AuthApi, seed: Seed) -> None:
    refused = read_shared(as_user, seed, "erin")
    # A grant made elsewhere works at once: only grants are remembered.
    ExperimentPermission.objects.create(
        experiment=seed.experiments["exp-shared"], user=seed.users["erin"], permission="READ"
    )

    granted = read_shared(as_user, seed, "erin")

    assert denied(refused)
    assert granted.status_code == 200


def test_a_token_decision_ends_when_the_token_expires(
    api: ApiClient, seed: Seed, settings: Any
) -> None:
    settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS = 60
    secret = token_issue(user=seed.users["carol"], expires_at=timezone.now() + timedelta(seconds=1))
    headers = {"Authorization": f"Bearer {secret}"}
    query = {"experiment_id": seed.exp("exp-shared")}
    before = api.call(
        "GET", f"{API}/experiments/get", workspace="team-a", query=query, headers=headers
    )

    time.sleep(1.05)
    after = api.call(
        "GET", f"{API}/experiments/get", workspace="team-a", query=query, headers=headers
    )

    assert before.status_code == 200
    assert unauthenticated(after)


def test_a_disabled_cache_remembers_nothing(as_user: AuthApi, seed: Seed, settings: Any) -> None:
    settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS = 0
    read_shared(as_user, seed, "alice")

    with CaptureQueriesContext(connection) as queries:
        read_shared(as_user, seed, "alice")

    assert len(decisions) == 0
    assert any("auth_user" in query["sql"] for query in queries.captured_queries)


def auth_queries(queries: CaptureQueriesContext) -> int:
    return sum("auth_user" in query["sql"] for query in queries.captured_queries)


def test_what_a_create_implies_is_remembered(as_user: AuthApi, seed: Seed) -> None:
    experiment_id = create_in_team_a(as_user, "carol", "carols").json()["experiment_id"]
    with CaptureQueriesContext(connection) as queries:
        read = as_user(
            "carol",
            "GET",
            f"{API}/experiments/get",
            workspace="team-a",
            query={"experiment_id": experiment_id},
        )
        run = as_user(
            "carol",
            "POST",
            f"{API}/runs/create",
            {"experiment_id": experiment_id},
            workspace="team-a",
        )
        run_id = run.json()["run"]["info"]["run_id"]
        logged = as_user(
            "carol",
            "POST",
            f"{API}/runs/log-metric",
            {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1},
            workspace="team-a",
        )
        got = as_user(
            "carol", "GET", f"{API}/runs/get", workspace="team-a", query={"run_id": run_id}
        )

    assert [read.status_code, run.status_code, logged.status_code, got.status_code] == [200] * 4
    assert auth_queries(queries) == 0  # the creator's MANAGE row, and the run's experiment


def test_what_a_create_implies_ends_with_a_revocation(as_user: AuthApi, seed: Seed) -> None:
    run = as_user(
        "bob",
        "POST",
        f"{API}/runs/create",
        {"experiment_id": seed.exp("exp-bob")},
        workspace="team-a",
    )
    run_id = run.json()["run"]["info"]["run_id"]
    metric = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}
    before = as_user("bob", "POST", f"{API}/runs/log-metric", metric, workspace="team-a")
    as_user(
        "admin",
        "PATCH",
        f"{API}/experiments/permissions/update",
        {"experiment_id": seed.exp("exp-bob"), "username": "bob", "permission": "READ"},
        workspace="team-a",
    )

    after = as_user("bob", "POST", f"{API}/runs/log-metric", metric, workspace="team-a")
    read = as_user("bob", "GET", f"{API}/runs/get", workspace="team-a", query={"run_id": run_id})

    assert run.status_code == 200
    assert before.status_code == 200
    assert denied(after)
    assert read.status_code == 200
