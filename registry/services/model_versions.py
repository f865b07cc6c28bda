"""Writes to model versions (prompt versions included) and their tags in the active workspace.
spec: registry.md §3, §5."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from config.errors import InvalidParameterValueError
from registry import version_rows
from registry.models import STAGE_ARCHIVED, ModelVersion, ModelVersionTag, RegisteredModel
from registry.selectors.lookups import (
    model_version_not_found,
    registered_model_not_found,
    tags_mark_prompt,
)
from registry.services import webhooks
from registry.services.sources import (
    SourceRun,
    logged_model_record_version,
    resolve_version_source,
)
from registry.validators import (
    ACTIVE_STAGES,
    canonical_stage,
    parse_version,
    validate_model_name,
    validate_model_version_tag,
)
from registry.webhooks.events import Event
from tracking.clock import now_ms
from tracking.validators import validate_key
from workspaces.context import current_workspace


def _locked_version(name: str, version: str | int) -> ModelVersion:
    """Version ``version`` of ``name``, its registered model row locked; a missing model is
    reported as a missing version, as in the reference."""
    validate_model_name(name)
    number = parse_version(version)
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    found = model.versions.filter(version=number).first() if model is not None else None
    if model is None or found is None:
        raise model_version_not_found(name, number)
    found.registered_model = model
    return found


def _locked_model(
    name: str, *, event: Event, run_id: str | None
) -> tuple[RegisteredModel, bool, SourceRun | None]:
    """The registered model ``name``, row-locked until the transaction ends (creators of its
    versions queue here), read together with what the rest of the creation needs, saving a
    query each: whether any webhook subscribes to ``event``, and the run ``run_id`` names.

    A locking read (``SELECT ... FOR UPDATE``), not ``UPDATE ... last_version + 1`` first:
    with concurrent creators, MariaDB's ``UPDATE`` at times matched no row at all (the
    concurrency test saw "not found"); the locking read waits and reads the committed row.
    """
    validate_model_name(name)
    locked = version_rows.model_lock(
        workspace_id=current_workspace().pk, name=name, event=event, run_id=run_id or ""
    )
    if locked is None:
        raise registered_model_not_found(name)
    run = SourceRun(locked.run_artifact_uri) if run_id else None
    return locked.model, locked.is_subscribed, run


@transaction.atomic
def model_version_create(
    *,
    name: str,
    source: str,
    run_id: str | None = None,
    model_id: str | None = None,
    tags: Iterable[tuple[str, str]] = (),
    run_link: str = "",
    description: str = "",
) -> ModelVersion:
    """Create the next version of a registered model (or prompt).

    Numbers are 1, 2, 3, ... per model and never reused: the model row is locked and its
    ``last_version`` counter taken, so concurrent creations queue instead of colliding.
    ``run_id``/``model_id`` are None when the request did not send them.
    """
    validate_model_name(name)
    tag_list = list(tags)
    event = webhooks.model_version_created_event(tag_list)
    model, subscribed, run = _locked_model(name, event=event, run_id=run_id)
    resolved = resolve_version_source(
        source=source,
        run_id=run_id,
        model_id=model_id,
        is_prompt=tags_mark_prompt(dict(tag_list)),
        run=run,
    )
    for key, value in tag_list:
        validate_model_version_tag(key, value)
    now = now_ms()
    model.last_version += 1
    model.last_updated_timestamp = now
    workspace = current_workspace()
    version_rows.model_counter_save(workspace_id=workspace.pk, model=model)
    version = ModelVersion(
        workspace=workspace,
        registered_model=model,
        version=model.last_version,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=description,
        source=resolved.source,
        storage_location=resolved.storage_location,
        run_id=resolved.run_id,
        run_link=run_link,
        model_id=resolved.model_id,
    )
    version.save(force_insert=True)
    if tag_list:
        ModelVersionTag.objects.bulk_create(
            ModelVersionTag(workspace=workspace, model_version=version, key=key, value=value)
            for key, value in dict(tag_list).items()
        )
    if resolved.model_id and not tags_mark_prompt(dict(tag_list)):
        logged_model_record_version(model_id=resolved.model_id, name=name, version=version.version)
    webhooks.webhook_notify_model_version_created(
        version=version, name=name, tags=tag_list, subscribed=subscribed
    )
    return version


@transaction.atomic
def model_version_update(*, name: str, version: str, description: str) -> ModelVersion:
    """Set a version's description (an absent one clears it, as in the reference)."""
    found = _locked_version(name, version)
    found.description = description
    found.last_updated_timestamp = now_ms()
    found.save(update_fields=["description", "last_updated_timestamp"])
    return found


@transaction.atomic
def model_version_transition_stage(
    *, name: str, version: str, stage: str, archive_existing_versions: bool = False
) -> ModelVersion:
    """Move a version to a stage; with ``archive_existing_versions`` every other version in
    that (Staging or Production) stage moves to Archived."""
    target_stage = canonical_stage(stage)
    if archive_existing_versions and target_stage not in ACTIVE_STAGES:
        # differs from reference: INTERNAL_ERROR (500) there for this caller mistake.
        raise InvalidParameterValueError(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    found = _locked_version(name, version)
    now = now_ms()
    if archive_existing_versions:
        ModelVersion.objects.filter(
            registered_model=found.registered_model, current_stage=target_stage
        ).exclude(pk=found.pk).update(current_stage=STAGE_ARCHIVED, last_updated_timestamp=now)
    found.current_stage = target_stage
    found.last_updated_timestamp = now
    found.save(update_fields=["current_stage", "last_updated_timestamp"])
    model = found.registered_model
    model.last_updated_timestamp = now
    model.save(update_fields=["last_updated_timestamp"])
    return found


@transaction.atomic
def model_version_delete(*, name: str, version: str) -> None:
    """Delete a version with its tags and aliases; its number is never handed out again."""
    found = _locked_version(name, version)
    model = found.registered_model
    found.delete()
    model.last_updated_timestamp = now_ms()
    model.save(update_fields=["last_updated_timestamp"])


@transaction.atomic
def model_version_set_tag(*, name: str, version: str, key: str, value: str) -> ModelVersionTag:
    """Set (insert or overwrite) a tag of a version."""
    validate_model_name(name)
    parse_version(version)
    validate_model_version_tag(key, value)
    found = _locked_version(name, version)
    webhooks.webhook_notify_model_version_tag_set(
        model=found.registered_model, version=version, key=key, value=value
    )
    tag = ModelVersionTag.objects.filter(model_version=found, key=key).first()
    if tag is None:
        return ModelVersionTag.objects.create(
            workspace=current_workspace(), model_version=found, key=key, value=value
        )
    tag.value = value
    tag.save(update_fields=["value"])
    return tag


@transaction.atomic
def model_version_delete_tag(*, name: str, version: str, key: str) -> None:
    """Delete a tag of a version; a tag that is not there is no error, as in the reference."""
    validate_model_name(name)
    parse_version(version)
    validate_key(key)
    found = _locked_version(name, version)
    ModelVersionTag.objects.filter(model_version=found, key=key).delete()
    webhooks.webhook_notify_model_version_tag_deleted(
        model=found.registered_model, version=version, key=key
    )
