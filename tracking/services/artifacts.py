"""Writing artifacts: uploads and deletions through the proxy and for runs (the UI upload).

Paths are checked and mapped into the active workspace by ``tracking/storage/`` before any
byte is written; uploads stream and only ever show complete files under their final name.
"""

from __future__ import annotations

from config.errors import NotImplementedFeatureError
from tracking.selectors.lookups import run_get
from tracking.storage import (
    UploadBody,
    artifact_segments,
    proxy_key,
    proxy_tree,
    root_location,
)
from workspaces.context import current_workspace
from workspaces.selectors import current_workspace_checked

MULTIPART_UPLOAD_UNSUPPORTED = (
    "Multipart upload is not supported for the current artifact repository"
)


def proxy_artifact_upload(*, path: str, body: UploadBody) -> None:
    """Store an uploaded file at a proxy path, replacing any file there.

    The workspace row is read again, as for creating a root resource: a workspace remembered
    by this process but deleted by another in the meantime takes no new files.
    """
    proxy_tree().save(proxy_key(path, current_workspace_checked()), body)


def proxy_artifact_delete(*, path: str) -> None:
    """Delete the file or folder at a proxy path; a missing one is no error."""
    proxy_tree().delete(proxy_key(path, current_workspace()))


def proxy_multipart_upload(*, path: str) -> None:
    """``mlflow-artifacts/mpu/*``: the path is checked like any other, then unsupported.

    The client falls back to a single streamed PUT on exactly this 501 message.
    """
    proxy_key(path, current_workspace())
    raise NotImplementedFeatureError(MULTIPART_UPLOAD_UNSUPPORTED)


def run_artifact_upload(*, run_id: str, path: str, body: UploadBody) -> None:
    """Store a file below a run's artifact root (the UI's upload)."""
    artifact_segments(path)  # an invalid path is refused before the run is looked up
    run = run_get(run_id)
    location = root_location(run.artifact_uri, path, current_workspace())
    location.tree.save(location.key, body)
