"""Finding one registered model or model version in the active workspace, with MLflow's
not-found messages. Another workspace's model is reported exactly like a missing one."""

from __future__ import annotations

from collections.abc import Mapping

from config.errors import ResourceDoesNotExistError
from registry.models import IS_PROMPT_TAG_KEY, ModelVersion, RegisteredModel, RegisteredModelTag
from registry.validators import parse_version, validate_model_name


def registered_model_not_found(name: str) -> ResourceDoesNotExistError:
    """``Registered Model with name=<name> not found``."""
    return ResourceDoesNotExistError(f"Registered Model with name={name} not found")


def model_version_not_found(name: str, version: int) -> ResourceDoesNotExistError:
    """``Model Version (name=<name>, version=<version>) not found``."""
    return ResourceDoesNotExistError(f"Model Version (name={name}, version={version}) not found")


def registered_model_get(name: str) -> RegisteredModel:
    """The registered model (or prompt) called ``name``, case-sensitively."""
    validate_model_name(name)
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None:
        raise registered_model_not_found(name)
    return model


def model_version_get(name: str, version: str | int) -> ModelVersion:
    """Version ``version`` of the model ``name``, with its registered model loaded."""
    validate_model_name(name)
    number = parse_version(version)
    found = (
        ModelVersion.objects.select_related("registered_model")
        .filter(registered_model__name=name, version=number)
        .first()
    )
    if found is None:
        raise model_version_not_found(name, number)
    return found


def tags_mark_prompt(tags: Mapping[str, str]) -> bool:
    """Whether tags (last value per key) mark a prompt: ``mlflow.prompt.is_prompt`` = true."""
    return tags.get(IS_PROMPT_TAG_KEY, "false").lower() == "true"


def registered_model_is_prompt(model: RegisteredModel) -> bool:
    """Whether the registered model is a prompt (webhooks tell prompt and model events apart)."""
    value = (
        RegisteredModelTag.objects.filter(registered_model=model, key=IS_PROMPT_TAG_KEY)
        .values_list("value", flat=True)
        .first()
    )
    return tags_mark_prompt({IS_PROMPT_TAG_KEY: value} if value is not None else {})
