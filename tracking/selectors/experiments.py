"""Reads of experiments and their tags in the active workspace. spec: tracking.md §2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from config.errors import ResourceDoesNotExistError
from tracking.models import Experiment, ExperimentTag
from tracking.selectors.lookups import parse_experiment_id

ExperimentWithTags = tuple[Experiment, list[ExperimentTag]]


def _tags_prefetch() -> Prefetch[Any, Any, Any]:
    """Tags in the order they were first set, as the reference lists them."""
    return Prefetch("tags", queryset=ExperimentTag.objects.order_by("pk"), to_attr="tag_list")


def experiments_with_tags(
    experiments: QuerySet[Experiment] | Iterable[Experiment],
) -> list[ExperimentWithTags]:
    """Each experiment with its tags, in the given order, in a constant number of queries.

    A queryset costs two queries (experiments joined with their workspace, then all their
    tags); a list of already loaded experiments costs one for the tags, plus one for the
    workspaces of experiments loaded without them. The pairs feed ``ExperimentOut.render``.
    """
    if isinstance(experiments, QuerySet):
        loaded = list(experiments.select_related("workspace").prefetch_related(_tags_prefetch()))
    else:
        loaded = list(experiments)
        prefetch_related_objects(loaded, "workspace", _tags_prefetch())
    pairs: list[ExperimentWithTags] = []
    for experiment in loaded:
        tags: list[ExperimentTag] = experiment.tag_list  # set by to_attr
        pairs.append((experiment, tags))
    return pairs


def experiment_get_with_tags(experiment_id: str | int) -> ExperimentWithTags:
    """The experiment with this id (active or deleted) and its tags; 404 like a missing one
    when it belongs to another workspace."""
    pk = parse_experiment_id(experiment_id)
    found = experiments_with_tags(Experiment.objects.filter(experiment_id=pk))
    if not found:
        raise ResourceDoesNotExistError(f"No Experiment with id={experiment_id} exists")
    return found[0]


def experiment_get_by_name(name: str) -> ExperimentWithTags:
    """The experiment called ``name`` (active or deleted, case-sensitive) and its tags."""
    found = experiments_with_tags(Experiment.objects.filter(name=name))
    if not found:
        raise ResourceDoesNotExistError(f"Could not find experiment with name '{name}'")
    return found[0]
