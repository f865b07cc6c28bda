"""Request schemas and response shapes of the registry endpoints. spec: registry.md §1-3."""

from __future__ import annotations

from typing import Any

from config import wire
from registry.selectors.details import ModelVersionDetails, RegisteredModelDetails


class TagIn(wire.Schema):
    key = wire.String()
    value = wire.String()


class CreateRegisteredModelIn(wire.Schema):
    name = wire.String(required=True)
    tags = wire.Repeated(wire.Message(TagIn))
    description = wire.String()


class GetRegisteredModelIn(wire.Schema):
    name = wire.String(required=True)


class UpdateRegisteredModelIn(wire.Schema):
    name = wire.String(required=True)
    description = wire.String()


class RenameRegisteredModelIn(wire.Schema):
    name = wire.String(required=True)
    new_name = wire.String(required=True)


class DeleteRegisteredModelIn(wire.Schema):
    name = wire.String(required=True)


class SearchIn(wire.Schema):
    """``registered-models/search`` and ``model-versions/search``."""

    filter = wire.String()
    max_results = wire.Int64()
    order_by = wire.Repeated(wire.String())
    page_token = wire.String()


class GetLatestVersionsIn(wire.Schema):
    name = wire.String(required=True)
    stages = wire.Repeated(wire.String())


class SetRegisteredModelTagIn(wire.Schema):
    name = wire.String(required=True)
    key = wire.String(required=True)
    value = wire.String()


class DeleteRegisteredModelTagIn(wire.Schema):
    name = wire.String(required=True)
    key = wire.String(required=True)


class SetAliasIn(wire.Schema):
    name = wire.String(required=True)
    alias = wire.String(required=True)
    version = wire.String(required=True)


class AliasIn(wire.Schema):
    """``DELETE`` and ``GET registered-models/alias``."""

    name = wire.String(required=True)
    alias = wire.String(required=True)


class CreateModelVersionIn(wire.Schema):
    name = wire.String(required=True)
    source = wire.String(required=True)
    run_id = wire.String()
    model_id = wire.String()
    tags = wire.Repeated(wire.Message(TagIn))
    run_link = wire.String()
    description = wire.String()


class ModelVersionIn(wire.Schema):
    """``model-versions/get``, ``delete`` and ``get-download-uri``."""

    name = wire.String(required=True)
    version = wire.String(required=True)


class UpdateModelVersionIn(wire.Schema):
    name = wire.String(required=True)
    version = wire.String(required=True)
    description = wire.String()


class TransitionStageIn(wire.Schema):
    name = wire.String(required=True)
    version = wire.String(required=True)
    stage = wire.String(required=True)
    archive_existing_versions = wire.Bool()


class SetModelVersionTagIn(wire.Schema):
    name = wire.String(required=True)
    version = wire.String(required=True)
    key = wire.String(required=True)
    value = wire.String()


class DeleteModelVersionTagIn(wire.Schema):
    name = wire.String(required=True)
    version = wire.String(required=True)
    key = wire.String(required=True)


def tag_pairs(tags: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Parsed ``[{key, value}]`` messages as pairs; an absent key or value is ``""``."""
    return [(tag.get("key", ""), tag.get("value", "")) for tag in tags]


class ModelVersionOut:
    """A model version as MLflow sends it: ``description``, ``source``, ``run_id`` and
    ``run_link`` always (``""`` when empty), ``tags`` and ``aliases`` only when there are
    some, and no ``model_id`` (3.17.2 does not emit it)."""

    @staticmethod
    def render(details: ModelVersionDetails) -> dict[str, Any]:
        version = details.version
        body: dict[str, Any] = {
            "name": version.registered_model.name,
            "version": str(version.version),
            "creation_timestamp": version.creation_timestamp,
            "last_updated_timestamp": version.last_updated_timestamp,
            "current_stage": version.current_stage,
            "description": version.description,
            "source": version.source,
            "run_id": version.run_id,
            "status": version.status,
        }
        if version.status_message:
            body["status_message"] = version.status_message
        if details.tags:
            body["tags"] = [{"key": tag.key, "value": tag.value} for tag in details.tags]
        body["run_link"] = version.run_link
        if details.aliases:
            body["aliases"] = list(details.aliases)
        return body


class RegisteredModelOut:
    """A registered model: ``description``, ``latest_versions``, ``tags`` and ``aliases`` only
    when not empty."""

    @staticmethod
    def render(details: RegisteredModelDetails) -> dict[str, Any]:
        model = details.model
        body: dict[str, Any] = {
            "name": model.name,
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
        }
        if model.description:
            body["description"] = model.description
        if details.latest_versions:
            body["latest_versions"] = [
                ModelVersionOut.render(version) for version in details.latest_versions
            ]
        if details.tags:
            body["tags"] = [{"key": tag.key, "value": tag.value} for tag in details.tags]
        if details.aliases:
            body["aliases"] = [
                {"alias": alias, "version": str(number)} for alias, number in details.aliases
            ]
        return body


class GetModelVersionArtifactIn(wire.Schema):
    """``GET /model-versions/get-artifact?name=&version=&path=`` (the UI's download)."""

    name = wire.String(required=True)
    version = wire.String(required=True)
    path = wire.String(required=True)
