"""Reading artifacts: listings and downloads through the proxy and for runs.

Every path is checked and mapped into the active workspace by ``tracking/storage/`` before
storage is touched; run artifacts are found through the run, loaded by the scoped manager.
Files are opened here, inside the request's scope, before a response streams them.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.errors import InvalidParameterValueError, NotImplementedFeatureError
from tracking.selectors.logged_models import logged_model_get
from tracking.selectors.lookups import run_get
from tracking.storage import (
    ArtifactDownload,
    ArtifactEntry,
    artifact_segments,
    hides_workspaces,
    proxy_key,
    proxy_tree,
    root_location,
    root_scheme,
)
from workspaces.context import current_workspace

MULTIPART_DOWNLOAD_UNSUPPORTED = (
    "Multipart download is not supported for the current artifact repository"
)


def _listing(entries: list[ArtifactEntry], *, hide_workspaces: bool) -> list[ArtifactEntry]:
    if hide_workspaces:
        return [entry for entry in entries if entry.path != "workspaces"]
    return entries


def proxy_artifact_list(path: str | None) -> list[ArtifactEntry]:
    """The entries below a proxy path (basenames); ``[]`` for a missing folder or a file."""
    workspace = current_workspace()
    key = proxy_key(path, workspace, directory=True)
    entries = proxy_tree().list(key)
    return _listing(entries, hide_workspaces=hides_workspaces(key, workspace))


def proxy_artifact_open(path: str) -> ArtifactDownload:
    """The file at a proxy path, opened for streaming."""
    return proxy_tree().open(proxy_key(path, current_workspace()))


def proxy_presigned_download(path: str) -> None:
    """``GET mlflow-artifacts/presigned/<path>``: checked like any path, then unsupported."""
    proxy_key(path, current_workspace())
    raise NotImplementedFeatureError(MULTIPART_DOWNLOAD_UNSUPPORTED)


@dataclass(frozen=True)
class RunArtifactListing:
    """A run's listing: its root URI and entries with run-relative paths."""

    root_uri: str
    entries: list[ArtifactEntry]
    prefix: str


def run_artifact_list(run_id: str, path: str | None) -> RunArtifactListing:
    """The entries below ``path`` in a run's artifacts, for ``2.0/mlflow/artifacts/list``."""
    segments = artifact_segments(path, directory=True)
    run = run_get(run_id)
    location = root_location(run.artifact_uri, "/".join(segments), current_workspace())
    entries = _listing(location.tree.list(location.key), hide_workspaces=location.hides_workspaces)
    prefix = "/".join(segments) + "/" if segments else ""
    return RunArtifactListing(run.artifact_uri, entries, prefix)


def run_artifact_open(run_id: str, path: str) -> ArtifactDownload:
    """A run's artifact file, opened for streaming (``/get-artifact``)."""
    artifact_segments(path)  # an invalid path is refused before the run is looked up
    run = run_get(run_id)
    location = root_location(run.artifact_uri, path, current_workspace())
    return location.tree.open(location.key)


def _direct_root(artifact_uri: str, action: str) -> None:
    scheme = root_scheme(artifact_uri)
    if scheme in ("http", "https", "mlflow-artifacts"):
        if action == "upload":
            raise InvalidParameterValueError(
                "Presigned upload is not supported for proxied artifact storage "
                f"(artifact URI scheme: {scheme}). "
                "This endpoint requires a direct cloud storage artifact URI."
            )
        raise InvalidParameterValueError(
            "Presigned download is not supported for runs with proxied artifact storage "
            f"(artifact URI scheme: {scheme}). "
            "This endpoint requires a run with a direct cloud storage artifact URI."
        )


def run_presigned_url(
    run_id: str, path: str, *, method: str, expiration: int
) -> tuple[str, int | None]:
    """A presigned URL for a run artifact in cloud storage, and (downloads) the file's size."""
    artifact_segments(path)
    run = run_get(run_id)
    _direct_root(run.artifact_uri, "upload" if method == "PUT" else "download")
    location = root_location(run.artifact_uri, path, current_workspace())
    return location.tree.presigned_url(location.key, method=method, expiration=expiration)


def logged_model_presigned_upload_url(model_id: str, path: str, *, expiration: int) -> str:
    """A presigned upload URL for a logged model's artifact in cloud storage."""
    artifact_segments(path)
    model = logged_model_get(model_id)
    _direct_root(model.artifact_location, "upload")
    location = root_location(model.artifact_location, path, current_workspace())
    url, _ = location.tree.presigned_url(location.key, method="PUT", expiration=expiration)
    return url
