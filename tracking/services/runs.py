"""Writes to runs: create, update, delete/restore, params, tags, batches, inputs and outputs.

spec: tracking.md §3–4. Every write to an existing run locks its row first
(``run_get_active_for_update``), then works in a fixed number of bulk queries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from django.db import transaction

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from tracking.clock import now_ms
from tracking.models import (
    ACTIVE,
    DELETED,
    Dataset,
    Experiment,
    Param,
    Run,
    RunInput,
    RunModelLink,
    RunTag,
)
from tracking.names import random_name
from tracking.selectors.lookups import experiment_get_active
from tracking.selectors.runs import RunData, run_get_active_for_update
from tracking.services.metrics import MetricPoint, metrics_log
from tracking.storage import run_artifact_uri
from tracking.validators import validate_length
from workspaces.context import current_workspace

RUN_NAME_TAG: Final = "mlflow.runName"
LOG_MODEL_HISTORY_TAG: Final = "mlflow.log-model.history"
MAX_RUN_NAME_LENGTH: Final = 250


@transaction.atomic
def run_create(
    *,
    experiment_id: str,
    user_id: str,
    run_name: str,
    start_time: int,
    tags: Mapping[str, str],
) -> RunData:
    """Create a RUNNING run in an active experiment of the active workspace.

    ``run_name`` and the tag ``mlflow.runName`` are kept equal: a name given only as the tag
    becomes the name, different values are refused, and with neither a name is generated.
    An empty ``experiment_id`` means the ``Default`` experiment ``0``, as in MLflow.
    """
    experiment = experiment_get_active(experiment_id or "0")
    name_tag = tags.get(RUN_NAME_TAG, "")
    if run_name and name_tag and run_name != name_tag:
        raise InvalidParameterValueError(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            f"different values (run_name='{run_name}', mlflow.runName='{name_tag}')."
        )
    run_name = run_name or name_tag or random_name()
    validate_length("run_name", MAX_RUN_NAME_LENGTH, run_name)
    all_tags = dict(tags)
    all_tags[RUN_NAME_TAG] = run_name
    run_id = uuid.uuid4().hex
    run = Run.objects.create(
        workspace=current_workspace(),
        run_uuid=run_id,
        experiment=experiment,
        run_name=run_name,
        user_id=user_id,
        status="RUNNING",
        start_time=start_time,
        lifecycle_stage=ACTIVE,
        artifact_uri=run_artifact_uri(experiment.artifact_location, run_id),
    )
    tag_rows = RunTag.objects.bulk_create(
        RunTag(workspace_id=run.workspace_id, run=run, key=key, value=value)
        for key, value in all_tags.items()
    )
    return RunData(run=run, tags=tag_rows)


def _set_run_name(run: Run, run_name: str) -> None:
    """Rename the run and keep its ``mlflow.runName`` tag equal to the name."""
    validate_length("run_name", MAX_RUN_NAME_LENGTH, run_name)
    run.run_name = run_name
    run.save(update_fields=["run_name"])
    _tags_upsert(run, {RUN_NAME_TAG: run_name})


@transaction.atomic
def run_update(
    *, run_id: str, status: str | None, end_time: int | None, run_name: str | None
) -> Run:
    """Change an active run's status, end time and name; only given values change (an empty
    name changes nothing, as in MLflow)."""
    run = run_get_active_for_update(run_id)
    changed = []
    if status is not None:
        run.status = status
        changed.append("status")
    if end_time is not None:
        run.end_time = end_time
        changed.append("end_time")
    if changed:
        run.save(update_fields=changed)
    if run_name:
        _set_run_name(run, run_name)
    return run


def run_delete(*, run_id: str) -> None:
    """Soft-delete a run (deleting a deleted run is not an error)."""
    updated = Run.objects.filter(run_uuid=run_id).update(
        lifecycle_stage=DELETED, deleted_time=now_ms()
    )
    if not updated:
        raise ResourceDoesNotExistError(f"Run with id={run_id} not found")


def run_restore(*, run_id: str) -> None:
    """Restore a deleted run (restoring an active run is not an error)."""
    updated = Run.objects.filter(run_uuid=run_id).update(lifecycle_stage=ACTIVE, deleted_time=None)
    if not updated:
        raise ResourceDoesNotExistError(f"Run with id={run_id} not found")


def _params_log(run: Run, params: Mapping[str, str]) -> list[dict[str, str]]:
    """Insert the new params; return the ones already logged with another value (untouched)."""
    if not params:
        return []
    existing = {
        param.key: param.value for param in Param.objects.filter(run=run, key__in=list(params))
    }
    changed = [
        {"key": key, "old_value": existing[key], "new_value": value}
        for key, value in params.items()
        if key in existing and existing[key] != value
    ]
    if not changed:
        Param.objects.bulk_create(
            Param(workspace_id=run.workspace_id, run=run, key=key, value=value)
            for key, value in params.items()
            if key not in existing
        )
    return changed


@transaction.atomic
def run_log_param(*, run_id: str, key: str, value: str) -> None:
    """Log a param; params are immutable (the same value again is accepted)."""
    run = run_get_active_for_update(run_id)
    changed = _params_log(run, {key: value})
    if changed:
        raise InvalidParameterValueError(
            f"Changing param values is not allowed. Param with key='{key}' was already logged "
            f"with value='{changed[0]['old_value']}' for run ID='{run_id}'. "
            f"Attempted logging new value '{value}'."
        )


def _tags_upsert(run: Run, tags: Mapping[str, str]) -> None:
    """Set the tags (insert new keys, update changed values): at most three queries."""
    if not tags:
        return
    existing = {tag.key: tag for tag in RunTag.objects.filter(run=run, key__in=list(tags))}
    changed = []
    for key, value in tags.items():
        tag = existing.get(key)
        if tag is not None and tag.value != value:
            tag.value = value
            changed.append(tag)
    if changed:
        RunTag.objects.bulk_update(changed, ["value"])
    RunTag.objects.bulk_create(
        RunTag(workspace_id=run.workspace_id, run=run, key=key, value=value)
        for key, value in tags.items()
        if key not in existing
    )


def _tags_set(run: Run, tags: Mapping[str, str]) -> None:
    """Set tags; ``mlflow.runName`` renames the run, and an empty one is ignored (MLflow)."""
    other = dict(tags)
    run_name = other.pop(RUN_NAME_TAG, None)
    if run_name:
        validate_length("run_name", MAX_RUN_NAME_LENGTH, run_name)
        run.run_name = run_name
        run.save(update_fields=["run_name"])
        other[RUN_NAME_TAG] = run_name
    _tags_upsert(run, other)


@transaction.atomic
def run_set_tag(*, run_id: str, key: str, value: str) -> None:
    """Set one tag on an active run (``mlflow.runName`` renames it)."""
    run = run_get_active_for_update(run_id)
    _tags_set(run, {key: value})


@transaction.atomic
def run_delete_tag(*, run_id: str, key: str) -> None:
    """Delete a tag of an active run."""
    run = run_get_active_for_update(run_id)
    deleted, _ = RunTag.objects.filter(run=run, key=key).delete()
    if not deleted:
        raise ResourceDoesNotExistError(f"No tag with name: {key} in run with id {run_id}")


@transaction.atomic
def run_log_batch(
    *,
    run_id: str,
    metrics: Sequence[MetricPoint],
    params: Mapping[str, str],
    tags: Mapping[str, str],
) -> None:
    """Log metrics, params and tags to an active run in one transaction: about ten queries
    whatever the batch size (SQLite splits inserts of more than ~140 rows)."""
    run = run_get_active_for_update(run_id)
    changed = _params_log(run, params)
    if changed:
        raise InvalidParameterValueError(
            f"Changing param values is not allowed. Params were already logged='{changed}' "
            f"for run ID='{run_id}'."
        )
    metrics_log(run=run, points=metrics)
    _tags_set(run, tags)


def _experiment_lock_of_run(run_id: str) -> None:
    """Lock the row of the run's experiment (if the run exists) until the transaction ends.

    Datasets belong to the experiment and are shared by its runs: with the experiment locked,
    two runs never race to create the same dataset (on MariaDB such races deadlock on
    duplicate-key locks). The experiment is locked before the run, the order
    ``experiment_delete`` takes its locks in.
    """
    experiment_ids = Run.objects.filter(run_uuid=run_id).values_list("experiment_id", flat=True)
    if experiment_ids:
        list(Experiment.objects.select_for_update().filter(pk__in=list(experiment_ids)))


@transaction.atomic
def run_log_inputs(
    *, run_id: str, datasets: Sequence[Mapping[str, Any]], model_ids: Sequence[str]
) -> None:
    """Record datasets (and logged models) used by an active run.

    ``datasets`` items are ``{"dataset": {name, digest, source_type, source, schema, profile},
    "tags": [{key, value}]}``. A dataset is stored once per experiment and ``(name, digest)``;
    an input already recorded for the run keeps its original tags.
    """
    unique: dict[tuple[str, str], Mapping[str, Any]] = {}
    for dataset_input in datasets:
        dataset = dataset_input["dataset"]
        unique.setdefault((dataset["name"], dataset["digest"]), dataset_input)
    if unique:
        _experiment_lock_of_run(run_id)
    run = run_get_active_for_update(run_id)
    if unique:
        stored = {
            (dataset.name, dataset.digest): dataset
            for dataset in Dataset.objects.filter(
                experiment_id=run.experiment_id,
                name__in=[name for name, _ in unique],
                digest__in=[digest for _, digest in unique],
            )
        }
        created = [
            Dataset(
                workspace_id=run.workspace_id,
                dataset_uuid=uuid.uuid4().hex,
                experiment_id=run.experiment_id,
                **item["dataset"],
            )
            for identity, item in unique.items()
            if identity not in stored
        ]
        Dataset.objects.bulk_create(created)
        stored.update({(dataset.name, dataset.digest): dataset for dataset in created})
        RunInput.objects.bulk_create(
            (
                RunInput(
                    workspace_id=run.workspace_id,
                    run=run,
                    dataset=stored[identity],
                    tags=list(item["tags"]),
                )
                for identity, item in unique.items()
            ),
            ignore_conflicts=True,
        )
    if model_ids:
        RunModelLink.objects.bulk_create(
            (
                RunModelLink(
                    workspace_id=run.workspace_id,
                    run=run,
                    model_id=model_id,
                    direction=RunModelLink.INPUT,
                )
                for model_id in dict.fromkeys(model_ids)
            ),
            ignore_conflicts=True,
        )


@transaction.atomic
def run_log_outputs(*, run_id: str, models: Sequence[tuple[str, int]]) -> None:
    """Record logged models produced by an active run, as ``(model_id, step)``; a model
    already recorded keeps its first step."""
    run = run_get_active_for_update(run_id)
    first_steps: dict[str, int] = {}
    for model_id, step in models:
        first_steps.setdefault(model_id, step)
    RunModelLink.objects.bulk_create(
        (
            RunModelLink(
                workspace_id=run.workspace_id,
                run=run,
                model_id=model_id,
                direction=RunModelLink.OUTPUT,
                step=step,
            )
            for model_id, step in first_steps.items()
        ),
        ignore_conflicts=True,
    )


def logged_model_history_entry(model: Mapping[str, Any]) -> dict[str, Any]:
    """What MLflow's ``Model.get_tags_dict`` keeps of a legacy ``model_json``."""
    entry: dict[str, Any] = {}
    if model.get("run_id") is not None:
        entry["run_id"] = model["run_id"]
    if model.get("artifact_path") is not None:
        entry["artifact_path"] = model["artifact_path"]
    created = model.get("utc_time_created")
    entry["utc_time_created"] = str(created or datetime.now(UTC).replace(tzinfo=None))
    entry["model_uuid"] = model.get("model_uuid")
    entry["flavors"] = {
        flavor: (
            {key: value for key, value in config.items() if key != "config"}
            if isinstance(config, dict)
            else config
        )
        for flavor, config in model["flavors"].items()
    }
    return entry


@transaction.atomic
def run_log_model(*, run_id: str, model: Mapping[str, Any]) -> None:
    """Append a legacy model description to the run's ``mlflow.log-model.history`` tag.

    A tag value that is not a JSON list (set by hand) is replaced by a new list.
    """
    run = run_get_active_for_update(run_id)
    history: list[Any] = []
    tag = RunTag.objects.filter(run=run, key=LOG_MODEL_HISTORY_TAG).first()
    if tag is not None:
        try:
            previous = json.loads(tag.value)
        except ValueError:
            previous = None
        if isinstance(previous, list):
            history = previous
    history.append(logged_model_history_entry(model))
    value = json.dumps(history)
    if tag is None:
        RunTag.objects.create(
            workspace_id=run.workspace_id, run=run, key=LOG_MODEL_HISTORY_TAG, value=value
        )
    else:
        tag.value = value
        tag.save(update_fields=["value"])
