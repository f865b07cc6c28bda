"""The move service: generic child discovery, conflicts, dry runs, all-or-nothing moves."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from permissions.models import RegisteredModelPermission
from registry.models import RegisteredModel, RegisteredModelTag
from tests.workspaces.test_moves_support import (
    make_experiment,
    make_registered_model,
    rows_by_model,
    snapshot,
)
from tracking.models import Experiment, Run
from workspaces.context import across_workspaces
from workspaces.models import Workspace
from workspaces.moves import (
    ARTIFACTS_PRESERVE,
    ARTIFACTS_RETARGET,
    MoveAbortedError,
    move_graph,
    relocated_uri,
    resource_types,
    resources_move,
    workspaces_merge_into_default,
)

EXPERIMENT_ROWS = {
    "Experiment": 1,
    "ExperimentTag": 1,
    "Dataset": 1,
    "Run": 2,
    "Param": 2,
    "RunTag": 2,
    "Metric": 4,
    "LatestMetric": 2,
    "RunInput": 2,
    "RunModelLink": 2,
}
MODEL_ROWS = {
    "RegisteredModel": 1,
    "RegisteredModelTag": 1,
    "ModelVersion": 2,
    "ModelVersionTag": 2,
    "RegisteredModelAlias": 1,
}


def test_resource_types_are_the_declared_root_tables(db: None) -> None:
    assert set(resource_types()) >= {"experiments", "registered_models"}


def test_move_graph_of_experiments_reaches_every_child_model() -> None:
    graph = move_graph(Experiment)

    assert {model.__name__ for model in graph.order} == {
        *EXPERIMENT_ROWS,
        "LoggedModel",
        "LoggedModelParam",
        "LoggedModelTag",
        "LoggedModelMetric",
    }
    assert graph.order[0] is Experiment


def test_move_graph_of_registered_models_reaches_versions_tags_aliases_and_grants() -> None:
    graph = move_graph(RegisteredModel)

    assert {model.__name__ for model in graph.order} == {
        *MODEL_ROWS,
        "RegisteredModelPermission",  # keyed by (workspace, name): DEFAULT_MOVE_REFERENCES
    }


def test_move_graph_follows_declared_name_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        RegisteredModelTag,
        "workspace_move_references",
        {"experiments": ("value", "name")},
        raising=False,
    )

    graph = move_graph(Experiment)

    assert RegisteredModelTag in graph.order


def test_move_experiment_moves_every_row_that_belongs_to_it(
    team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "exp-1", runs=2)
    make_experiment(team_a, "stays", runs=1)

    result = resources_move(
        source="team-a", target="team-b", resource_type="experiments", names=["exp-1"]
    )

    assert (result.names, result.row_count, result.dry_run) == (["exp-1"], 1, False)
    assert rows_by_model(team_b) == EXPERIMENT_ROWS
    assert rows_by_model(team_a)["Experiment"] == 1
    assert result.total_rows == sum(EXPERIMENT_ROWS.values())


def test_move_by_tags_requires_every_tag(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "both", tags={"team": "a", "env": "prod"})
    make_experiment(team_a, "one", tags={"team": "a", "env": "dev"})

    result = resources_move(
        source="team-a",
        target="team-b",
        resource_type="experiments",
        tags=[("team", "a"), ("env", "prod")],
    )

    assert result.names == ["both"]
    with across_workspaces("test assertions"):
        assert list(Experiment.objects.filter(workspace=team_b).values_list("name", flat=True)) == [
            "both"
        ]


def test_move_all_when_no_filter(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "x")
    make_experiment(team_a, "y")

    result = resources_move(source="team-a", target="team-b", resource_type="experiments")

    assert result.names == ["x", "y"]
    assert "Experiment" not in rows_by_model(team_a)


def test_move_nothing_matched(team_a: Workspace, team_b: Workspace) -> None:
    result = resources_move(
        source="team-a", target="team-b", resource_type="experiments", names=["missing"]
    )

    assert (result.names, result.row_count) == ([], 0)


def test_move_conflict_aborts_with_nothing_changed(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "demo-exp")
    make_experiment(team_a, "free")
    make_experiment(team_b, "demo-exp")
    before = snapshot()

    with pytest.raises(MoveAbortedError) as error:
        resources_move(source="team-a", target="team-b", resource_type="experiments")

    assert error.value.message == (
        "Move aborted: the following experiments already exist in workspace 'team-b' and "
        "would conflict: \n  'demo-exp'\nRename or remove the conflicting resources in the "
        "target workspace, then retry."
    )
    assert snapshot() == before


def test_move_conflict_list_is_cut_unless_verbose(team_a: Workspace, team_b: Workspace) -> None:
    for index in range(12):
        make_experiment(team_a, f"e{index:02d}", runs=0)
        make_experiment(team_b, f"e{index:02d}", runs=0)

    with pytest.raises(MoveAbortedError) as short:
        resources_move(source="team-a", target="team-b", resource_type="experiments")
    with pytest.raises(MoveAbortedError) as full:
        resources_move(source="team-a", target="team-b", resource_type="experiments", verbose=True)

    assert "\n  'e09'\n  ... (2 more)\n" in short.value.message
    assert "'e11'" in full.value.message
    assert "more" not in full.value.message


def test_move_dry_run_counts_and_changes_nothing(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=2)
    before = snapshot()

    result = resources_move(
        source="team-a", target="team-b", resource_type="experiments", dry_run=True
    )

    assert snapshot() == before
    assert result.dry_run
    assert result.rows_by_table["experiments"] == 1
    assert sum(result.rows_by_table.values()) == sum(EXPERIMENT_ROWS.values())


def test_move_dry_run_reports_conflicts(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "same")
    make_experiment(team_b, "same")

    with pytest.raises(MoveAbortedError):
        resources_move(source="team-a", target="team-b", resource_type="experiments", dry_run=True)


def test_move_interrupted_midway_changes_nothing(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=3)
    make_experiment(team_a, "exp-2", runs=3)
    before = snapshot()
    seen: list[tuple[int, int]] = []

    def interrupt(done: int, total: int) -> None:
        seen.append((done, total))
        if done > 0:  # some rows already moved
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        resources_move(
            source="team-a", target="team-b", resource_type="experiments", progress=interrupt
        )

    assert seen[-1][0] > 0
    assert snapshot() == before


def test_move_progress_reaches_the_total(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=2)
    seen: list[tuple[int, int]] = []

    resources_move(
        source="team-a",
        target="team-b",
        resource_type="experiments",
        progress=lambda done, total: seen.append((done, total)),
    )

    total = sum(EXPERIMENT_ROWS.values())
    assert seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_move_registered_model_with_versions_tags_and_aliases(
    team_a: Workspace, team_b: Workspace
) -> None:
    make_registered_model(team_a, "clf", versions=2)
    make_registered_model(team_a, "other", versions=1)

    result = resources_move(
        source="team-a", target="team-b", resource_type="registered_models", names=["clf"]
    )

    assert result.names == ["clf"]
    assert rows_by_model(team_b) == MODEL_ROWS


def test_move_registered_model_takes_its_permission_rows(
    team_a: Workspace, team_b: Workspace
) -> None:
    user = User.objects.create_user("bob")
    make_registered_model(team_a, "clf")
    make_registered_model(team_a, "stays")
    for name in ("clf", "stays"):
        RegisteredModelPermission.objects.create(
            for_workspace=team_a, name=name, user=user, permission="EDIT"
        )

    resources_move(
        source="team-a", target="team-b", resource_type="registered_models", names=["clf"]
    )

    grants = RegisteredModelPermission.objects.order_by("name")
    assert list(grants.values_list("name", "for_workspace__name")) == [
        ("clf", "team-b"),
        ("stays", "team-a"),
    ]


def test_merge_conflict_on_permission_rows(default_workspace: Workspace, team_a: Workspace) -> None:
    user = User.objects.create_user("bob")
    for workspace in (default_workspace, team_a):
        RegisteredModelPermission.objects.create(
            for_workspace=workspace, name="ghost", user=user, permission="READ"
        )

    with pytest.raises(MoveAbortedError) as error:
        workspaces_merge_into_default()

    assert "duplicate registered model permissions with the same name and user" in (
        error.value.message
    )


def test_move_registered_models_by_tag(team_a: Workspace, team_b: Workspace) -> None:
    make_registered_model(team_a, "a", tags={"team": "vision"})
    make_registered_model(team_a, "b", tags={"team": "nlp"})

    result = resources_move(
        source="team-a",
        target="team-b",
        resource_type="registered_models",
        tags=[("team", "nlp")],
    )

    assert result.names == ["b"]


def test_move_declared_name_reference_moves_with_its_root(
    team_a: Workspace, team_b: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A registered-model tag stands in for a row keyed by a root's name (a permission row).
    monkeypatch.setattr(
        RegisteredModelTag,
        "workspace_move_references",
        {"experiments": ("value", "name")},
        raising=False,
    )
    make_experiment(team_a, "exp-named")
    make_registered_model(team_a, "m", tags={"experiment": "exp-named"})
    make_registered_model(team_a, "n", tags={"experiment": "other"})

    resources_move(source="team-a", target="team-b", resource_type="experiments")

    with across_workspaces("test assertions"):
        moved = RegisteredModelTag.objects.filter(workspace=team_b)
        assert list(moved.values_list("value", flat=True)) == ["exp-named"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "team-a"}, "Source and target workspaces must be different."),
        (
            {"resource_type": "bogus"},
            "Unknown resource type 'bogus'. Valid types: experiments, registered_models, webhooks",
        ),
        (
            {"names": ["x"], "tags": [("k", "v")]},
            "--name and --tag are mutually exclusive.",
        ),
        (
            {"resource_type": "registered_models", "artifact_policy": ARTIFACTS_RETARGET},
            "--artifact-policy retarget is only supported for --resource-type experiments.",
        ),
        ({"target": "nowhere"}, "Workspace 'nowhere' not found"),
    ],
)
def test_move_refuses_bad_arguments(
    team_a: Workspace, team_b: Workspace, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "source": "team-a",
        "target": "team-b",
        "resource_type": "experiments",
        **kwargs,
    }

    with pytest.raises(Exception) as error:  # noqa: PT011  # the message is asserted
        resources_move(**arguments)  # type: ignore[arg-type]

    assert getattr(error.value, "message", None) == message or str(error.value).startswith(message)


def test_retarget_repoints_experiment_locations_only(team_a: Workspace, team_b: Workspace) -> None:
    experiment = make_experiment(team_a, "exp-1")

    result = resources_move(
        source="team-a",
        target="team-b",
        resource_type="experiments",
        artifact_policy=ARTIFACTS_RETARGET,
    )

    assert result.retarget_root == "mlflow-artifacts:/workspaces/team-b"
    with across_workspaces("test assertions"):
        experiment.refresh_from_db()
        run = Run.objects.get(experiment=experiment)
    assert experiment.artifact_location == f"mlflow-artifacts:/workspaces/team-b/{experiment.pk}"
    assert run.artifact_uri.startswith("mlflow-artifacts:/workspaces/team-a/")


def test_preserve_keeps_every_uri(team_a: Workspace, team_b: Workspace) -> None:
    experiment = make_experiment(team_a, "exp-1")

    resources_move(
        source="team-a",
        target="team-b",
        resource_type="experiments",
        artifact_policy=ARTIFACTS_PRESERVE,
    )

    with across_workspaces("test assertions"):
        experiment.refresh_from_db()
    assert experiment.artifact_location.startswith("mlflow-artifacts:/workspaces/team-a/")


def test_move_rewrites_artifact_uris_to_the_target(team_a: Workspace, team_b: Workspace) -> None:
    experiment = make_experiment(team_a, "exp-1")

    result = resources_move(source="team-a", target="team-b", resource_type="experiments")

    with across_workspaces("test assertions"):
        experiment.refresh_from_db()
        run = Run.objects.get(experiment=experiment)
    assert experiment.artifact_location == f"mlflow-artifacts:/workspaces/team-b/{experiment.pk}"
    assert run.artifact_uri == f"{experiment.artifact_location}/{run.pk}/artifacts"
    assert result.artifacts is not None
    assert result.artifacts.uris_rewritten == 2


def test_relocated_uri_forms(team_a: Workspace, team_b: Workspace, default_workspace) -> None:
    assert relocated_uri("mlflow-artifacts:/workspaces/team-a/1/x", team_a, team_b) == (
        "mlflow-artifacts:/workspaces/team-b/1/x"
    )
    assert relocated_uri("mlflow-artifacts:/7/r/artifacts", default_workspace, team_b) == (
        "mlflow-artifacts:/workspaces/team-b/7/r/artifacts"
    )
    assert relocated_uri("mlflow-artifacts:/custom/7/r", team_a, team_b) == (
        "mlflow-artifacts:/workspaces/team-b/custom/7/r"
    )
    assert relocated_uri("mlflow-artifacts://host/7/r", team_a, team_b) is None
    assert relocated_uri("s3://bucket/team-a/1", team_a, team_b) is None
    assert relocated_uri("mlflow-artifacts:/workspaces/team-c/1", team_a, team_b) is None


# --- merging every workspace into default -------------------------------------------------


def test_merge_moves_every_row_into_default(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=2)
    make_registered_model(team_b, "b-model", versions=2)

    result = workspaces_merge_into_default()

    assert rows_by_model(team_a) == {}
    assert rows_by_model(team_b) == {}
    assert result.rows_by_table["experiments"] == 1
    assert result.total_rows == sum(EXPERIMENT_ROWS.values()) + sum(MODEL_ROWS.values())
    assert Workspace.objects.filter(name__in=["team-a", "team-b"]).count() == 2


def test_merge_conflict_lists_the_colliding_rows(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    mine = make_experiment(default_workspace, "demo-exp", runs=0)
    theirs = make_experiment(team_a, "demo-exp", runs=0)
    before = snapshot()

    with pytest.raises(MoveAbortedError) as error:
        workspaces_merge_into_default()

    assert error.value.message == (
        "Move aborted: merging workspaces would create duplicate experiments with the same "
        "name. Resolve the following conflicts by renaming the affected resources (restore "
        "deleted ones first) or permanently deleting them, then retry: "
        f"\n  name='demo-exp', workspace='default', experiment_id={mine.pk}"
        f"\n  name='demo-exp', workspace='team-a', experiment_id={theirs.pk}"
    )
    assert snapshot() == before


def test_merge_conflict_registered_models(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    make_registered_model(team_a, "clf")
    make_registered_model(team_b, "clf")

    with pytest.raises(MoveAbortedError) as error:
        workspaces_merge_into_default()

    assert error.value.message.endswith(
        "\n  name='clf', workspace='team-a'\n  name='clf', workspace='team-b'"
    )
    assert "duplicate registered models with the same name" in error.value.message


def test_merge_conflicts_cut_to_five_unless_verbose(
    default_workspace: Workspace, team_a: Workspace
) -> None:
    for index in range(4):
        make_experiment(default_workspace, f"x{index}", runs=0)
        make_experiment(team_a, f"x{index}", runs=0)

    with pytest.raises(MoveAbortedError) as short:
        workspaces_merge_into_default()
    with pytest.raises(MoveAbortedError) as full:
        workspaces_merge_into_default(verbose=True)

    assert short.value.message.endswith("\n  ... (3 more)")
    assert full.value.message.count("\n  name=") == 8


def test_merge_dry_run_changes_nothing(default_workspace: Workspace, team_a: Workspace) -> None:
    make_experiment(team_a, "a-exp")
    before = snapshot()

    result = workspaces_merge_into_default(dry_run=True)

    assert snapshot() == before
    assert result.rows_by_table["experiments"] == 1


def test_merge_interrupted_changes_nothing(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=2)
    make_registered_model(team_b, "b-model")
    before = snapshot()
    calls: list[int] = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        workspaces_merge_into_default(progress=interrupt)

    assert calls[-1] > 0
    assert snapshot() == before
