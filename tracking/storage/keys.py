"""Artifact locations handed to clients, and client paths turned into storage keys: decoded
until stable, checked, split into segments and mapped into the request workspace's part of
the tree (spec: workspaces.md §6.2, tracking.md §7)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import unquote

from django.conf import settings

from config.errors import (
    InvalidParameterValueError,
)
from workspaces.models import Workspace

WORKSPACES_SEGMENT = "workspaces"
INVALID_PATH = "Invalid path"
# Uploads land under this name next to their target and are renamed when complete; a client
# can neither name nor list one (see ``artifact_segments`` and ``_visible``).
PARTIAL_NAME = re.compile(r"^\.upload-[0-9a-f]{32}\.part$")
MAX_SEGMENT_BYTES = 255  # NAME_MAX of common filesystems; a longer name would be an OSError


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


def _decode(path: str) -> str:
    """Percent-decode until the text stops changing, so ``%252e%252e`` is seen as ``..``."""
    for _ in range(10):
        decoded = unquote(path)
        if decoded == path:
            return path
        path = decoded
    raise InvalidParameterValueError(INVALID_PATH)


def artifact_segments(path: str | None, *, directory: bool = False) -> list[str]:
    """The segments of a client artifact path; ``[]`` for the root.

    Refused with ``Invalid path`` (nothing is read or written): ``..``, ``.`` and empty segments
    (so absolute paths and repeated slashes), percent-encoded forms of any of those, backslashes,
    ``#``, control characters including NUL, Windows absolute paths, over-long names and the
    names of uploads in progress. A ``directory`` path (a listing) may end with one ``/``.
    """
    if not path:
        return []
    text = _decode(path)
    if (
        "\\" in text
        or "#" in text
        or any(ord(char) < 32 or ord(char) == 127 for char in text)
        or PureWindowsPath(text).is_absolute()
        or PurePosixPath(text).is_absolute()
    ):
        raise InvalidParameterValueError(INVALID_PATH)
    if directory and text.endswith("/"):
        text = text[:-1]
    segments = text.split("/")
    for segment in segments:
        if (
            segment in ("", ".", "..")
            or PARTIAL_NAME.match(segment)
            or len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES
        ):
            raise InvalidParameterValueError(INVALID_PATH)
    return segments


def workspace_key(segments: list[str], workspace: Workspace) -> str:
    """The storage key of a proxy path for the request workspace (workspaces.md §6.2).

    ``workspaces/<W>/...`` stays, another workspace's prefix is refused, and anything else goes
    below ``workspaces/<W>/`` — except in ``default``, whose legacy files live at the root.
    """
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        return "/".join(segments)
    name = workspace.name
    if segments and segments[0] == WORKSPACES_SEGMENT:
        if len(segments) == 1:
            raise InvalidParameterValueError(
                "Artifact paths prefixed with 'workspaces/' must include a workspace name."
            )
        if segments[1] != name:
            raise InvalidParameterValueError(
                f"Artifact path targets workspace '{segments[1]}' "
                f"but the workspace specified in the request is '{name}'."
            )
        return "/".join(segments)
    if workspace.is_default:
        return "/".join(segments)
    return "/".join([WORKSPACES_SEGMENT, name, *segments])


def proxy_key(path: str | None, workspace: Workspace, *, directory: bool = False) -> str:
    """Check a proxy path and map it to its storage key in ``workspace``."""
    return workspace_key(artifact_segments(path, directory=directory), workspace)


def hides_workspaces(key: str, workspace: Workspace) -> bool:
    """Whether a listing of ``key`` must leave out the ``workspaces`` folder: the storage root,
    seen from ``default``, holds every other workspace's tree, which ``default`` may not name."""
    return settings.MLFLOW_ENABLE_WORKSPACES and key == "" and workspace.is_default
