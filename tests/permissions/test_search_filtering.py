"""Searches show only what the caller may read, with full pages.
spec: auth-workspace-permissions.md §11, examples/auth-3.10/search_filtering.json."""

from __future__ import annotations

from typing import Any

from tests.permissions.conftest import AuthApi, Seed

API = "/api/2.0/mlflow"


def experiment_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [experiment["name"] for experiment in response.json().get("experiments", [])]


def search(as_user: AuthApi, who: str, workspace: str = "team-a", **body: Any) -> Any:
    return as_user(
        who, "POST", f"{API}/experiments/search", {"max_results": 100, **body}, workspace=workspace
    )


def test_alice_does_not_find_the_hidden_experiment(as_user: AuthApi, seed: Seed) -> None:
    names = experiment_names(search(as_user, "alice", order_by=["name ASC"]))
    ajax = as_user(
        "alice",
        "POST",
        "/ajax-api/2.0/mlflow/experiments/search",
        {"max_results": 100},
        workspace="team-a",
    )

    assert names == ["exp-bob", "exp-downgrade", "exp-shared", "exp-upgrade"]
    assert "exp-secret" not in experiment_names(ajax)


def test_bob_finds_only_his_experiment(as_user: AuthApi, seed: Seed) -> None:
    assert experiment_names(search(as_user, "bob")) == ["exp-bob"]


def test_no_permission_finds_nothing(as_user: AuthApi, seed: Seed) -> None:
    erin = search(as_user, "erin")
    alice_elsewhere = search(as_user, "alice", workspace="team-b")

    assert erin.json() == {}
    assert alice_elsewhere.json() == {}


def test_a_filtered_page_is_refilled(as_user: AuthApi, seed: Seed) -> None:
    body: dict[str, Any] = {
        "max_results": 1,
        "order_by": ["name ASC"],
        "filter": "name LIKE 'exp-s%'",
    }

    admin = search(as_user, "admin", **body)
    alice = search(as_user, "alice", **body)

    assert experiment_names(admin) == ["exp-secret"]
    assert experiment_names(alice) == ["exp-shared"]


def test_run_search_skips_unreadable_experiments(as_user: AuthApi, seed: Seed) -> None:
    ids = [seed.exp("exp-shared"), seed.exp("exp-secret"), seed.exp("exp-bob")]

    def run_names(who: str) -> list[str]:
        response = as_user(
            who,
            "POST",
            f"{API}/runs/search",
            {"experiment_ids": ids, "max_results": 100},
            workspace="team-a",
        )
        assert response.status_code == 200
        return sorted(run["info"]["run_name"] for run in response.json().get("runs", []))

    assert run_names("alice") == ["run-bob", "run-shared"]
    assert run_names("bob") == ["run-bob"]
    assert run_names("erin") == []
