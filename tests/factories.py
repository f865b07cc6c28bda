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


class RegisteredModelFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "registry.RegisteredModel"

    name = factory.Sequence(lambda n: f"model-{n}")
    creation_timestamp = factory.LazyFunction(_now_ms)
    last_updated_timestamp = factory.LazyFunction(_now_ms)


class RegisteredModelTagFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "registry.RegisteredModelTag"

    registered_model = factory.SubFactory(RegisteredModelFactory)
    workspace = factory.SelfAttribute("registered_model.workspace")
    key = factory.Sequence(lambda n: f"tag-{n}")
    value = "value"


class ModelVersionFactory(WorkspaceOwnedFactory):
    """A version numbered after the model's highest one (the model's counter moves along)."""

    class Meta:
        model = "registry.ModelVersion"

    registered_model = factory.SubFactory(RegisteredModelFactory)
    workspace = factory.SelfAttribute("registered_model.workspace")
    version = factory.LazyAttribute(lambda o: o.registered_model.last_version + 1)
    creation_timestamp = factory.LazyFunction(_now_ms)
    last_updated_timestamp = factory.LazyFunction(_now_ms)
    source = factory.LazyAttribute(
        lambda o: f"mlflow-artifacts:/workspaces/{o.workspace.name}/1/model"
    )

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        version = super()._create(model_class, *args, **kwargs)
        model = version.registered_model
        if version.version > model.last_version:
            model.last_version = version.version
            with across_workspaces("test data"):
                model.save(update_fields=["last_version"])
        return version


class ModelVersionTagFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "registry.ModelVersionTag"

    model_version = factory.SubFactory(ModelVersionFactory)
    workspace = factory.SelfAttribute("model_version.workspace")
    key = factory.Sequence(lambda n: f"tag-{n}")
    value = "value"


class RegisteredModelAliasFactory(WorkspaceOwnedFactory):
    class Meta:
        model = "registry.RegisteredModelAlias"

    model_version = factory.SubFactory(ModelVersionFactory)
    registered_model = factory.SelfAttribute("model_version.registered_model")
    workspace = factory.SelfAttribute("model_version.workspace")
    alias = factory.Sequence(lambda n: f"alias-{n}")
