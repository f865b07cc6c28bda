"""The seed's scenarios over the wire. spec: examples/auth-3.10/seed_scenarios.json,
levels_read_edit_manage.json, explicit_beats_workspace.json, not_found_vs_forbidden.json."""

from __future__ import annotations

from typing import Any

from permissions.models import ExperimentPermission
from tests.permissions.conftest import AuthApi, Seed, denied

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def get_experiment(as_user: AuthApi, who: str, experiment_id: str, workspace: str | None) -> Any:
    return as_user(
        who,
        "GET",
        f"{API}/experiments/get",
        workspace=workspace,
        query={"experiment_id": experiment_id},
    )


# --- alice: READ on team-a reads everything there ------------------------------------------


def test_alice_reads_every_experiment_and_run_of_team_a(as_user: AuthApi, seed: Seed) -> None:
    experiment = get_experiment(as_user, "alice", seed.exp("exp-shared"), "team-a")
    run = as_user(
        "alice",
        "GET",
        f"{API}/runs/get",
        workspace="team-a",
        query={"run_id": seed.run("run-shared")},
    )
    history = as_user(
        "alice",
        "GET",
        f"{API}/metrics/get-history",
        workspace="team-a",
        query={"run_id": seed.run("run-shared"), "metric_key": "acc"},
    )

    assert experiment.status_code == 200
    assert experiment.json()["experiment"]["name"] == "exp-shared"
    assert run.status_code == 200
    assert run.json()["run"]["info"]["run_id"] == seed.run("run-shared")
    assert history.status_code == 200


def test_alice_loses_only_the_experiment_with_no_permissions(as_user: AuthApi, seed: Seed) -> None:
    secret = get_experiment(as_user, "alice", seed.exp("exp-secret"), "team-a")
    secret_run = as_user(
        "alice",
        "GET",
        f"{API}/runs/get",
        workspace="team-a",
        query={"run_id": seed.run("run-secret")},
    )
    by_name = as_user(
        "alice",
        "GET",
        f"{API}/experiments/get-by-name",
        workspace="team-a",
        query={"experiment_name": "exp-secret"},
    )
    ajax = as_user(
        "alice",
        "GET",
        f"{AJAX}/experiments/get",
        workspace="team-a",
        query={"experiment_id": seed.exp("exp-secret")},
    )
    shared = get_experiment(as_user, "alice", seed.exp("exp-shared"), "team-a")

    assert denied(secret)
    assert denied(secret_run)
    assert denied(by_name)
    assert denied(ajax)
    assert shared.status_code == 200


def test_alice_has_nothing_in_team_b(as_user: AuthApi, seed: Seed) -> None:
    response = get_experiment(as_user, "alice", seed.exp("exp-b"), "team-b")

    assert denied(response)


def test_alice_sees_only_team_a_in_the_workspace_list(as_user: AuthApi, seed: Seed) -> None:
    response = as_user("alice", "GET", "/api/3.0/mlflow/workspaces")

    assert response.status_code == 200
    assert response.json() == {
        "workspaces": [{"name": "team-a", "description": "team-a workspace"}]
    }


# --- bob: EDIT on one experiment, no workspace permission ----------------------------------


def test_bob_uses_his_experiment(as_user: AuthApi, seed: Seed) -> None:
    read = get_experiment(as_user, "bob", seed.exp("exp-bob"), "team-a")
    logged = as_user(
        "bob",
        "POST",
        f"{API}/runs/log-metric",
        {"run_id": seed.run("run-bob"), "key": "loss", "value": 0.25, "timestamp": 1, "step": 1},
        workspace="team-a",
    )
    created = as_user(
        "bob",
        "POST",
        f"{API}/runs/create",
        {"experiment_id": seed.exp("exp-bob"), "run_name": "bobs-run"},
        workspace="team-a",
    )

    assert read.status_code == 200
    assert logged.status_code == 200
    assert logged.json() == {}
    assert created.status_code == 200
    assert created.json()["run"]["info"]["experiment_id"] == seed.exp("exp-bob")


def test_bob_has_nothing_else_in_team_a(as_user: AuthApi, seed: Seed) -> None:
    other = get_experiment(as_user, "bob", seed.exp("exp-shared"), "team-a")
    other_run = as_user(
        "bob",
        "GET",
        f"{API}/runs/get",
        workspace="team-a",
        query={"run_id": seed.run("run-shared")},
    )
    delete = as_user(
        "bob",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": seed.exp("exp-bob")},
        workspace="team-a",
    )

    assert denied(other)
    assert denied(other_run)
    assert denied(delete)  # EDIT cannot delete


def test_bob_does_not_see_team_a_in_the_workspace_list(as_user: AuthApi, seed: Seed) -> None:
    listed = as_user("bob", "GET", "/api/3.0/mlflow/workspaces")
    listed_ajax = as_user("bob", "GET", "/ajax-api/3.0/mlflow/workspaces")
    fetched = as_user("bob", "GET", "/api/3.0/mlflow/workspaces/team-a")

    assert listed.status_code == 200
    assert listed.json() == {}
    assert listed_ajax.json() == {}
    assert denied(fetched)


def test_bob_without_the_workspace_header_finds_no_experiment(as_user: AuthApi, seed: Seed) -> None:
    # spec: the explicit row passes the check; default's store has no such experiment.
    response = get_experiment(as_user, "bob", seed.exp("exp-bob"), None)

    assert response.status_code == 404
    assert response.json()["message"] == f"No Experiment with id={seed.exp('exp-bob')} exists"


# --- levels: READ cannot write, EDIT cannot delete or grant, MANAGE can --------------------


def test_read_cannot_write(as_user: AuthApi, seed: Seed) -> None:
    run_id = seed.run("run-shared")
    experiment_id = seed.exp("exp-shared")
    writes = [
        ("POST", f"{API}/runs/create", {"experiment_id": experiment_id}),
        (
            "POST",
            f"{API}/runs/log-metric",
            {"run_id": run_id, "key": "a", "value": 1, "timestamp": 1},
        ),
        (
            "POST",
            f"{API}/runs/log-batch",
            {"run_id": run_id, "params": [{"key": "p", "value": "1"}]},
        ),
        ("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"}),
        ("POST", f"{API}/runs/set-tag", {"run_id": run_id, "key": "t", "value": "1"}),
        ("POST", f"{API}/runs/update", {"run_id": run_id, "status": "FINISHED"}),
        ("POST", f"{API}/runs/log-inputs", {"run_id": run_id, "datasets": []}),
        ("POST", f"{API}/experiments/update", {"experiment_id": experiment_id, "new_name": "x"}),
        (
            "POST",
            f"{API}/experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": "k", "value": "v"},
        ),
        ("POST", f"{API}/experiments/delete", {"experiment_id": experiment_id}),
        ("POST", f"{API}/runs/delete", {"run_id": run_id}),
        ("POST", f"{AJAX}/runs/create", {"experiment_id": experiment_id}),
    ]

    answers = {
        (method, path): as_user("alice", method, path, body, workspace="team-a")
        for method, path, body in writes
    }

    assert [key for key, response in answers.items() if not denied(response)] == []


def test_use_reads_like_read_and_cannot_write(as_user: AuthApi, seed: Seed) -> None:
    read = get_experiment(as_user, "frank", seed.exp("exp-shared"), "team-a")
    write = as_user(
        "frank",
        "POST",
        f"{API}/runs/create",
        {"experiment_id": seed.exp("exp-shared")},
        workspace="team-a",
    )

    assert read.status_code == 200
    assert denied(write)


def test_edit_writes_but_cannot_delete_or_grant(as_user: AuthApi, seed: Seed) -> None:
    run_id = seed.run("run-shared")
    experiment_id = seed.exp("exp-shared")

    created = as_user(
        "dave", "POST", f"{API}/runs/create", {"experiment_id": experiment_id}, workspace="team-a"
    )
    tagged = as_user(
        "dave",
        "POST",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "owner", "value": "dave"},
        workspace="team-a",
    )
    run_delete = as_user(
        "dave", "POST", f"{API}/runs/delete", {"run_id": run_id}, workspace="team-a"
    )
    experiment_delete = as_user(
        "dave",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": experiment_id},
        workspace="team-a",
    )
    grant = as_user(
        "dave",
        "POST",
        f"{API}/experiments/permissions/create",
        {"experiment_id": experiment_id, "username": "erin", "permission": "READ"},
        workspace="team-a",
    )
    read_grant = as_user(
        "dave",
        "GET",
        f"{API}/experiments/permissions/get",
        workspace="team-a",
        query={"experiment_id": experiment_id, "username": "dave"},
    )
    create_experiment = as_user(
        "dave", "POST", f"{API}/experiments/create", {"name": "by-dave"}, workspace="team-a"
    )

    assert created.status_code == 200
    assert tagged.status_code == 200
    assert denied(run_delete)
    assert denied(experiment_delete)
    assert denied(grant)
    assert denied(read_grant)
    assert denied(create_experiment)  # 3.10.1: creating needs MANAGE on the workspace


def test_manage_deletes_restores_and_creates(as_user: AuthApi, seed: Seed) -> None:
    run_id = seed.run("run-shared")
    experiment_id = seed.exp("exp-shared")

    run_delete = as_user(
        "carol", "POST", f"{API}/runs/delete", {"run_id": run_id}, workspace="team-a"
    )
    experiment_delete = as_user(
        "carol",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": experiment_id},
        workspace="team-a",
    )
    restore = as_user(
        "carol",
        "POST",
        f"{API}/experiments/restore",
        {"experiment_id": experiment_id},
        workspace="team-a",
    )
    created = as_user(
        "carol", "POST", f"{API}/experiments/create", {"name": "exp-by-carol"}, workspace="team-a"
    )

    assert run_delete.status_code == 200
    assert experiment_delete.status_code == 200
    assert restore.status_code == 200
    assert created.status_code == 200


# --- an explicit row replaces the workspace level, lower or higher --------------------------


def test_explicit_read_caps_workspace_edit(as_user: AuthApi, seed: Seed) -> None:
    experiment = seed.experiments["exp-downgrade"]
    ExperimentPermission.objects.create(
        experiment=experiment, user=seed.users["dave"], permission="READ"
    )

    read = get_experiment(as_user, "dave", str(experiment.pk), "team-a")
    tag = as_user(
        "dave",
        "POST",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": str(experiment.pk), "key": "k", "value": "v"},
        workspace="team-a",
    )
    run = as_user(
        "dave",
        "POST",
        f"{API}/runs/create",
        {"experiment_id": str(experiment.pk)},
        workspace="team-a",
    )

    assert read.status_code == 200
    assert denied(tag)
    assert denied(run)


def test_explicit_edit_caps_workspace_manage(as_user: AuthApi, seed: Seed) -> None:
    experiment = seed.experiments["exp-downgrade"]
    ExperimentPermission.objects.create(
        experiment=experiment, user=seed.users["carol"], permission="EDIT"
    )

    response = as_user(
        "carol",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": str(experiment.pk)},
        workspace="team-a",
    )

    assert denied(response)


def test_explicit_manage_lifts_workspace_read(as_user: AuthApi, seed: Seed) -> None:
    experiment_id = seed.exp("exp-upgrade")
    ExperimentPermission.objects.create(
        experiment=seed.experiments["exp-upgrade"], user=seed.users["alice"], permission="MANAGE"
    )

    tag = as_user(
        "alice",
        "POST",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "k", "value": "v"},
        workspace="team-a",
    )
    grant = as_user(
        "alice",
        "POST",
        f"{API}/experiments/permissions/create",
        {"experiment_id": experiment_id, "username": "erin", "permission": "READ"},
        workspace="team-a",
    )
    delete = as_user(
        "alice",
        "POST",
        f"{API}/experiments/delete",
        {"experiment_id": experiment_id},
        workspace="team-a",
    )

    assert tag.status_code == 200
    assert grant.status_code == 200
    assert grant.json() == {
        "experiment_permission": {
            "experiment_id": experiment_id,
            "permission": "READ",
            "user_id": seed.users["erin"].pk,
        }
    }
    assert delete.status_code == 200


# --- 403 or 404 ----------------------------------------------------------------------------


def test_missing_or_foreign_experiment_is_403_for_members_and_404_for_admins(
    as_user: AuthApi, seed: Seed
) -> None:
    member_missing = get_experiment(as_user, "alice", "987654", "team-a")
    admin_missing = get_experiment(as_user, "admin", "987654", "team-a")
    member_foreign = get_experiment(as_user, "alice", seed.exp("exp-b"), "team-a")
    admin_foreign = get_experiment(as_user, "admin", seed.exp("exp-b"), "team-a")

    assert denied(member_missing)
    assert admin_missing.status_code == 404
    assert admin_missing.json()["message"] == "No Experiment with id=987654 exists"
    assert denied(member_foreign)
    assert admin_foreign.status_code == 404


def test_missing_name_and_missing_run_are_404(as_user: AuthApi, seed: Seed) -> None:
    by_name = as_user(
        "alice",
        "GET",
        f"{API}/experiments/get-by-name",
        workspace="team-a",
        query={"experiment_name": "no-such-experiment"},
    )
    run = as_user("alice", "GET", f"{API}/runs/get", workspace="team-a", query={"run_id": "0" * 32})

    assert by_name.status_code == 404
    assert by_name.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert run.status_code == 404
    assert run.json()["message"] == f"Run with id={'0' * 32} not found"


def test_unknown_workspace_is_404_before_authentication(as_user: AuthApi, seed: Seed) -> None:
    response = as_user(None, "GET", f"{API}/experiments/search", workspace="no-such-ws")

    assert response.status_code == 404
    assert response.json()["message"] == "Workspace 'no-such-ws' not found"


def test_bulk_metric_routes_need_read_on_every_run(as_user: AuthApi, seed: Seed) -> None:
    def bulk(who: str, *runs: str, prefix: str = API) -> Any:
        return as_user(
            who,
            "GET",
            f"{prefix}/metrics/get-history-bulk-interval",
            workspace="team-a",
            query={"run_ids": [seed.run(run) for run in runs], "metric_key": "acc"},
        )

    alice_readable = bulk("alice", "run-shared", "run-bob")
    alice_with_secret = bulk("alice", "run-shared", "run-secret", prefix=AJAX)
    bob_own = bulk("bob", "run-bob")
    bob_with_other = bulk("bob", "run-bob", "run-shared")

    assert alice_readable.status_code == 200
    # differs from reference: its /api/ form checks nothing (spec §16.5).
    assert denied(alice_with_secret)
    assert bob_own.status_code == 200
    assert denied(bob_with_other)
