"""Artifact locations and keys. Only this module builds them. spec: workspaces.md §6."""

from __future__ import annotations

from django.conf import settings

from workspaces.models import Workspace


def join_uri(root: str, *parts: str) -> str:
    """Join a root URI and path parts with ``/``, never doubling it (``mlflow-artifacts:/``)."""
    uri = root
    for part in parts:
        part = part.strip("/")
        if not part:
            continue
        if uri.endswith("/") or uri.endswith(":"):
            uri = f"{uri}{part}"
        elif uri:
            uri = f"{uri}/{part}"
        else:
            uri = part
    return uri


def experiment_artifact_location(workspace: Workspace, experiment_id: int) -> str:
    """Where an experiment's artifacts live: the workspace's own root, else the server's root
    under ``workspaces/<name>`` (no workspace segment when workspaces are off)."""
    if settings.MLFLOW_ENABLE_WORKSPACES and workspace.default_artifact_root:
        return join_uri(workspace.default_artifact_root, str(experiment_id))
    root = settings.MLFLOW_DEFAULT_ARTIFACT_ROOT
    if settings.MLFLOW_ENABLE_WORKSPACES:
        return join_uri(root, "workspaces", workspace.name, str(experiment_id))
    return join_uri(root, str(experiment_id))


def run_artifact_uri(experiment_artifact_location: str, run_id: str) -> str:
    """A run's artifact URI: ``<experiment location>/<run_id>/artifacts``."""
    return join_uri(experiment_artifact_location, run_id, "artifacts")
