"""Artifacts of moved rows: URIs rewritten to the target workspace, stored files copied
before the commit and the old ones deleted after it (see the package docstring)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import IO, TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Substr

from config.errors import InvalidParameterValueError, MlflowError
from workspaces.models import Workspace

if TYPE_CHECKING:
    from tracking.storage import ArtifactTree

from workspaces.moves.graph import in_batches, movable_models

ARTIFACTS_MOVE = "move"
ARTIFACTS_PRESERVE = "preserve"
ARTIFACTS_RETARGET = "retarget"
ARTIFACT_POLICIES = (ARTIFACTS_MOVE, ARTIFACTS_PRESERVE, ARTIFACTS_RETARGET)

PROXY_SCHEME = "mlflow-artifacts:"
# Artifact URI fields of models that do not declare ``workspace_artifact_fields``: True when
# the row owns the files (they move), False when it points at files another row owns (copied).
DEFAULT_ARTIFACT_FIELDS: dict[str, dict[str, bool]] = {
    "tracking.experiment": {"artifact_location": True},
    "tracking.run": {"artifact_uri": True},
    "tracking.loggedmodel": {"artifact_location": True},
    "registry.modelversion": {"source": False, "storage_location": False},
}


def artifact_fields(model: type[models.Model]) -> dict[str, bool]:
    """A model's artifact URI fields: field name → whether the row owns the files."""
    declared: dict[str, bool] | None = getattr(model, "workspace_artifact_fields", None)
    if declared is not None:
        return declared
    return DEFAULT_ARTIFACT_FIELDS.get(model._meta.label_lower, {})


def _uri_prefix(workspace: Workspace) -> str:
    return f"{PROXY_SCHEME}/workspaces/{workspace.name}/"


def _naming_filters(uri_field: str, source: Workspace) -> list[tuple[Q, str]]:
    """Filters for the proxy URI forms that resolve inside ``source``, each with the prefix
    to replace: ``mlflow-artifacts:/workspaces/<source>/...``, and the un-prefixed
    ``mlflow-artifacts:/<path>`` (legacy in ``default``, below ``workspaces/<source>/``
    elsewhere, e.g. under a workspace root ``mlflow-artifacts:/custom``), but never
    ``mlflow-artifacts://host/...``."""
    unprefixed = f"{PROXY_SCHEME}/"
    return [
        (Q(**{f"{uri_field}__startswith": _uri_prefix(source)}), _uri_prefix(source)),
        (
            Q(**{f"{uri_field}__startswith": unprefixed})
            & ~Q(**{f"{uri_field}__startswith": f"{PROXY_SCHEME}/workspaces/"})
            & ~Q(**{f"{uri_field}__startswith": f"{PROXY_SCHEME}//"}),
            unprefixed,
        ),
    ]


def relocated_uri(uri: str, source: Workspace, target: Workspace) -> str | None:
    """``uri`` as it reads after moving from ``source`` to ``target``, always prefixed with
    the target's ``workspaces/<target>/``; None for a URI that does not resolve inside
    ``source`` (not a proxy URI, or another workspace's prefix)."""
    prefix = _uri_prefix(source)
    if uri.startswith(prefix):
        return _uri_prefix(target) + uri[len(prefix) :]
    unprefixed = f"{PROXY_SCHEME}/"
    if (
        uri.startswith(unprefixed)
        and not uri.startswith(f"{PROXY_SCHEME}/workspaces/")
        and not uri.startswith(f"{PROXY_SCHEME}//")
    ):
        return _uri_prefix(target) + uri[len(unprefixed) :]
    return None


@dataclass
class ArtifactReport:
    """What a move did to stored artifact files."""

    folders_moved: int = 0
    folders_copied: int = 0
    files_copied: int = 0
    folders_kept: int = 0  # old files another row still points at
    uris_rewritten: int = 0
    cleanup_failures: list[str] = field(default_factory=list)


@dataclass
class _Relocation:
    """Files to copy from one key to another; ``delete_old`` once the move has committed."""

    old_uri: str
    old_key: str
    new_key: str
    owned: bool
    delete_old: bool = False


class _ChunkReader:
    """A ``read(size)`` view of an artifact's content, a file or an iterator of chunks."""

    def __init__(self, content: IO[bytes] | Iterator[bytes]) -> None:
        self.content = content
        self.buffer = b""

    def read(self, size: int = -1, /) -> bytes:
        if isinstance(self.content, io.IOBase):
            return self.content.read(size)
        assert isinstance(self.content, Iterator)
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.content, b"")
            if not chunk:
                break
            self.buffer += chunk
        data, self.buffer = (
            (self.buffer, b"") if size < 0 else (self.buffer[:size], self.buffer[size:])
        )
        return data

    def close(self) -> None:
        close = getattr(self.content, "close", None)
        if close is not None:
            close()


def _copy_tree(tree: ArtifactTree, old_key: str, new_key: str, written: list[str]) -> int:
    """Copy the file or folder at ``old_key`` to ``new_key``; returns the files copied and
    appends every key written to ``written`` (to undo them if the move fails)."""
    from config.errors import ResourceDoesNotExistError
    from tracking.storage import UploadBody

    entries = tree.list(old_key)
    if entries:
        return sum(
            _copy_tree(tree, f"{old_key}/{entry.path}", f"{new_key}/{entry.path}", written)
            for entry in entries
        )
    try:
        download = tree.open(old_key)
    except (ResourceDoesNotExistError, InvalidParameterValueError):
        return 0  # nothing stored there yet, or an empty folder
    reader = _ChunkReader(download.content)
    try:
        tree.save(new_key, UploadBody(reader, download.size))
    finally:
        reader.close()
    written.append(new_key)
    return 1


def _minimal(relocations: Iterable[_Relocation]) -> list[_Relocation]:
    """Drop relocations inside another one's folder (a run's files inside its experiment's)."""
    kept: list[_Relocation] = []
    for relocation in sorted(relocations, key=lambda item: (item.old_key, not item.owned)):
        if any(
            relocation.old_key == other.old_key
            or relocation.old_key.startswith(other.old_key + "/")
            for other in kept
        ):
            continue
        kept.append(relocation)
    return kept


def _artifact_models() -> list[tuple[type[models.Model], dict[str, bool]]]:
    return [(model, fields) for model in movable_models() if (fields := artifact_fields(model))]


def _still_referenced(old_uris: Sequence[str]) -> set[str]:
    """Those of ``old_uris`` that some row still points at, or below (checked after rewriting
    the moved rows, so only rows that stayed behind match)."""
    found: set[str] = set()
    for model, fields in _artifact_models():
        for uri_field in fields:
            for batch in in_batches(old_uris, 50):
                condition = reduce(
                    or_,
                    (
                        Q(**{uri_field: uri})
                        | Q(**{f"{uri_field}__startswith": uri.rstrip("/") + "/"})
                        for uri in batch
                    ),
                )
                values = model._default_manager.filter(condition).values_list(uri_field, flat=True)
                for value in values.distinct():
                    found.update(
                        uri
                        for uri in batch
                        if value == uri or value.startswith(uri.rstrip("/") + "/")
                    )
    return found


class ArtifactMove:
    """Rewrites the moved rows' proxy URIs and copies their files, inside the transaction;
    ``commit`` deletes old files afterwards, ``rollback`` removes the copies."""

    def __init__(self, source: Workspace, target: Workspace) -> None:
        self.source = source
        self.target = target
        self.report = ArtifactReport()
        self.relocations: dict[str, _Relocation] = {}
        self.written: list[str] = []
        self._tree: ArtifactTree | None = None

    @property
    def tree(self) -> ArtifactTree:
        if self._tree is None:
            # The move service is the one place that spans apps; storage keys are built
            # only by tracking/storage/ (STYLE.md §9).
            from tracking.storage import proxy_tree

            self._tree = proxy_tree()
        return self._tree

    def _key(self, uri: str, workspace: Workspace) -> str | None:
        from tracking.storage import root_location

        try:
            return root_location(uri, None, workspace, directory=True).key
        except MlflowError:
            return None

    def collect(self, model: type[models.Model], selection: QuerySet[Any]) -> None:
        """Note the files behind the moved rows of ``model`` and rewrite their URIs."""
        for uri_field, owned in artifact_fields(model).items():
            for condition, prefix in _naming_filters(uri_field, self.source):
                matching = selection.filter(condition)
                for uri in matching.values_list(uri_field, flat=True).distinct():
                    new_uri = relocated_uri(uri, self.source, self.target)
                    old_key = self._key(uri, self.source)
                    new_key = self._key(new_uri, self.target) if new_uri else None
                    if old_key is None or new_key is None:
                        continue
                    known = self.relocations.get(old_key)
                    if known is None or (owned and not known.owned):
                        self.relocations[old_key] = _Relocation(uri, old_key, new_key, owned)
                new_prefix = _uri_prefix(self.target)
                self.report.uris_rewritten += matching.update(
                    **{
                        uri_field: Concat(
                            Value(new_prefix),
                            Substr(uri_field, len(prefix) + 1),
                            output_field=models.TextField(),
                        )
                    }
                )

    def copy(self) -> None:
        """Copy every collected folder; decide which old folders may go after the commit."""
        relocations = _minimal(self.relocations.values())
        owned = [item for item in relocations if item.owned]
        referenced = _still_referenced([item.old_uri for item in owned])
        for relocation in relocations:
            self.report.files_copied += _copy_tree(
                self.tree, relocation.old_key, relocation.new_key, self.written
            )
            if relocation.owned and relocation.old_uri not in referenced:
                relocation.delete_old = True
                self.report.folders_moved += 1
            elif relocation.owned:
                self.report.folders_kept += 1
            else:
                self.report.folders_copied += 1
        self.relocations = {item.old_key: item for item in relocations}

    def commit(self) -> None:
        """After the commit: delete the old files nothing points at any more (best effort:
        a failure leaves an unreferenced copy behind, never a broken link)."""
        for relocation in self.relocations.values():
            if relocation.delete_old:
                try:
                    self.tree.delete(relocation.old_key)
                except Exception as error:  # noqa: BLE001  # best effort, reported to the caller
                    self.report.cleanup_failures.append(f"{relocation.old_key}: {error}")

    def rollback(self) -> None:
        """After a rollback: remove the copies, so storage is as it was."""
        for key in self.written:
            with contextlib.suppress(Exception):
                self.tree.delete(key)
