"""Request schemas and the response shape of the experiment endpoints. spec: tracking.md §1-2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from config import wire
from tracking.models import Experiment, ExperimentTag
from workspaces.models import DEFAULT_WORKSPACE


class ExperimentTagIn(wire.Schema):
    key = wire.String()
    value = wire.String()


class CreateExperimentIn(wire.Schema):
    name = wire.String(required=True)
    artifact_location = wire.String()
    tags = wire.Repeated(wire.Message(ExperimentTagIn))


class GetExperimentIn(wire.Schema):
    experiment_id = wire.String(required=True)


class GetExperimentByNameIn(wire.Schema):
    experiment_name = wire.String(required=True)


class UpdateExperimentIn(wire.Schema):
    experiment_id = wire.String(required=True)
    new_name = wire.String(required=True)


class DeleteExperimentIn(wire.Schema):
    experiment_id = wire.String(required=True)


class RestoreExperimentIn(wire.Schema):
    experiment_id = wire.String(required=True)


class SetExperimentTagIn(wire.Schema):
    experiment_id = wire.String(required=True)
    key = wire.String(required=True)
    value = wire.String()


class DeleteExperimentTagIn(wire.Schema):
    experiment_id = wire.String(required=True)
    key = wire.String(required=True)


class ExperimentOut:
    """An experiment as MLflow sends it: ``tags`` only when there are some, ``workspace``
    always (``default`` when workspaces are off)."""

    @staticmethod
    def render(experiment: Experiment, tags: Iterable[ExperimentTag]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "experiment_id": str(experiment.experiment_id),
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "lifecycle_stage": experiment.lifecycle_stage,
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
        }
        rendered_tags = [{"key": tag.key, "value": tag.value} for tag in tags]
        if rendered_tags:
            body["tags"] = rendered_tags
        body["workspace"] = (
            experiment.workspace.name if settings.MLFLOW_ENABLE_WORKSPACES else DEFAULT_WORKSPACE
        )
        return body
