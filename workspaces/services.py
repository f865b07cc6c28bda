"""Writes to workspaces: create, update, and delete in the three MLflow deletion modes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from config.errors import InvalidParameterValueError, InvalidStateError, ResourceAlreadyExistsError
from workspaces.context import in_workspace
from workspaces.models import DEFAULT_WORKSPACE, Workspace
from workspaces.selectors import (
    resolved_workspaces,
    workspace_first_nonempty_table,
    workspace_get,
    workspace_owned_models,
    workspace_root_models,
)
from workspaces.validators import (
    clean_artifact_root,
    clean_trace_archival_location,
    clean_trace_archival_retention,
    validate_new_workspace_name,
)

DELETION_MODES = ("SET_DEFAULT", "CASCADE", "RESTRICT")


def _apply_fields(workspace: Workspace, fields: dict[str, Any]) -> None:
    if "description" in fields:
        workspace.description = fields["description"]
    if "default_artifact_root" in fields:
        workspace.default_artifact_root = clean_artifact_root(fields["default_artifact_root"]) or ""
    archival = fields.get("trace_archival_config")
    if archival is not None:
        if "location" in archival:
            workspace.trace_archival_location = (
                clean_trace_archival_location(archival["location"]) or ""
            )
        if "retention" in archival:
            workspace.trace_archival_retention = (
                clean_trace_archival_retention(archival["retention"]) or ""
            )


def _forget_resolved(name: str) -> None:
    """Drop ``name`` from this process's resolved workspaces now and again at commit."""
    resolved_workspaces.forget(name)
    transaction.on_commit(lambda: resolved_workspaces.forget(name))


def workspace_create(*, name: str, fields: dict[str, Any]) -> Workspace:
    """Create a workspace; names follow the naming rules and are unique."""
    validate_new_workspace_name(name)
    workspace = Workspace(name=name)
    _apply_fields(workspace, fields)
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError as error:
        raise ResourceAlreadyExistsError(
            f"Workspace '{name}' already exists. Error: {error}"
        ) from None
    return workspace


@transaction.atomic
def workspace_update(*, name: str, fields: dict[str, Any]) -> Workspace:
    """Apply the keys present in ``fields``; at least one is required."""
    if not fields:
        raise InvalidParameterValueError("Workspace update must have at least one key")
    workspace = workspace_get(name)
    _apply_fields(workspace, fields)
    workspace.save()
    _forget_resolved(name)
    return workspace


def workspace_save(workspace: Workspace) -> None:
    """Save a workspace edited elsewhere (the admin's form, which validated the fields)."""
    with transaction.atomic():
        workspace.save()
        _forget_resolved(workspace.name)


def workspace_delete(*, name: str, mode: str = "RESTRICT") -> None:
    """Delete a workspace: RESTRICT refuses while it holds anything, CASCADE deletes what it
    holds, SET_DEFAULT moves what it holds to ``default`` unless a name would collide.

    differs from reference: its RESTRICT and SET_DEFAULT refusals are HTTP 500; ours are 400.
    """
    if mode not in DELETION_MODES:
        raise InvalidParameterValueError(
            f"Invalid deletion mode '{mode}'. Must be one of: {', '.join(DELETION_MODES)}"
        )
    if name == DEFAULT_WORKSPACE:
        raise InvalidParameterValueError(
            "The 'default' workspace is reserved and cannot be deleted"
        )
    with transaction.atomic():
        workspace = workspace_get(name)
        if mode == "RESTRICT":
            nonempty = workspace_first_nonempty_table(workspace)
            if nonempty is not None:
                table, count = nonempty
                raise InvalidStateError(
                    f"Cannot delete workspace '{name}': table '{table}' still contains "
                    f"{count} resource(s). Remove or reassign them before deleting the workspace."
                )
        elif mode == "CASCADE":
            _delete_contents(workspace)
        else:
            _move_contents_to_default(workspace)
        workspace.delete()
        _forget_resolved(name)


def _delete_contents(workspace: Workspace) -> None:
    """Delete every row the workspace owns; roots first, so children follow their parents."""
    with in_workspace(workspace):
        for model in workspace_root_models():
            model.objects.all().delete()
        for model in workspace_owned_models():
            model.objects.all().delete()


def _move_contents_to_default(workspace: Workspace) -> None:
    """Reassign every row to ``default`` after checking that no root name collides there."""
    default = workspace_get(DEFAULT_WORKSPACE)
    conflicts: list[str] = []
    for model in workspace_root_models():
        if not model.workspace_unique_fields:
            continue
        fields = model.workspace_unique_fields
        with in_workspace(workspace):
            moving = set(model.objects.values_list(*fields))
        with in_workspace(default):
            taken = set(model.objects.values_list(*fields))
        for key in sorted(moving & taken):
            shown = ", ".join(f"'{part}'" for part in key)
            conflicts.append(f"  - {model.workspace_table}: {shown}")
    if conflicts:
        raise InvalidStateError(
            f"Cannot reassign resources from workspace '{workspace.name}' to 'default': the "
            "following names already exist in the default workspace and would cause "
            "conflicts:\n" + "\n".join(conflicts) + "\nRename or remove the conflicting "
            "resources before retrying."
        )
    with in_workspace(workspace):
        for model in workspace_owned_models():
            model.objects.update(workspace=default)
