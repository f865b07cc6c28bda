"""The plain-SQL statements of registry/version_rows.py read and write only the workspace they
are given.

They bypass the scoping manager (registry/version_rows.py), so each is called here with one
workspace's id and another workspace's model, run or webhook: nothing is found, counted or
changed across.
"""

from __future__ import annotations

from django.db import transaction

from registry import version_rows
from registry.models import (
    IS_PROMPT_TAG_KEY,
    ModelVersion,
    RegisteredModel,
    RegisteredModelTag,
    Webhook,
    WebhookEvent,
)
from registry.webhooks.events import MODEL_VERSION_CREATED, PROMPT_VERSION_CREATED
from tests.factories import (
    ExperimentFactory,
    ModelVersionFactory,
    ModelVersionTagFactory,
    RegisteredModelFactory,
    RegisteredModelTagFactory,
    RunFactory,
)
from tracking.models import Run
from workspaces.context import across_workspaces
from workspaces.models import Workspace


def subscribed_webhook(workspace: Workspace, *, status: str = "ACTIVE") -> None:
    """A webhook of ``workspace`` subscribed to model_version.created."""
    with across_workspaces("test data"):
        webhook = Webhook.objects.create(
            workspace=workspace,
            webhook_id=f"hook-{workspace.name}-{status}",
            name="hook",
            url="https://hooks.example/",
            status=status,
            creation_timestamp=1,
            last_updated_timestamp=1,
        )
        WebhookEvent.objects.create(
            workspace=workspace, webhook=webhook, entity="model_version", action="created"
        )


def run_of(workspace: Workspace) -> Run:
    run: Run = RunFactory(experiment=ExperimentFactory(workspace=workspace))
    return run


def lock(workspace: Workspace, name: str, run_id: str = "") -> version_rows.LockedModel | None:
    with transaction.atomic():
        return version_rows.model_lock(
            workspace_id=workspace.pk, name=name, event=MODEL_VERSION_CREATED, run_id=run_id
        )


def test_lock_given_the_model_workspace_reads_its_run_and_webhooks(team_a: Workspace) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m", last_version=4)
    run = run_of(team_a)
    subscribed_webhook(team_a)

    locked = lock(team_a, "m", run.run_uuid)

    assert locked is not None
    assert (locked.model.pk, locked.model.name, locked.model.last_version) == (model.pk, "m", 4)
    assert locked.model.workspace_id == team_a.pk
    assert locked.is_subscribed
    assert locked.run_artifact_uri == run.artifact_uri


def test_lock_given_another_workspace_finds_nothing_of_it(
    team_a: Workspace, team_b: Workspace
) -> None:
    RegisteredModelFactory(workspace=team_a, name="m")
    RegisteredModelFactory(workspace=team_b, name="only-b")
    run_b = run_of(team_b)
    subscribed_webhook(team_b)
    subscribed_webhook(team_a, status="DISABLED")

    # team-b's model and run, team-a's id: not found; team-b's webhook does not count
    assert lock(team_a, "only-b") is None
    locked = lock(team_a, "m", run_b.run_uuid)

    assert locked is not None
    assert not locked.is_subscribed
    assert locked.run_artifact_uri is None


def test_lock_tells_events_apart(team_a: Workspace) -> None:
    RegisteredModelFactory(workspace=team_a, name="m")
    subscribed_webhook(team_a)

    with transaction.atomic():
        locked = version_rows.model_lock(
            workspace_id=team_a.pk, name="m", event=PROMPT_VERSION_CREATED, run_id=""
        )

    assert locked is not None
    assert not locked.is_subscribed


def test_counter_given_another_workspace_changes_nothing(
    team_a: Workspace, team_b: Workspace
) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m", last_version=4)
    model.last_version, model.last_updated_timestamp = 9, 99

    version_rows.model_counter_save(workspace_id=team_b.pk, model=model)
    with across_workspaces("test data"):
        untouched = RegisteredModel.objects.get(pk=model.pk)
    version_rows.model_counter_save(workspace_id=team_a.pk, model=model)
    with across_workspaces("test data"):
        saved = RegisteredModel.objects.get(pk=model.pk)

    assert untouched.last_version == 4
    assert (saved.last_version, saved.last_updated_timestamp) == (9, 99)


def test_latest_versions_given_the_model_workspace_are_the_newest_per_stage(
    team_a: Workspace,
) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m")
    other = RegisteredModelFactory(workspace=team_a, name="other")
    ModelVersionFactory(registered_model=model, version=1)
    ModelVersionFactory(registered_model=model, version=2, current_stage="Staging")
    newest = ModelVersionFactory(registered_model=model, version=3)
    ModelVersionTagFactory(model_version=newest)
    ModelVersionFactory(registered_model=other, version=1)

    found = version_rows.latest_versions(workspace_id=team_a.pk, model_ids=[model.pk])

    assert [(v.registered_model_id, v.version, v.current_stage) for v in found] == [
        (model.pk, 2, "Staging"),
        (model.pk, 3, "None"),
    ]
    assert [v.has_tags for v in found] == [False, True]  # type: ignore[attr-defined]


def test_latest_versions_given_another_workspace_find_nothing(
    team_a: Workspace, team_b: Workspace
) -> None:
    model = RegisteredModelFactory(workspace=team_a, name="m")
    ModelVersionFactory(registered_model=model)

    assert version_rows.latest_versions(workspace_id=team_b.pk, model_ids=[model.pk]) == []


def test_own_rows_exist_count_only_rows_of_the_row_workspace(
    team_a: Workspace, team_b: Workspace
) -> None:
    tagged = RegisteredModelFactory(workspace=team_a, name="tagged")
    RegisteredModelTagFactory(registered_model=tagged)
    stray = RegisteredModelFactory(workspace=team_a, name="stray")
    # a tag row claiming another workspace never counts for the row
    RegisteredModelTagFactory(registered_model=stray, workspace=team_b)

    with across_workspaces("test data"):
        flags = dict(
            RegisteredModel.objects.annotate(
                tagged=version_rows.own_rows_exist(RegisteredModelTag, "registered_model")
            ).values_list("name", "tagged")
        )

    assert flags == {"tagged": 1, "stray": 0}


def test_not_prompt_conditions_read_only_tags_of_the_row_workspace(
    team_a: Workspace, team_b: Workspace
) -> None:
    prompt = RegisteredModelFactory(workspace=team_a, name="prompt")
    RegisteredModelTagFactory(registered_model=prompt, key=IS_PROMPT_TAG_KEY, value="true")
    ModelVersionTagFactory(
        model_version=ModelVersionFactory(registered_model=prompt),
        key=IS_PROMPT_TAG_KEY,
        value="true",
    )
    model = RegisteredModelFactory(workspace=team_a, name="model")
    # prompt tags claiming another workspace never make the model a prompt
    RegisteredModelTagFactory(
        registered_model=model, workspace=team_b, key=IS_PROMPT_TAG_KEY, value="true"
    )
    ModelVersionTagFactory(
        model_version=ModelVersionFactory(registered_model=model),
        workspace=team_b,
        key=IS_PROMPT_TAG_KEY,
        value="true",
    )
    RegisteredModelTagFactory(
        registered_model=RegisteredModelFactory(workspace=team_a, name="upper"),
        key=IS_PROMPT_TAG_KEY,
        value="TRUE",
    )

    with across_workspaces("test data"):
        models = RegisteredModel.objects.filter(version_rows.not_prompt_model())
        versions = ModelVersion.objects.filter(version_rows.not_prompt_version())
        model_names = sorted(models.values_list("name", flat=True))
        version_models = sorted(versions.values_list("registered_model__name", flat=True))

    assert model_names == ["model", "upper"]
    assert version_models == ["model"]
