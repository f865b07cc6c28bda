"""Where an artifact root URI resolves: the proxy tree (``mlflow-artifacts:`` and http(s)
proxy URLs, with the workspace rewriting) or an ``s3://`` bucket."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings

from config.errors import (
    InvalidParameterValueError,
)
from tracking.storage.keys import artifact_segments, hides_workspaces, workspace_key
from tracking.storage.trees import ArtifactTree, S3Tree, proxy_tree
from workspaces.models import Workspace

PROXY_SCHEMES = ("mlflow-artifacts", "http", "https")
PROXY_HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


@dataclass(frozen=True)
class ArtifactLocation:
    """Where a run's (or model version's) artifact lives: a tree, a key, and a listing rule."""

    tree: ArtifactTree
    key: str
    hides_workspaces: bool = False


def root_scheme(root_uri: str) -> str:
    """The scheme of an artifact root URI (``""`` for a local path)."""
    return urlparse(root_uri).scheme


def root_location(
    root_uri: str, path: str | None, workspace: Workspace, *, directory: bool = False
) -> ArtifactLocation:
    """Resolve ``path`` inside an artifact root URI, in ``workspace``.

    ``mlflow-artifacts:`` roots (and http(s) proxy URLs) resolve into the proxy tree with the
    workspace rewriting applied to the joined path; ``s3://`` roots into that bucket. The
    server does not read other roots (local folders): their clients read them directly.
    """
    relative = artifact_segments(path, directory=directory)
    parsed = urlparse(root_uri)
    if parsed.scheme in PROXY_SCHEMES:
        root_path = parsed.path
        if parsed.scheme != "mlflow-artifacts":
            if PROXY_HTTP_ANCHOR not in root_path:
                raise InvalidParameterValueError(
                    f"The artifact root '{root_uri}' is not an artifact proxy URL."
                )
            root_path = root_path.split(PROXY_HTTP_ANCHOR, 1)[1]
        root = artifact_segments(root_path.strip("/"), directory=True)
        key = workspace_key(root + relative, workspace)
        return ArtifactLocation(proxy_tree(), key, hides_workspaces(key, workspace))
    if parsed.scheme == "s3":
        from storages.backends.s3 import S3Storage

        location = "/".join(artifact_segments(parsed.path.strip("/"), directory=True))
        storage = S3Storage(
            **{**settings.ARTIFACTS_S3_OPTIONS, "bucket_name": parsed.netloc, "location": location}
        )
        return ArtifactLocation(S3Tree(storage), "/".join(relative))
    raise InvalidParameterValueError(
        f"This server does not serve artifacts stored at '{root_uri}'; "
        "read them from that location directly."
    )
