"""Test data for moves: experiments and registered models with every kind of child row."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.apps import apps

from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from tracking.models import (
    Dataset,
    Experiment,
    ExperimentTag,
    LatestMetric,
    Metric,
    Param,
    Run,
    RunInput,
    RunModelLink,
    RunTag,
)
from workspaces.context import across_workspaces
from workspaces.models import Workspace
from workspaces.selectors import workspace_owned_models


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def make_experiment(
    workspace: Workspace,
    name: str,
    *,
    runs: int = 1,
    tags: dict[str, str] | None = None,
    artifact_location: str | None = None,
) -> Experiment:
    """An experiment with tags, runs, params, metrics, datasets, inputs and model links."""
    with across_workspaces("test data"):
        experiment = Experiment.objects.create(
            workspace=workspace, name=name, creation_time=now_ms(), last_update_time=now_ms()
        )
        location = (
            artifact_location
            or f"mlflow-artifacts:/workspaces/{workspace.name}/{experiment.experiment_id}"
        )
        experiment.artifact_location = location
        experiment.save(update_fields=["artifact_location"])
        for key, value in (tags or {"owner": "alice"}).items():
            ExperimentTag.objects.create(
                workspace=workspace, experiment=experiment, key=key, value=value
            )
        dataset = Dataset.objects.create(
            workspace=workspace,
            dataset_uuid=uuid.uuid4().hex,
            experiment=experiment,
            name="train",
            digest="abc123",
            source_type="local",
            source="{}",
        )
        for _ in range(runs):
            run_id = uuid.uuid4().hex
            run = Run.objects.create(
                workspace=workspace,
                run_uuid=run_id,
                experiment=experiment,
                run_name=f"run-{run_id[:6]}",
                start_time=now_ms(),
                artifact_uri=f"{location}/{run_id}/artifacts",
            )
            Param.objects.create(workspace=workspace, run=run, key="lr", value="0.1")
            RunTag.objects.create(workspace=workspace, run=run, key="mlflow.user", value="alice")
            for step in (0, 1):
                Metric.objects.create(
                    workspace=workspace,
                    run=run,
                    key="loss",
                    value=1.0 / (step + 1),
                    timestamp=now_ms(),
                    step=step,
                )
            LatestMetric.objects.create(
                workspace=workspace, run=run, key="loss", value=0.5, timestamp=now_ms(), step=1
            )
            RunInput.objects.create(workspace=workspace, run=run, dataset=dataset, tags=[])
            RunModelLink.objects.create(
                workspace=workspace, run=run, model_id=f"m-{run_id}", direction="output"
            )
    return experiment


def make_registered_model(
    workspace: Workspace,
    name: str,
    *,
    versions: int = 1,
    tags: dict[str, str] | None = None,
    storage_location: str = "",
) -> RegisteredModel:
    """A registered model with tags, versions, version tags and an alias."""
    with across_workspaces("test data"):
        model = RegisteredModel.objects.create(
            workspace=workspace,
            name=name,
            creation_timestamp=now_ms(),
            last_updated_timestamp=now_ms(),
            last_version=versions,
        )
        for key, value in (tags or {"team": "vision"}).items():
            RegisteredModelTag.objects.create(
                workspace=workspace, registered_model=model, key=key, value=value
            )
        version = None
        for number in range(1, versions + 1):
            version = ModelVersion.objects.create(
                workspace=workspace,
                registered_model=model,
                version=number,
                creation_timestamp=now_ms(),
                last_updated_timestamp=now_ms(),
                source=storage_location,
                storage_location=storage_location,
            )
            ModelVersionTag.objects.create(
                workspace=workspace, model_version=version, key="stage", value="candidate"
            )
        if version is not None:
            RegisteredModelAlias.objects.create(
                workspace=workspace,
                registered_model=model,
                model_version=version,
                alias="champion",
            )
    return model


def rows_by_model(workspace: Workspace) -> dict[str, int]:
    """Rows of every workspace-owned model in ``workspace``, by model name (zeros left out)."""
    with across_workspaces("test assertions"):
        counts = {
            model.__name__: model.objects.filter(workspace=workspace).count()
            for model in workspace_owned_models()
        }
    return {name: count for name, count in counts.items() if count}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every workspace-owned row's pk, workspace and artifact URIs: equal before and after
    an operation that must change nothing."""
    shot: dict[str, list[tuple[Any, ...]]] = {}
    with across_workspaces("test assertions"):
        for model in workspace_owned_models():
            uri_fields = [
                f.name
                for f in model._meta.concrete_fields
                if f.name in ("artifact_location", "artifact_uri", "source", "storage_location")
            ]
            shot[model.__name__] = sorted(
                model.objects.values_list("pk", "workspace__name", *uri_fields), key=str
            )
    return shot


def model_names() -> set[str]:
    return {model.__name__ for model in apps.get_models()}
