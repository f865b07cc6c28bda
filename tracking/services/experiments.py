"""Writes to experiments and their tags in the active workspace. spec: tracking.md §2,
workspaces.md §6-7."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from config.errors import (
    BadRequestError,
    InvalidParameterValueError,
    InvalidStateError,
    ResourceAlreadyExistsError,
    ResourceDoesNotExistError,
)
from tracking.clock import now_ms
from tracking.models import ACTIVE, DELETED, Experiment, ExperimentTag, Run
from tracking.selectors.lookups import parse_experiment_id
from tracking.storage import experiment_artifact_location
from tracking.validators import (
    CUSTOM_VIEW_TAG_PREFIX,
    MAX_CUSTOM_VIEWS_PER_EXPERIMENT,
    clean_experiment_artifact_location,
    custom_view_limit_error,
    is_custom_view_tag,
    validate_experiment_name,
    validate_experiment_tag,
)
from workspaces.context import current_workspace, in_workspace
from workspaces.models import DEFAULT_WORKSPACE, Workspace
from workspaces.selectors import current_workspace_checked

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"


def _experiment_for_update(experiment_id: str, *, stage: str | None = None) -> Experiment:
    """The experiment, row-locked for the rest of the transaction; 404 unless it is in
    ``stage`` (any stage when ``None``), with the reference's message."""
    pk = parse_experiment_id(experiment_id)
    queryset = Experiment.objects.select_for_update().filter(experiment_id=pk)
    if stage is not None:
        queryset = queryset.filter(lifecycle_stage=stage)
    experiment = queryset.first()
    if experiment is None:
        raise ResourceDoesNotExistError(f"No Experiment with id={experiment_id} exists")
    return experiment


def _check_active(experiment: Experiment) -> None:
    if experiment.lifecycle_stage != ACTIVE:
        raise InvalidParameterValueError(
            f"The experiment {experiment.experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )


@transaction.atomic
def experiment_create(
    *, name: str, artifact_location: str = "", tags: Iterable[tuple[str, str]] = ()
) -> Experiment:
    """Create an experiment in the active workspace; names are unique per workspace, deleted
    experiments included.

    With workspaces on, the artifact location is always derived from the new id; without
    them a client-chosen location is validated and kept. The checks run in the reference's
    order: custom-view count, location, name, tags.
    """
    tag_list = list(tags)
    if sum(is_custom_view_tag(key) for key, _ in tag_list) > MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
        raise custom_view_limit_error()
    if artifact_location:
        artifact_location = clean_experiment_artifact_location(artifact_location)
        if settings.MLFLOW_ENABLE_WORKSPACES:
            # spec: examples/workspaces/experiment_artifact_location_rejected.json
            raise InvalidParameterValueError(
                "artifact_location cannot be specified when workspaces are enabled"
            )
    validate_experiment_name(name)
    for key, value in tag_list:
        validate_experiment_tag(key, value)

    workspace = current_workspace_checked()
    now = now_ms()
    try:
        with transaction.atomic():  # savepoint: a taken name must not end the transaction
            experiment = Experiment.objects.create(
                workspace=workspace,
                name=name,
                artifact_location=artifact_location,
                lifecycle_stage=ACTIVE,
                creation_time=now,
                last_update_time=now,
            )
    except IntegrityError as error:
        raise ResourceAlreadyExistsError(
            f"Experiment(name={name}) already exists. Error: {error}"
        ) from None
    if not artifact_location:
        experiment.artifact_location = experiment_artifact_location(
            workspace, experiment.experiment_id
        )
        experiment.save(update_fields=["artifact_location"])
    # A key given twice keeps its last value (upsert semantics).
    values = dict(tag_list)
    ExperimentTag.objects.bulk_create(
        ExperimentTag(workspace=workspace, experiment=experiment, key=key, value=value)
        for key, value in values.items()
    )
    return experiment


@transaction.atomic
def experiment_rename(*, experiment_id: str, new_name: str) -> Experiment:
    """Rename an active experiment; a name taken in the workspace is refused."""
    validate_experiment_name(new_name)
    experiment = _experiment_for_update(experiment_id)
    if experiment.lifecycle_stage != ACTIVE:
        # differs from reference: HTTP 500 there (INVALID_STATE); 400 here.
        raise InvalidStateError("Cannot rename a non-active experiment.")
    experiment.name = new_name
    experiment.last_update_time = now_ms()
    try:
        with transaction.atomic():
            experiment.save(update_fields=["name", "last_update_time"])
    except IntegrityError as error:
        # spec: examples/experiments/errors.json, BAD_REQUEST with the database's own text.
        raise BadRequestError(str(error)) from None
    return experiment


@transaction.atomic
def experiment_delete(*, experiment_id: str) -> Experiment:
    """Soft-delete an active experiment and its active runs (one shared ``deleted_time``).

    differs from reference: MLflow re-marks runs that were already deleted, so a restore
    brings them back too. Here they keep their own ``deleted_time``, and the experiment's
    deletion time is kept after any of theirs, so restore can tell them apart.
    """
    experiment = _experiment_for_update(experiment_id, stage=ACTIVE)
    now = now_ms()
    latest = Run.objects.filter(experiment=experiment).aggregate(latest=Max("deleted_time"))
    if latest["latest"] is not None and latest["latest"] >= now:
        now = latest["latest"] + 1
    experiment.lifecycle_stage = DELETED
    experiment.last_update_time = now
    experiment.save(update_fields=["lifecycle_stage", "last_update_time"])
    Run.objects.filter(experiment=experiment, lifecycle_stage=ACTIVE).update(
        lifecycle_stage=DELETED, deleted_time=now
    )
    return experiment


@transaction.atomic
def experiment_restore(*, experiment_id: str) -> Experiment:
    """Restore a deleted experiment and the runs that were deleted with it."""
    experiment = _experiment_for_update(experiment_id, stage=DELETED)
    deleted_at = experiment.last_update_time
    experiment.lifecycle_stage = ACTIVE
    experiment.last_update_time = now_ms()
    experiment.save(update_fields=["lifecycle_stage", "last_update_time"])
    Run.objects.filter(
        experiment=experiment, lifecycle_stage=DELETED, deleted_time=deleted_at
    ).update(lifecycle_stage=ACTIVE, deleted_time=None)
    return experiment


@transaction.atomic
def experiment_set_tag(*, experiment_id: str, key: str, value: str) -> ExperimentTag:
    """Set (insert or overwrite) a tag on an active experiment. ``last_update_time`` stays.

    At most 50 custom-view tags: only adding one is capped, overwriting one is not.
    """
    if is_custom_view_tag(key):
        # The reference checks the cap before anything else, on active and deleted alike.
        experiment = _experiment_for_update(experiment_id)
        candidates = ExperimentTag.objects.filter(
            experiment=experiment, key__startswith=CUSTOM_VIEW_TAG_PREFIX
        ).values_list("key", flat=True)
        # SQLite's LIKE ignores case; the prefix does not.
        keys = {candidate for candidate in candidates if is_custom_view_tag(candidate)}
        if key not in keys and len(keys) >= MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
            raise custom_view_limit_error(experiment.experiment_id)
        validate_experiment_tag(key, value)
    else:
        validate_experiment_tag(key, value)
        experiment = _experiment_for_update(experiment_id)
    _check_active(experiment)
    # The experiment row lock serialises writers, so the update-or-insert cannot collide.
    tag = ExperimentTag.objects.filter(experiment=experiment, key=key).first()
    if tag is None:
        return ExperimentTag.objects.create(
            workspace=current_workspace(),
            experiment=experiment,
            key=key,
            value=value,
        )
    tag.value = value
    tag.save(update_fields=["value"])
    return tag


@transaction.atomic
def experiment_delete_tag(*, experiment_id: str, key: str) -> None:
    """Delete a tag of an active experiment; a missing tag is RESOURCE_DOES_NOT_EXIST."""
    experiment = _experiment_for_update(experiment_id)
    _check_active(experiment)
    deleted, _ = ExperimentTag.objects.filter(experiment=experiment, key=key).delete()
    if not deleted:
        raise ResourceDoesNotExistError(
            f"No tag with name: {key} in experiment with id {experiment_id}"
        )


def experiment_ensure_default() -> Experiment | None:
    """Recreate experiment ``0``, ``Default``, in the ``default`` workspace when it is missing.

    Returns the new experiment, or ``None`` when nothing was created: it exists, or its id or
    name is taken (experiment ids are global, so id 0 may have moved to another workspace).
    """
    default = Workspace.objects.get(name=DEFAULT_WORKSPACE)
    with in_workspace(default):
        if Experiment.objects.filter(experiment_id=DEFAULT_EXPERIMENT_ID).exists():
            return None
        now = now_ms()
        try:
            with transaction.atomic():
                return Experiment.objects.create(
                    experiment_id=DEFAULT_EXPERIMENT_ID,
                    workspace=default,
                    name=DEFAULT_EXPERIMENT_NAME,
                    artifact_location=experiment_artifact_location(default, DEFAULT_EXPERIMENT_ID),
                    lifecycle_stage=ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
        except IntegrityError:
            return None
