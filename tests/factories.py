"""One factory per model. Workspace-owned factories create their rows across workspaces."""

from __future__ import annotations

import time
import uuid
from typing import Any

import factory

from workspaces.context import across_workspaces
from workspaces.models import Workspace


class WorkspaceFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]  # untyped base
    class Meta:
        model = Workspace
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")
    description = None


class WorkspaceOwnedFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]  # untyped
    """Base of factories for workspace-owned models: test data is written across workspaces."""

    class Meta:
        abstract = True

    workspace = factory.SubFactory(WorkspaceFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        with across_workspaces("test data"):
            return super()._create(model_class, *args, **kwargs)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class ExperimentFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "tracking.Experiment"

    name = factory.Sequence(lambda n: f"experiment-{n}")
    artifact_location = factory.LazyAttribute(
        lambda o: f"mlflow-artifacts:/workspaces/{o.workspace.name}/x"
    )
    creation_time = factory.LazyFunction(_now_ms)
    last_update_time = factory.LazyFunction(_now_ms)


class RunFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "tracking.Run"

    run_uuid = factory.LazyFunction(lambda: uuid.uuid4().hex)
    experiment = factory.SubFactory(ExperimentFactory)
    workspace = factory.SelfAttribute("experiment.workspace")
    run_name = factory.Sequence(lambda n: f"run-{n}")
    start_time = factory.LazyFunction(_now_ms)
    artifact_uri = factory.LazyAttribute(
        lambda o: f"{o.experiment.artifact_location}/{o.run_uuid}/artifacts"
    )
