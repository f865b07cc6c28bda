"""Request and response shapes of the workspace endpoints. spec: workspaces.md §5."""

from __future__ import annotations

from typing import Any

from config import wire
from workspaces.models import Workspace


class TraceArchivalConfigIn(wire.Schema):
    location = wire.String()
    retention = wire.String()


class CreateWorkspaceIn(wire.Schema):
    name = wire.String(required=True)
    description = wire.String()
    default_artifact_root = wire.String()
    trace_archival_config = wire.Message(TraceArchivalConfigIn)


class UpdateWorkspaceIn(wire.Schema):
    description = wire.String()
    default_artifact_root = wire.String()
    trace_archival_config = wire.Message(TraceArchivalConfigIn)


class WorkspaceOut:
    """A workspace as MLflow sends it: unset fields are omitted."""

    @staticmethod
    def render(workspace: Workspace) -> dict[str, Any]:
        body: dict[str, Any] = {"name": workspace.name}
        if workspace.description is not None:
            body["description"] = workspace.description
        if workspace.default_artifact_root:
            body["default_artifact_root"] = workspace.default_artifact_root
        archival = {
            key: value
            for key, value in (
                ("location", workspace.trace_archival_location),
                ("retention", workspace.trace_archival_retention),
            )
            if value
        }
        if archival:
            body["trace_archival_config"] = archival
        return body
