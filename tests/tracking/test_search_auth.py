"""Searches under authentication: callers see only what they may read, in full pages.

spec: auth-workspace-permissions.md §10-11, examples/auth-3.10/search_filtering.json.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from permissions.authentication import reset_bootstrap_state, verified_passwords
from permissions.models import ExperimentPermission, WorkspacePermission
from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory
from tests.tracking.test_search_support import (
    SEARCH_EXPERIMENTS,
    SEARCH_RUNS,
    experiment_names,
    run_names,
)
from tracking.models import Experiment
from workspaces.models import Workspace


@pytest.fixture
def auth_on(settings: Any) -> Iterator[None]:
    """Authentication on, as recorded: READ by default, no default-workspace grant."""
    settings.MLFLOW_AUTH_ENABLED = True
    settings.MLFLOW_AUTH_DEFAULT_PERMISSION = "READ"
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = False
    settings.MLFLOW_AUTH_ADMIN_PASSWORD = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    verified_passwords.clear()
    reset_bootstrap_state()
    yield
    verified_passwords.clear()
    reset_bootstrap_state()


def user(name: str, *, admin: bool = False) -> User:
    return User.objects.create_user(
        username=name, password=f"{name}-password-1234", is_superuser=admin, is_staff=admin
    )


def as_user(api: ApiClient, name: str, method: str, path: str, body: Any) -> Any:
    secret = base64.b64encode(f"{name}:{name}-password-1234".encode()).decode()
    return api.call(
        method, path, body, workspace="team-a", headers={"Authorization": f"Basic {secret}"}
    )


@pytest.fixture
def experiments(
    auth_on: None, api: ApiClient, team_a: Workspace, team_b: Workspace
) -> dict[str, Experiment]:
    """alice reads team-a except exp-secret; bob edits exp-bob only; erin has nothing."""
    made: dict[str, Experiment] = {
        name: ExperimentFactory(workspace=workspace, name=name, creation_time=index)
        for index, (name, workspace) in enumerate(
            [("exp-shared", team_a), ("exp-secret", team_a), ("exp-bob", team_a), ("exp-b", team_b)]
        )
    }
    for name, experiment in made.items():
        RunFactory(experiment=experiment, run_name=f"run-{name}", start_time=1)
    users = {name: user(name, admin=name == "admin") for name in ["admin", "alice", "bob", "erin"]}
    WorkspacePermission.objects.create(for_workspace=team_a, user=users["alice"], permission="READ")
    ExperimentPermission.objects.create(
        experiment=made["exp-secret"], user=users["alice"], permission="NO_PERMISSIONS"
    )
    ExperimentPermission.objects.create(
        experiment=made["exp-bob"], user=users["bob"], permission="EDIT"
    )
    return made


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", ["exp-bob", "exp-secret", "exp-shared"]),
        ("alice", ["exp-bob", "exp-shared"]),
        ("bob", ["exp-bob"]),
        ("erin", []),
    ],
)
def test_search_experiments_returns_only_readable_experiments(
    api: ApiClient, experiments: dict[str, Experiment], who: str, expected: list[str]
) -> None:
    response = as_user(api, who, "POST", SEARCH_EXPERIMENTS, {"max_results": 100})

    assert experiment_names(response) == expected


def test_search_experiments_pages_stay_full_when_rows_are_hidden(
    api: ApiClient, experiments: dict[str, Experiment]
) -> None:
    # spec: examples/auth-3.10/search_filtering.json: the hidden exp-secret sorts first, and
    # alice's page of one is exp-shared (the reference refills it; we filter in SQL).
    body = {"max_results": 1, "order_by": ["name ASC"], "filter": "name LIKE 'exp-s%'"}

    admin = as_user(api, "admin", "POST", SEARCH_EXPERIMENTS, body)
    alice = as_user(api, "alice", "POST", SEARCH_EXPERIMENTS, body)

    assert experiment_names(admin) == ["exp-secret"]
    assert "next_page_token" in admin.json()
    assert experiment_names(alice) == ["exp-shared"]
    assert "next_page_token" not in alice.json()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", ["run-exp-bob", "run-exp-secret", "run-exp-shared"]),
        ("alice", ["run-exp-bob", "run-exp-shared"]),
        ("bob", ["run-exp-bob"]),
        ("erin", []),
    ],
)
def test_search_runs_keeps_only_readable_experiments(
    api: ApiClient, experiments: dict[str, Experiment], who: str, expected: list[str]
) -> None:
    ids = [str(experiment.pk) for experiment in experiments.values()]
    body = {"experiment_ids": ids, "order_by": ["run_name"]}

    response = as_user(api, who, "POST", SEARCH_RUNS, body)

    assert run_names(response) == expected


def test_search_without_credentials_is_unauthenticated(
    api: ApiClient, experiments: dict[str, Experiment]
) -> None:
    response = api.call("POST", SEARCH_EXPERIMENTS, {"max_results": 10}, workspace="team-a")

    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_search_filtering_costs_no_extra_query(
    api: ApiClient,
    experiments: dict[str, Experiment],
    django_assert_num_queries: Any,
    who: str,
) -> None:
    as_user(api, who, "POST", SEARCH_EXPERIMENTS, {"max_results": 1})  # caches the password check
    ids = [str(experiment.pk) for experiment in experiments.values()]

    # the filtered page and its data: tags, or the five run queries (the caller's check, the
    # same for both searches, is remembered from the first one)
    with django_assert_num_queries(2):
        as_user(api, who, "POST", SEARCH_EXPERIMENTS, {"max_results": 100})
    with django_assert_num_queries(6):
        as_user(api, who, "POST", SEARCH_RUNS, {"experiment_ids": ids})
