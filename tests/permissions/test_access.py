"""permissions/access/ on its own: the requirement grammar and the filters selectors use to
show each user only what they may read (spec §11, §13), in one query and with pages intact."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from permissions.access import (
    Requirement,
    experiments_readable_q,
    parse_requirement,
    registered_models_readable_q,
    workspaces_visible,
)
from permissions.models import RegisteredModelPermission, WorkspacePermission
from tests.permissions.conftest import Seed, make_model
from tracking.models import Experiment, Run
from workspaces.context import in_workspace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("public", Requirement("public")),
        ("authenticated", Requirement("authenticated")),
        ("admin", Requirement("admin")),
        ("self", Requirement("self")),
        ("read", Requirement("resource", "read", "")),
        ("edit:experiment", Requirement("resource", "update", "experiment")),
        ("update:run", Requirement("resource", "update", "run")),
        ("delete:registered_model", Requirement("resource", "delete", "registered_model")),
        ("manage:workspace", Requirement("resource", "manage", "workspace")),
        ("use:workspace_name", Requirement("resource", "use", "workspace_name")),
    ],
)
def test_parse_requirement(text: str, expected: Requirement) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize("text", ["workspace_read", "write", "read:nothing", "READ", ""])
def test_parse_requirement_refuses_unknown_words(text: str) -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        parse_requirement(text)


def readable_experiments(seed: Seed, who: Any, workspace: str = "team-a") -> list[str]:
    user = seed.users[who] if isinstance(who, str) else who
    with in_workspace(getattr(seed, workspace.replace("-", "_"))):
        rows = Experiment.objects.filter(experiments_readable_q(user)).order_by("name")
        return [experiment.name for experiment in rows]


TEAM_A = ["exp-bob", "exp-downgrade", "exp-secret", "exp-shared", "exp-upgrade"]


def test_workspace_read_shows_all_but_explicitly_hidden(seed: Seed) -> None:
    assert readable_experiments(seed, "alice") == [n for n in TEAM_A if n != "exp-secret"]


def test_explicit_rows_alone_show_only_their_experiments(seed: Seed) -> None:
    assert readable_experiments(seed, "bob") == ["exp-bob"]


def test_no_rows_show_nothing(seed: Seed) -> None:
    assert readable_experiments(seed, "erin") == []
    assert readable_experiments(seed, "erin", "default") == []
    assert readable_experiments(seed, AnonymousUser()) == []


def test_admins_and_auth_off_see_everything(seed: Seed, settings: Any) -> None:
    admin = readable_experiments(seed, "admin")
    settings.MLFLOW_AUTH_ENABLED = False
    off = readable_experiments(seed, None)

    assert admin == TEAM_A
    assert off == TEAM_A


def test_default_workspace_grant_and_workspaces_off(seed: Seed, settings: Any) -> None:
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = True
    granted = readable_experiments(seed, "erin", "default")
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = False
    settings.MLFLOW_ENABLE_WORKSPACES = False
    no_workspaces = readable_experiments(seed, "erin", "default")
    settings.MLFLOW_AUTH_DEFAULT_PERMISSION = "NO_PERMISSIONS"
    nothing_by_default = readable_experiments(seed, "erin", "default")

    assert granted == ["Default", "exp-default"]
    assert no_workspaces == ["Default", "exp-default"]
    assert nothing_by_default == []


def test_explicit_rows_decide_with_workspaces_off(seed: Seed, settings: Any) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False
    alice = readable_experiments(seed, "alice")
    bob = readable_experiments(seed, "bob")
    settings.MLFLOW_AUTH_DEFAULT_PERMISSION = "NO_PERMISSIONS"
    bob_without_default = readable_experiments(seed, "bob")

    assert alice == [name for name in TEAM_A if name != "exp-secret"]  # NO_PERMISSIONS row
    assert bob == TEAM_A
    assert bob_without_default == ["exp-bob"]  # only his EDIT row


def test_a_filtered_page_keeps_its_size(seed: Seed) -> None:
    # spec: examples/auth-3.10/search_filtering.json, max_results=1 over names 'exp-s%'.
    with in_workspace(seed.team_a):
        page = list(
            Experiment.objects.filter(name__startswith="exp-s")
            .filter(experiments_readable_q(seed.users["alice"]))
            .order_by("name")[:1]
        )

    assert [experiment.name for experiment in page] == ["exp-shared"]


def test_runs_are_filtered_by_their_experiment(seed: Seed) -> None:
    q = experiments_readable_q(seed.users["alice"], experiment_field="experiment_id")
    with in_workspace(seed.team_a):
        runs = sorted(run.run_name for run in Run.objects.filter(q))

    assert runs == ["run-bob", "run-shared"]


def test_filtering_costs_no_extra_query(seed: Seed, django_assert_num_queries: Any) -> None:
    with in_workspace(seed.team_a), django_assert_num_queries(1):
        list(Experiment.objects.filter(experiments_readable_q(seed.users["alice"])))


def readable_models(seed: Seed, who: str) -> list[str]:
    from permissions.access import registered_model_class

    model = registered_model_class()
    assert model is not None
    with in_workspace(seed.team_a):
        rows = model._default_manager.filter(registered_models_readable_q(seed.users[who]))
        return sorted(rows.values_list("name", flat=True))


def test_registered_models_follow_the_same_rule(seed: Seed) -> None:
    make_model(seed.team_a, "model-bobs")
    RegisteredModelPermission.objects.create(
        for_workspace=seed.team_a, name="model-bobs", user=seed.users["bob"], permission="READ"
    )
    # A row of the same name in another workspace grants nothing here.
    RegisteredModelPermission.objects.create(
        for_workspace=seed.team_b, name="model-a", user=seed.users["bob"], permission="READ"
    )

    assert readable_models(seed, "alice") == ["model-a", "model-bobs"]
    assert readable_models(seed, "bob") == ["model-bobs"]
    assert readable_models(seed, "erin") == []
    assert readable_models(seed, "admin") == ["model-a", "model-bobs", "model-hidden"]


def test_workspaces_visible(seed: Seed, settings: Any) -> None:
    WorkspacePermission.objects.create(
        for_workspace=seed.team_b, user=seed.users["erin"], permission="NO_PERMISSIONS"
    )

    def names(who: str) -> list[str]:
        return [w.name for w in workspaces_visible(seed.users[who])]

    assert names("admin") == ["default", "team-a", "team-b"]
    assert names("alice") == ["team-a"]
    assert names("bob") == []
    assert names("erin") == []
    settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS = True
    assert names("erin") == ["default"]
    assert names("alice") == ["default", "team-a"]
