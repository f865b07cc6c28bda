"""Reading logged models of the active workspace: one by id, their data, their artifacts.
Searching them is ``tracking.selectors.logged_model_search``. spec: tracking.md §1 and §6.

Every query starts from a scoped manager (``LoggedModel.objects``), so another workspace's model
is reported exactly like a missing one: ``Logged model with ID '<id>' not found.``
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from config.errors import ResourceDoesNotExistError
from tracking.models import (
    ACTIVE,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
)
from tracking.selectors.runs import KeyValue
from tracking.storage import ArtifactDownload, ArtifactEntry, artifact_segments, root_location
from workspaces.context import current_workspace

# Model ids per ``IN (...)`` list when a page's data is loaded: below every backend's limit.
MODEL_ID_CHUNK: Final = 500


def logged_model_not_found(model_id: str) -> ResourceDoesNotExistError:
    """The reference's message for a missing (or another workspace's) logged model."""
    return ResourceDoesNotExistError(f"Logged model with ID '{model_id}' not found.")


def logged_model_get(
    model_id: str, *, allow_deleted: bool = False, for_update: bool = False
) -> LoggedModel:
    """The logged model ``model_id`` of the active workspace; deleted ones only when
    ``allow_deleted``. ``for_update`` locks its row until the transaction ends."""
    models = LoggedModel.objects.filter(model_id=model_id)
    if not allow_deleted:
        models = models.filter(lifecycle_stage=ACTIVE)
    if for_update:
        models = models.select_for_update()
    found = models.first()
    if found is None:
        raise logged_model_not_found(model_id)
    return found


def logged_model_find(model_id: str) -> LoggedModel | None:
    """The active (not deleted) logged model ``model_id`` of the active workspace, or None."""
    return LoggedModel.objects.filter(model_id=model_id, lifecycle_stage=ACTIVE).first()


@dataclass(frozen=True)
class LoggedModelData:
    """A logged model with its params and tags (sorted by key) and its metric points.

    Rows are named tuples: metrics have ``key, value, is_nan, timestamp, step, run_id,
    dataset_name, dataset_digest``.
    """

    model: LoggedModel
    params: Sequence[KeyValue] = field(default_factory=list)
    tags: Sequence[KeyValue] = field(default_factory=list)
    metrics: Sequence[Any] = field(default_factory=list)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """``items`` in slices of ``MODEL_ID_CHUNK``."""
    for start in range(0, len(items), MODEL_ID_CHUNK):
        yield items[start : start + MODEL_ID_CHUNK]


def logged_models_with_data(models: Sequence[LoggedModel]) -> list[LoggedModelData]:
    """The data of each model, in the order given: three queries per 500 models."""
    model_ids = [model.model_id for model in models]
    params: defaultdict[str, list[Any]] = defaultdict(list)
    tags: defaultdict[str, list[Any]] = defaultdict(list)
    metrics: defaultdict[str, list[Any]] = defaultdict(list)
    for chunk in _chunks(model_ids):
        for row_model, target in ((LoggedModelParam, params), (LoggedModelTag, tags)):
            rows = row_model.objects.filter(model_id__in=chunk).order_by("model_id", "key")
            for row in rows.values_list("model_id", "key", "value", named=True):
                target[row.model_id].append(row)
        points = LoggedModelMetric.objects.filter(model_id__in=chunk).order_by("pk")
        for point in points.values_list(
            "model_id",
            "key",
            "value",
            "is_nan",
            "timestamp",
            "step",
            "run_id",
            "dataset_name",
            "dataset_digest",
            named=True,
        ):
            metrics[point.model_id].append(point)
    return [
        LoggedModelData(
            model=model,
            params=params[model.model_id],
            tags=tags[model.model_id],
            metrics=metrics[model.model_id],
        )
        for model in models
    ]


def logged_model_get_with_data(model_id: str, *, allow_deleted: bool = False) -> LoggedModelData:
    """One logged model and its data (four queries)."""
    return logged_models_with_data([logged_model_get(model_id, allow_deleted=allow_deleted)])[0]


@dataclass(frozen=True)
class LoggedModelArtifactListing:
    """A listing below a logged model's root: the root URI and entries with model-relative
    paths (``prefix`` + name)."""

    root_uri: str
    entries: list[ArtifactEntry]
    prefix: str


def logged_model_artifact_list(model_id: str, path: str | None) -> LoggedModelArtifactListing:
    """The entries below ``path`` in a logged model's artifacts; a missing folder lists empty."""
    segments = artifact_segments(path, directory=True)  # refused before the model is looked up
    model = logged_model_get(model_id)
    location = root_location(model.artifact_location, "/".join(segments), current_workspace())
    entries = location.tree.list(location.key)
    if location.hides_workspaces:
        entries = [entry for entry in entries if entry.path != "workspaces"]
    prefix = "/".join(segments) + "/" if segments else ""
    return LoggedModelArtifactListing(model.artifact_location, entries, prefix)


def logged_model_artifact_open(model_id: str, path: str) -> ArtifactDownload:
    """A file of a logged model's artifacts, opened for streaming."""
    artifact_segments(path)
    model = logged_model_get(model_id)
    location = root_location(model.artifact_location, path, current_workspace())
    return location.tree.open(location.key)
