"""Experiment reads for other endpoints (search) and the Default experiment service."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory
from tracking.models import Experiment, ExperimentTag
from tracking.selectors.experiments import experiments_with_tags
from tracking.serializers.experiments import ExperimentOut
from tracking.services.experiments import experiment_ensure_default
from workspaces.context import across_workspaces, in_workspace
from workspaces.models import Workspace


def make_experiments(workspace: Workspace, count: int) -> list[Experiment]:
    experiments: list[Experiment] = [ExperimentFactory(workspace=workspace) for _ in range(count)]
    with across_workspaces("test data"):
        for experiment in experiments:
            for key in ("b", "a"):
                ExperimentTag.objects.create(
                    workspace=workspace, experiment=experiment, key=key, value=key * 2
                )
    return experiments


@pytest.mark.parametrize("count", [1, 3])
def test_experiments_with_tags_from_a_queryset_takes_two_queries(
    team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    make_experiments(team_a, count)

    with in_workspace(team_a), django_assert_num_queries(2):
        rendered = [
            ExperimentOut.render(experiment, tags)
            for experiment, tags in experiments_with_tags(Experiment.objects.order_by("pk"))
        ]

    assert len(rendered) == count
    assert {body["workspace"] for body in rendered} == {"team-a"}
    assert [body["tags"] for body in rendered] == [
        [{"key": "b", "value": "bb"}, {"key": "a", "value": "aa"}]
    ] * count


@pytest.mark.parametrize("count", [1, 3])
def test_experiments_with_tags_from_a_list_keeps_its_order(
    team_a: Workspace, django_assert_num_queries: Any, count: int
) -> None:
    made = make_experiments(team_a, count)
    with in_workspace(team_a):
        loaded = list(Experiment.objects.filter(pk__in=[e.pk for e in made]).order_by("-pk"))

    # the tags, and the workspace the plain query did not load
    with in_workspace(team_a), django_assert_num_queries(2):
        pairs = experiments_with_tags(loaded)
        rendered = [ExperimentOut.render(experiment, tags) for experiment, tags in pairs]

    assert [body["experiment_id"] for body in rendered] == [str(e.pk) for e in reversed(made)]
    assert all(len(body["tags"]) == 2 for body in rendered)


def test_experiments_with_tags_of_nothing_is_empty(team_a: Workspace) -> None:
    with in_workspace(team_a):
        assert experiments_with_tags(Experiment.objects.none()) == []
        assert experiments_with_tags([]) == []


def test_experiments_with_tags_never_returns_other_workspaces_tags(
    team_a: Workspace, team_b: Workspace
) -> None:
    (mine,) = make_experiments(team_a, 1)
    with across_workspaces("test data"):
        # a tag row wrongly filed under team-b must not leak into team-a's rendering
        ExperimentTag.objects.create(workspace=team_b, experiment=mine, key="leak", value="x")

    with in_workspace(team_a):
        ((_, tags),) = experiments_with_tags(Experiment.objects.all().filter(pk=mine.pk))

    assert sorted(tag.key for tag in tags) == ["a", "b"]


def test_render_omits_tags_and_says_default_without_workspaces(
    team_a: Workspace, settings: Any
) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False
    experiment = ExperimentFactory(workspace=team_a, name="plain")

    body = ExperimentOut.render(experiment, [])

    assert body == {
        "experiment_id": str(experiment.pk),
        "name": "plain",
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": "active",
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "workspace": "default",
    }


def test_ensure_default_does_nothing_when_experiment_0_exists(default_workspace: Workspace) -> None:
    created = experiment_ensure_default()

    assert created is None


def test_ensure_default_recreates_experiment_0(default_workspace: Workspace) -> None:
    with across_workspaces("test data"):
        Experiment.objects.filter(pk=0).delete()

    created = experiment_ensure_default()

    assert created is not None
    with across_workspaces("test inspection"):
        experiment = Experiment.objects.get(pk=0)
    assert (experiment.name, experiment.workspace_id, experiment.lifecycle_stage) == (
        "Default",
        default_workspace.pk,
        "active",
    )
    assert experiment.artifact_location == "mlflow-artifacts:/workspaces/default/0"


def test_ensure_default_gives_up_when_the_name_is_taken(default_workspace: Workspace) -> None:
    with across_workspaces("test data"):
        Experiment.objects.filter(pk=0).delete()
    ExperimentFactory(workspace=default_workspace, name="Default")

    created = experiment_ensure_default()

    assert created is None
    with across_workspaces("test inspection"):
        assert not Experiment.objects.filter(pk=0).exists()


@pytest.mark.django_db(transaction=True)
def test_db_upgrade_recreates_the_default_experiment() -> None:
    with across_workspaces("test: start from a database without experiment 0"):
        Experiment.objects.all().delete()
    first, second = StringIO(), StringIO()

    call_command("db_upgrade", stdout=first)
    call_command("db_upgrade", stdout=second)

    with across_workspaces("test inspection"):
        assert list(Experiment.objects.values_list("pk", "name", "workspace__name")) == [
            (0, "Default", "default")
        ]
    assert "Created the 'Default' experiment (id 0)." in first.getvalue()
    assert "Default' experiment" not in second.getvalue()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "create"),
        ("GET", "delete"),
        ("DELETE", "delete"),
        ("GET", "restore"),
        ("GET", "update"),
        ("DELETE", "get"),
        ("POST", "get-by-name"),
        ("GET", "set-experiment-tag"),
        ("GET", "delete-experiment-tag"),
        ("DELETE", "delete-experiment-tag"),
    ],
)
def test_experiment_routes_refuse_other_methods(api: ApiClient, method: str, path: str) -> None:
    response = api.call(method, f"/api/2.0/mlflow/experiments/{path}")

    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"
