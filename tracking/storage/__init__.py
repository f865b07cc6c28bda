"""Artifact locations, keys and storage. Only this package builds keys or touches storage.

A client path is decoded until stable (as MLflow does), checked, split into segments and mapped
into the request workspace's part of the tree (spec: workspaces.md §6.2) before any byte is read
or written. The tree lives in django-storages' ``STORAGES["artifacts"]``: a local
``FileSystemStorage`` or an ``S3Storage``; runs whose root is ``s3://`` are read through an
``S3Storage`` of that bucket. spec: tracking.md §7.
"""

from tracking.storage.keys import (
    artifact_segments,
    experiment_artifact_location,
    hides_workspaces,
    join_uri,
    proxy_key,
    run_artifact_uri,
)
from tracking.storage.roots import root_location, root_scheme
from tracking.storage.trees import (
    CHUNK_SIZE,
    ArtifactDownload,
    ArtifactEntry,
    ArtifactTree,
    UploadBody,
    proxy_tree,
)

__all__ = [
    "ArtifactDownload",
    "ArtifactEntry",
    "ArtifactTree",
    "CHUNK_SIZE",
    "UploadBody",
    "artifact_segments",
    "experiment_artifact_location",
    "hides_workspaces",
    "join_uri",
    "proxy_key",
    "proxy_tree",
    "root_location",
    "root_scheme",
    "run_artifact_uri",
]
