"""Writing logged models (MLflow 3): create, params, tags, finalize, delete, metrics, and the
``mlflow.modelVersions`` tag the registry maintains. spec: tracking.md §6, registry.md §3.

Every row carries the workspace of its model, which is the workspace of its experiment; a
model of another workspace is reported as missing (``tracking.selectors.logged_models``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from django.db import transaction

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from tracking.clock import now_ms
from tracking.models import (
    DELETED,
    LOGGED_MODEL_STATUSES,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
    Run,
)
from tracking.names import random_name
from tracking.selectors.logged_models import logged_model_get
from tracking.selectors.lookups import experiment_get_active, run_get
from tracking.storage import join_uri
from workspaces.context import current_workspace

if TYPE_CHECKING:
    from tracking.services.metrics import MetricPoint

MODEL_VERSIONS_TAG: Final = "mlflow.modelVersions"
MODELS_FOLDER: Final = "models"
ARTIFACTS_FOLDER: Final = "artifacts"


def logged_model_artifact_uri(experiment_artifact_location: str, model_id: str) -> str:
    """``<experiment artifact_location>/models/<model_id>/artifacts``."""
    return join_uri(experiment_artifact_location, MODELS_FOLDER, model_id, ARTIFACTS_FOLDER)


def _params_add(model: LoggedModel, params: Sequence[tuple[str, str]]) -> None:
    """Store new params of ``model``. A param keeps its first value: logging the same value
    again changes nothing, another value is refused."""
    if not params:
        return
    keys = {key for key, _ in params}
    existing = dict(
        LoggedModelParam.objects.filter(model=model, key__in=keys).values_list("key", "value")
    )
    known = dict(existing)
    for key, value in params:
        old = known.setdefault(key, value)
        if old != value:
            raise InvalidParameterValueError(
                f"Changing param values is not allowed. Param with key='{key}' was already "
                f"logged with value='{old}' for logged model ID='{model.model_id}'. "
                f"Attempted logging new value '{value}'."
            )
    LoggedModelParam.objects.bulk_create(
        LoggedModelParam(workspace_id=model.workspace_id, model=model, key=key, value=value)
        for key, value in known.items()
        if key not in existing
    )


def _tags_set(model: LoggedModel, tags: Iterable[tuple[str, str]]) -> None:
    """Upsert tags of ``model``; a key given twice keeps its last value."""
    wanted = dict(tags)
    if not wanted:
        return
    current = {tag.key: tag for tag in LoggedModelTag.objects.filter(model=model, key__in=wanted)}
    changed = []
    for key, value in wanted.items():
        tag = current.get(key)
        if tag is not None and tag.value != value:
            tag.value = value
            changed.append(tag)
    if changed:
        LoggedModelTag.objects.bulk_update(changed, ["value"])
    LoggedModelTag.objects.bulk_create(
        LoggedModelTag(workspace_id=model.workspace_id, model=model, key=key, value=value)
        for key, value in wanted.items()
        if key not in current
    )


@transaction.atomic
def logged_model_create(
    *,
    experiment_id: str,
    name: str | None = None,
    model_type: str = "",
    source_run_id: str = "",
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
) -> LoggedModel:
    """Create a PENDING logged model in an active experiment of the active workspace.

    Its artifacts go to ``<experiment artifact_location>/models/<model_id>/artifacts``; a
    missing name is generated like a run name.
    """
    experiment = experiment_get_active(experiment_id)
    if source_run_id:
        # differs from reference: it stores any id; here the run must be in this workspace.
        run_get(source_run_id)
    model_id = f"m-{uuid.uuid4().hex}"
    now = now_ms()
    model = LoggedModel.objects.create(
        workspace=current_workspace(),
        model_id=model_id,
        experiment=experiment,
        name=name or random_name(),
        artifact_location=logged_model_artifact_uri(experiment.artifact_location, model_id),
        creation_timestamp_ms=now,
        last_updated_timestamp_ms=now,
        model_type=model_type,
        source_run_id=source_run_id,
    )
    _params_add(model, params)
    _tags_set(model, tags)
    return model


@transaction.atomic
def logged_model_log_params(*, model_id: str, params: Sequence[tuple[str, str]]) -> None:
    """Add params to a logged model; an existing key keeps its value."""
    model = logged_model_get(model_id, allow_deleted=True, for_update=True)
    _params_add(model, params)


@transaction.atomic
def logged_model_set_tags(*, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
    """Set (upsert) tags of a logged model."""
    model = logged_model_get(model_id, allow_deleted=True, for_update=True)
    _tags_set(model, tags)


@transaction.atomic
def logged_model_delete_tag(*, model_id: str, key: str) -> None:
    """Delete one tag of a logged model; a missing tag is 404, as in the reference."""
    model = logged_model_get(model_id, allow_deleted=True)
    deleted, _ = LoggedModelTag.objects.filter(model=model, key=key).delete()
    if not deleted:
        raise ResourceDoesNotExistError(
            f"No tag with key {key!r} found for model with ID {model_id!r}."
        )


@transaction.atomic
def logged_model_finalize(*, model_id: str, status: str) -> LoggedModel:
    """Set a logged model's status (``LOGGED_MODEL_READY`` once uploaded, or
    ``LOGGED_MODEL_UPLOAD_FAILED``)."""
    model = logged_model_get(model_id, allow_deleted=True, for_update=True)
    model.status = LOGGED_MODEL_STATUSES[status]
    model.last_updated_timestamp_ms = now_ms()
    model.save(update_fields=["status", "last_updated_timestamp_ms"])
    return model


@transaction.atomic
def logged_model_delete(*, model_id: str) -> None:
    """Mark a logged model deleted: it disappears from gets and searches (its rows and files
    stay, as in the reference)."""
    model = logged_model_get(model_id, allow_deleted=True, for_update=True)
    model.lifecycle_stage = DELETED
    model.last_updated_timestamp_ms = now_ms()
    model.save(update_fields=["lifecycle_stage", "last_updated_timestamp_ms"])


@transaction.atomic
def logged_model_record_version(*, model_id: str, name: str, version: int) -> None:
    """Append ``{"name", "version"}`` to the model's ``mlflow.modelVersions`` tag (a JSON
    list), unless it is there already. The registry calls this when a version is created
    from the logged model; the client rewrites the tag afterwards."""
    model = logged_model_get(model_id, for_update=True)
    entry: dict[str, Any] = {"name": name, "version": version}
    current = LoggedModelTag.objects.filter(model=model, key=MODEL_VERSIONS_TAG).first()
    entries: list[Any] = []
    if current is not None:
        try:
            parsed = json.loads(current.value)
        except ValueError:
            parsed = None
        # differs from reference: a tag that is not a JSON list is replaced, not a 500.
        entries = parsed if isinstance(parsed, list) else []
    if entry not in entries:
        entries.append(entry)
    _tags_set(model, [(MODEL_VERSIONS_TAG, json.dumps(entries))])


def logged_model_metrics_log(*, run: Run, points: Sequence[MetricPoint]) -> None:
    """Attach metric points logged by ``run`` with a ``model_id`` to those logged models.

    Each model must exist in the run's workspace (deleted ones included, as in the reference);
    a point already stored for ``(model, key, timestamp, step, run)`` keeps its first value.
    The caller holds the run's lock inside a transaction. Two queries.
    """
    from tracking.services.metrics import stored_value  # metrics imports this module

    model_ids = {point.model_id for point in points if point.model_id}
    if not model_ids:
        return
    found = set(
        LoggedModel.objects.filter(model_id__in=model_ids).values_list("model_id", flat=True)
    )
    missing = sorted(model_ids - found)
    if missing:
        raise ResourceDoesNotExistError(f"Logged model with ID '{missing[0]}' not found.")
    rows = []
    for point in points:
        if not point.model_id:
            continue
        value, is_nan = stored_value(point.value)
        rows.append(
            LoggedModelMetric(
                workspace_id=run.workspace_id,
                model_id=point.model_id,
                run=run,
                key=point.key,
                value=value,
                is_nan=is_nan,
                timestamp=point.timestamp,
                step=point.step,
                dataset_name=point.dataset_name,
                dataset_digest=point.dataset_digest,
            )
        )
    LoggedModelMetric.objects.bulk_create(rows, ignore_conflicts=True)
