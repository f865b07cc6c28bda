"""Writes to registered models (prompts included), their tags and aliases in the active
workspace. spec: registry.md §2, §5."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from config import wire
from config.errors import ResourceAlreadyExistsError
from registry.models import (
    IS_PROMPT_TAG_KEY,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from registry.selectors.lookups import model_version_not_found, registered_model_not_found
from registry.services import webhooks
from registry.validators import (
    parse_version,
    validate_alias_name,
    validate_alias_not_reserved,
    validate_model_name,
    validate_registered_model_tag,
)
from tracking.clock import now_ms
from tracking.validators import validate_key
from workspaces.context import current_workspace
from workspaces.selectors import current_workspace_checked


def registered_model_for_update(name: str) -> RegisteredModel:
    """The registered model ``name``, row-locked until the transaction ends: writers of its
    versions, tags and aliases queue here (SQLite's IMMEDIATE transactions serialise anyway)."""
    validate_model_name(name)
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        raise registered_model_not_found(name)
    return model


def _already_exists(name: str, *, new_is_prompt: bool) -> ResourceAlreadyExistsError:
    """The reference's wording: a model and a prompt may not share a name."""
    existing_is_prompt = RegisteredModelTag.objects.filter(
        registered_model__name=name, key=IS_PROMPT_TAG_KEY
    ).exists()
    old = "Prompt" if existing_is_prompt else "Registered Model"
    new = "Prompt" if new_is_prompt else "Registered Model"
    if old != new:
        return ResourceAlreadyExistsError(
            f"Tried to create a {new.lower()} with name {name!r}, but the name is already "
            f"taken by a {old.lower()}. MLflow does not allow creating a model and a prompt "
            "with the same name."
        )
    return ResourceAlreadyExistsError(f"{new} (name={name}) already exists.")


@transaction.atomic
def registered_model_create(
    *, name: str, tags: Iterable[tuple[str, str]] = (), description: str = ""
) -> RegisteredModel:
    """Create a registered model (a prompt when tagged ``mlflow.prompt.is_prompt``); names
    are unique per workspace, models and prompts sharing one name space."""
    validate_model_name(name)
    tag_list = list(tags)
    for key, value in tag_list:
        validate_registered_model_tag(key, value)
    workspace = current_workspace_checked()
    now = now_ms()
    try:
        with transaction.atomic():  # savepoint: a taken name must not end the transaction
            model = RegisteredModel.objects.create(
                workspace=workspace,
                name=name,
                creation_timestamp=now,
                last_updated_timestamp=now,
                description=description,
            )
    except IntegrityError:
        new_is_prompt = any(key == IS_PROMPT_TAG_KEY for key, _ in tag_list)
        raise _already_exists(name, new_is_prompt=new_is_prompt) from None
    # A key given twice keeps its first position and its last value, as the reference does.
    RegisteredModelTag.objects.bulk_create(
        RegisteredModelTag(workspace=workspace, registered_model=model, key=key, value=value)
        for key, value in dict(tag_list).items()
    )
    webhooks.webhook_notify_registered_model_created(model=model, tags=tag_list)
    return model


@transaction.atomic
def registered_model_update(*, name: str, description: str) -> RegisteredModel:
    """Set the description (an absent one clears it, as in the reference)."""
    model = registered_model_for_update(name)
    model.description = description
    model.last_updated_timestamp = now_ms()
    model.save(update_fields=["description", "last_updated_timestamp"])
    return model


@transaction.atomic
def registered_model_rename(*, name: str, new_name: str) -> RegisteredModel:
    """Rename a model; its versions, tags and aliases follow (they reference it by id)."""
    if not new_name.strip():
        raise wire.missing_value("new_name")
    validate_model_name(new_name)
    model = registered_model_for_update(name)
    model.name = new_name
    model.last_updated_timestamp = now_ms()
    try:
        with transaction.atomic():
            model.save(update_fields=["name", "last_updated_timestamp"])
    except IntegrityError as error:
        raise ResourceAlreadyExistsError(
            f"Registered Model (name={new_name}) already exists. Error: {error}"
        ) from None
    # The reference stamps every version of a renamed model.
    model.versions.update(last_updated_timestamp=model.last_updated_timestamp)
    return model


@transaction.atomic
def registered_model_delete(*, name: str) -> None:
    """Delete a model with its versions, tags and aliases."""
    registered_model_for_update(name).delete()


@transaction.atomic
def registered_model_set_tag(*, name: str, key: str, value: str) -> RegisteredModelTag:
    """Set (insert or overwrite) a tag; ``last_updated_timestamp`` stays, as in the reference."""
    validate_model_name(name)
    validate_registered_model_tag(key, value)
    model = registered_model_for_update(name)
    webhooks.webhook_notify_registered_model_tag_set(model=model, key=key, value=value)
    tag = RegisteredModelTag.objects.filter(registered_model=model, key=key).first()
    if tag is None:
        return RegisteredModelTag.objects.create(
            workspace=current_workspace(), registered_model=model, key=key, value=value
        )
    tag.value = value
    tag.save(update_fields=["value"])
    return tag


@transaction.atomic
def registered_model_delete_tag(*, name: str, key: str) -> None:
    """Delete a tag; a tag that is not there is no error (the reference ignores it too)."""
    validate_model_name(name)
    validate_key(key)
    model = registered_model_for_update(name)
    RegisteredModelTag.objects.filter(registered_model=model, key=key).delete()
    webhooks.webhook_notify_registered_model_tag_deleted(model=model, key=key)


@transaction.atomic
def model_version_set_alias(*, name: str, alias: str, version: str) -> RegisteredModelAlias:
    """Point ``alias`` at a version of the model, creating the alias or moving it."""
    validate_model_name(name)
    validate_alias_name(alias)
    validate_alias_not_reserved(alias)
    number = parse_version(version)
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    target = model.versions.filter(version=number).first() if model is not None else None
    if model is None or target is None:
        raise model_version_not_found(name, number)
    webhooks.webhook_notify_alias_created(model=model, alias=alias, version=version)
    pointer = RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).first()
    if pointer is None:
        return RegisteredModelAlias.objects.create(
            workspace=current_workspace(), registered_model=model, model_version=target, alias=alias
        )
    pointer.model_version = target
    pointer.save(update_fields=["model_version"])
    return pointer


@transaction.atomic
def model_version_delete_alias(*, name: str, alias: str) -> None:
    """Delete an alias of the model; an alias that is not there is no error."""
    validate_model_name(name)
    validate_alias_name(alias)
    model = registered_model_for_update(name)
    RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).delete()
    webhooks.webhook_notify_alias_deleted(model=model, alias=alias)
