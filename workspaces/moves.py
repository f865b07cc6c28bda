"""Moving resources between workspaces: the one atomic move service. STYLE.md §2 and §9.

Two operations, shared by ``manage.py move_resources``, ``manage.py
migrate_to_default_workspace`` and the admin's "Move to another workspace" actions:

* ``resources_move`` moves chosen root resources (experiments, registered models, webhooks —
  any model that declares ``workspace_table``) with everything that hangs off them;
* ``workspaces_merge_into_default`` moves every workspace-owned row into ``default``.

Each runs in ONE database transaction: it moves everything or, on a conflict, an error or an
interruption (``KeyboardInterrupt`` included), nothing.

What moves with a root is discovered, never listed (spec: workspaces.md §9):

* every workspace-owned model with a ``CASCADE`` foreign key to a moving model moves with it,
  recursively (runs → params, metrics, latest metrics, tags, inputs; registered models →
  versions → tags, aliases; ...): a cascading key means "belongs to". Keys with other
  ``on_delete`` rules are references and are not followed;
* a model that points at a root by value instead of a key (a permission row keyed by
  workspace and model name) declares it in ``workspace_move_references``, a mapping from the
  root's ``workspace_table`` to ``(own field, root field)``, and names its workspace key in
  ``workspace_move_field`` when that is not ``workspace``. Its rows in the source workspace
  whose field equals a moved root's field move along (and move into ``default`` in a merge)::

      class RegisteredModelPermission(models.Model):
          workspace_move_field = "for_workspace"
          workspace_move_references = {"registered_models": ("name", "name")}

  Models of other apps that do not carry the attributes yet are listed in
  ``DEFAULT_MOVE_REFERENCES``; the class attributes win.

Artifacts stay readable (policy ``move``, the default): an ``mlflow-artifacts:`` URI names its
workspace (``mlflow-artifacts:/workspaces/<ws>/...``, legacy ``default`` URIs name none), and the
proxy refuses another workspace's prefix (workspaces.md §6.2). So the move rewrites the URIs
of the moved rows to the target workspace and copies the stored files to the matching keys
before committing; after the commit it deletes the old files that no remaining row refers to.
Fields holding artifact URIs are declared in ``workspace_artifact_fields`` (field → whether
the row owns the files) or listed in ``DEFAULT_ARTIFACT_FIELDS``. ``preserve`` and
``retarget`` are the reference's policies and leave files and run URIs alone.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import IO, TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Substr
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config.errors import InvalidParameterValueError, InvalidStateError, MlflowError
from workspaces.context import across_workspaces
from workspaces.models import DEFAULT_WORKSPACE, Workspace, WorkspaceOwned
from workspaces.selectors import workspace_get, workspace_owned_models, workspace_root_models

if TYPE_CHECKING:
    from tracking.storage import ArtifactTree

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called with (rows moved so far, rows to move) after every batch; may raise to abort."""

ARTIFACTS_MOVE = "move"
ARTIFACTS_PRESERVE = "preserve"
ARTIFACTS_RETARGET = "retarget"
ARTIFACT_POLICIES = (ARTIFACTS_MOVE, ARTIFACTS_PRESERVE, ARTIFACTS_RETARGET)

# Roots moved per batch: bounds the IN lists (SQLite allows 32766 parameters) and paces progress.
ROOT_BATCH = 200
# Rows per UPDATE when merging every workspace into default.
MERGE_BATCH = 5000
# Conflict lists: the reference shows 10 names per move and 5 rows per merge unless verbose.
MOVE_CONFLICTS_SHOWN = 10
MERGE_CONFLICTS_SHOWN = 5
NAMES_SHOWN = 20
# The order in which the reference checks merge conflicts (workspace_migration.py).
MERGE_CONFLICT_ORDER = ("experiments", "registered_models", "evaluation_datasets")

# ``workspace_move_field`` and ``workspace_move_references`` of models that do not declare them.
DEFAULT_MOVE_REFERENCES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "permissions.registeredmodelpermission": (
        "for_workspace",
        {"registered_models": ("name", "name")},
    ),
}

PROXY_SCHEME = "mlflow-artifacts:"
# Artifact URI fields of models that do not declare ``workspace_artifact_fields``: True when
# the row owns the files (they move), False when it points at files another row owns (copied).
DEFAULT_ARTIFACT_FIELDS: dict[str, dict[str, bool]] = {
    "tracking.experiment": {"artifact_location": True},
    "tracking.run": {"artifact_uri": True},
    "tracking.loggedmodel": {"artifact_location": True},
    "registry.modelversion": {"source": False, "storage_location": False},
}

NOT_ENABLED = (
    "Aborted: the database does not have workspaces enabled. This command operates directly "
    "on the SQL database used by the default workspace provider. Please make sure the "
    "specified database URI is correct and that workspaces have been enabled via "
    "`mlflow db upgrade`."
)


class MoveAbortedError(InvalidStateError):
    """A move or merge that would break a uniqueness rule; nothing was changed."""


# --- What moves with what -----------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """``child.child_field`` points at ``parent.parent_field``: a child row moves with it."""

    child: type[models.Model]
    parent: type[models.Model]
    child_field: str
    parent_field: str


@dataclass(frozen=True)
class MoveGraph:
    """A root model and every model that moves with it, root first, parents before children."""

    root: type[models.Model]
    order: tuple[type[models.Model], ...]
    edges: tuple[Edge, ...]

    def edges_into(self, model: type[models.Model]) -> list[Edge]:
        """The edges through which rows of ``model`` are reached."""
        return [edge for edge in self.edges if edge.child is model]


def workspace_field(model: type[models.Model]) -> str:
    """The name of the key that says which workspace a row of ``model`` belongs to."""
    declared: str | None = getattr(model, "workspace_move_field", None)
    if declared:
        return declared
    default = DEFAULT_MOVE_REFERENCES.get(model._meta.label_lower)
    return default[0] if default else "workspace"


def move_references(model: type[models.Model]) -> dict[str, tuple[str, str]]:
    """``workspace_move_references`` of ``model``: root table → (own field, root field)."""
    declared: dict[str, tuple[str, str]] | None = getattr(model, "workspace_move_references", None)
    if declared is not None:
        return declared
    default = DEFAULT_MOVE_REFERENCES.get(model._meta.label_lower)
    return default[1] if default else {}


def movable_models() -> list[type[models.Model]]:
    """Every model with rows that belong to a workspace: the workspace-owned ones, then those
    that point at roots by value (``workspace_move_references``)."""
    owned: list[type[models.Model]] = list(workspace_owned_models())
    return owned + [
        model for model in apps.get_models() if model not in owned and move_references(model)
    ]


def table_label(model: type[models.Model]) -> str:
    """The name a table is shown under: MLflow's for roots, the database's otherwise."""
    return getattr(model, "workspace_table", None) or model._meta.db_table


def resource_types() -> dict[str, type[WorkspaceOwned]]:
    """Movable resource types by MLflow table name (``experiments``, ``registered_models``)."""
    return {
        model.workspace_table: model for model in workspace_root_models() if model.workspace_table
    }


def _owned_edges() -> list[Edge]:
    """Every "belongs to" link between workspace-owned models, keys and declared references."""
    owned = workspace_owned_models()
    roots = resource_types()
    edges: list[Edge] = []
    for model in movable_models():
        for model_field in model._meta.concrete_fields:
            if model_field.name == workspace_field(model):
                continue
            related = next((m for m in owned if m is model_field.related_model), None)
            on_delete = getattr(model_field.remote_field, "on_delete", None)
            if related is not None and on_delete is models.CASCADE:
                edges.append(Edge(model, related, model_field.name, "pk"))
        for table, (own_field, root_field) in move_references(model).items():
            if table in roots:
                edges.append(Edge(model, roots[table], own_field, root_field))
    return edges


def move_graph(root: type[models.Model]) -> MoveGraph:
    """The models that move with ``root``, found breadth-first through ``_owned_edges``.

    A model reached at depth d is selected through its edges from models of smaller depth,
    so selections never recurse forever, even if the model graph had a cycle.
    """
    edges = _owned_edges()
    depth: dict[type[models.Model], int] = {root: 0}
    order = [root]
    frontier = [root]
    while frontier:
        following: list[type[models.Model]] = []
        for parent in frontier:
            for edge in edges:
                if edge.parent is parent and edge.child not in depth:
                    depth[edge.child] = depth[parent] + 1
                    order.append(edge.child)
                    following.append(edge.child)
        frontier = following
    used = tuple(
        edge
        for edge in edges
        if edge.child in depth and edge.parent in depth and depth[edge.parent] < depth[edge.child]
    )
    return MoveGraph(root, tuple(order), used)


def _referenced_values(parent: QuerySet[Any], edge: Edge) -> QuerySet[Any]:
    """The values of ``edge.parent_field`` in ``parent``, cast to the child field's type."""
    if edge.parent_field == "pk":
        return parent.values("pk")
    child_field = edge.child._meta.get_field(edge.child_field)
    parent_field = edge.parent._meta.get_field(edge.parent_field)
    if child_field.get_internal_type() == parent_field.get_internal_type():
        return parent.values(edge.parent_field)
    return parent.annotate(
        _moved_reference=Cast(edge.parent_field, output_field=models.TextField())
    ).values("_moved_reference")


def _selections(
    graph: MoveGraph, root_pks: Sequence[Any]
) -> dict[type[models.Model], QuerySet[Any]]:
    """Per model, the rows reachable from the roots ``root_pks`` (in any workspace: the caller
    adds the source workspace, so selections stay valid while rows change workspace)."""
    selected: dict[type[models.Model], QuerySet[Any]] = {
        graph.root: graph.root._default_manager.filter(pk__in=list(root_pks))
    }
    for model in graph.order[1:]:
        condition = reduce(
            or_,
            (
                Q(**{f"{edge.child_field}__in": _referenced_values(selected[edge.parent], edge)})
                for edge in graph.edges_into(model)
            ),
        )
        selected[model] = model._default_manager.filter(condition)
    return selected


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def format_truncated_list(items: Sequence[str], *, max_rows: int | None) -> str:
    """Items on indented lines after a newline, cut to ``max_rows`` with a ``... (N more)``."""
    rows = list(items) if max_rows is None else list(items[:max_rows])
    formatted = "".join(f"\n  {row}" for row in rows)
    if max_rows is not None and len(items) > max_rows:
        formatted += f"\n  ... ({len(items) - max_rows} more)"
    return formatted


def ensure_workspaces_enabled() -> None:
    """Refuse to run on a database without the workspace schema (``db_upgrade`` not run)."""
    tables = set(connection.introspection.table_names())
    needed = [Workspace._meta.db_table] + [m._meta.db_table for m in workspace_owned_models()]
    missing = [table for table in needed if table not in tables]
    if missing:
        raise InvalidStateError(f"{NOT_ENABLED} (missing table '{missing[0]}').")
    if not Workspace.objects.filter(name=DEFAULT_WORKSPACE).exists():
        raise InvalidStateError(f"{NOT_ENABLED} (missing workspace '{DEFAULT_WORKSPACE}').")


# --- Artifacts ----------------------------------------------------------------------------


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
            for batch in _batches(old_uris, 50):
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


class _ArtifactMove:
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
            # only by tracking/storage.py (STYLE.md §9).
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


# --- Moving chosen resources --------------------------------------------------------------


@dataclass(frozen=True)
class MoveResult:
    """What ``resources_move`` moved, or would move in a dry run."""

    resource_type: str
    source: str
    target: str
    names: list[str]
    row_count: int  # rows of the root table
    rows_by_table: dict[str, int]  # every table, children included
    dry_run: bool
    artifacts: ArtifactReport | None = None
    retarget_root: str | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows_by_table.values())


def parse_tag(text: str) -> tuple[str, str]:
    """A ``key=value`` tag filter; the value may be empty, the key may not."""
    if "=" not in text:
        raise InvalidParameterValueError(
            f"Tag {text!r} must be in key=value format (e.g. --tag team=team-a)."
        )
    key, _, value = text.partition("=")
    if not key:
        raise InvalidParameterValueError(f"Tag {text!r} has an empty key. Use key=value format.")
    return key, value


def _tag_relation(root: type[WorkspaceOwned]) -> tuple[type[WorkspaceOwned], str] | None:
    """The tag model of a root (its reverse ``tags`` relation with key/value) and its key."""
    for relation in root._meta.related_objects:
        model = relation.related_model
        if (
            relation.get_accessor_name() == "tags"
            and isinstance(model, type)
            and issubclass(model, WorkspaceOwned)
            and {"key", "value"} <= {f.name for f in model._meta.concrete_fields}
        ):
            return model, relation.field.name
    return None


def _name_field(root: type[WorkspaceOwned]) -> str:
    return root.workspace_unique_fields[0] if root.workspace_unique_fields else "name"


def _retarget_root(target: Workspace, default_artifact_root: str | None) -> str:
    """The root moved experiments are repointed under (reference: workspace_move.py)."""
    from tracking.storage import join_uri

    if target.default_artifact_root:
        return target.default_artifact_root
    from django.conf import settings

    root = default_artifact_root or settings.MLFLOW_DEFAULT_ARTIFACT_ROOT
    return join_uri(root, "workspaces", target.name)


def _check_move_arguments(
    source: str,
    target: str,
    resource_type: str,
    names: Sequence[str],
    tags: Sequence[tuple[str, str]],
    artifact_policy: str,
) -> type[WorkspaceOwned]:
    if source == target:
        raise InvalidParameterValueError("Source and target workspaces must be different.")
    types = resource_types()
    root = types.get(resource_type)
    if root is None:
        raise InvalidParameterValueError(
            f"Unknown resource type {resource_type!r}. Valid types: {', '.join(sorted(types))}"
        )
    if names and tags:
        raise InvalidParameterValueError("--name and --tag are mutually exclusive.")
    if tags and _tag_relation(root) is None:
        raise InvalidParameterValueError(
            f"Resource type {resource_type!r} does not support tag filtering."
        )
    if artifact_policy not in ARTIFACT_POLICIES:
        raise InvalidParameterValueError(f"Unknown artifact policy {artifact_policy!r}.")
    if artifact_policy == ARTIFACTS_RETARGET and resource_type != "experiments":
        raise InvalidParameterValueError(
            "--artifact-policy retarget is only supported for --resource-type experiments."
        )
    return root


def _chosen_roots(
    root: type[WorkspaceOwned],
    source: Workspace,
    names: Sequence[str],
    tags: Sequence[tuple[str, str]],
    pks: Sequence[Any] | None,
    lock: bool,
) -> list[tuple[Any, str]]:
    """``(pk, name)`` of the roots in ``source`` chosen by names, tags (all must match) or pks."""
    roots = root.objects.filter(workspace=source)
    if names:
        roots = roots.filter(**{f"{_name_field(root)}__in": list(names)})
    if pks is not None:
        roots = roots.filter(pk__in=list(pks))
    relation = _tag_relation(root)
    for key, value in dict.fromkeys(tags):
        assert relation is not None  # checked by _check_move_arguments
        tag_model, root_field = relation
        roots = roots.filter(
            pk__in=tag_model.objects.filter(**{"key": key, "value": value}).values(root_field)
        )
    if lock:
        roots = roots.select_for_update()
    return list(roots.order_by("pk").values_list("pk", _name_field(root)))


def _move_conflicts(
    root: type[WorkspaceOwned], root_pks: Sequence[Any], target: Workspace
) -> list[tuple[Any, ...]]:
    """The unique keys (``workspace_unique_fields``) of moving roots already taken in target."""
    fields = root.workspace_unique_fields
    if not fields:
        return []
    conflicts: list[tuple[Any, ...]] = []
    for batch in _batches(root_pks, ROOT_BATCH):
        moving = set(root.objects.filter(pk__in=list(batch)).values_list(*fields))
        firsts = sorted({key[0] for key in moving})
        taken = root.objects.filter(workspace=target, **{f"{fields[0]}__in": firsts})
        conflicts += [key for key in taken.values_list(*fields) if key in moving]
    return sorted(set(conflicts))


def _show_key(key: tuple[Any, ...]) -> str:
    return repr(key[0]) if len(key) == 1 else repr(key)


def resources_move(
    *,
    source: str,
    target: str,
    resource_type: str,
    names: Sequence[str] = (),
    tags: Sequence[tuple[str, str]] = (),
    pks: Sequence[Any] | None = None,
    dry_run: bool = False,
    verbose: bool = False,
    artifact_policy: str = ARTIFACTS_MOVE,
    default_artifact_root: str | None = None,
    progress: ProgressCallback | None = None,
) -> MoveResult:
    """Move root resources of ``resource_type`` from ``source`` to ``target`` with everything
    that belongs to them, in one transaction; all of them (or those named, tagged with every
    tag, or with the given pks). A name already taken in the target aborts with nothing
    changed (``MoveAbortedError``), in a dry run too."""
    root = _check_move_arguments(source, target, resource_type, names, tags, artifact_policy)
    source_workspace = workspace_get(source)
    target_workspace = workspace_get(target)
    graph = move_graph(root)
    artifacts = _ArtifactMove(source_workspace, target_workspace)
    retarget_root = None
    try:
        with transaction.atomic(), across_workspaces("the move service moves between workspaces"):
            chosen = _chosen_roots(root, source_workspace, names, tags, pks, lock=not dry_run)
            root_pks = [pk for pk, _ in chosen]
            found_names = sorted({str(name) for _, name in chosen})
            if not root_pks:
                return MoveResult(resource_type, source, target, [], 0, {}, dry_run)
            conflicts = _move_conflicts(root, root_pks, target_workspace)
            if conflicts:
                shown = format_truncated_list(
                    [_show_key(key) for key in conflicts],
                    max_rows=None if verbose else MOVE_CONFLICTS_SHOWN,
                )
                raise MoveAbortedError(
                    f"Move aborted: the following {resource_type} already exist in workspace "
                    f"{target!r} and would conflict: {shown}\nRename or remove the conflicting "
                    "resources in the target workspace, then retry."
                )
            counts = {table_label(model): 0 for model in graph.order}
            for batch in _batches(root_pks, ROOT_BATCH):
                for model, selection in _selections(graph, batch).items():
                    in_source = {workspace_field(model): source_workspace}
                    counts[table_label(model)] += selection.filter(**in_source).count()
            if dry_run:
                if artifact_policy == ARTIFACTS_RETARGET:
                    retarget_root = _retarget_root(target_workspace, default_artifact_root)
                return MoveResult(
                    resource_type,
                    source,
                    target,
                    found_names,
                    len(root_pks),
                    counts,
                    dry_run,
                    retarget_root=retarget_root,
                )
            total = sum(counts.values())
            done = 0
            for batch in _batches(root_pks, ROOT_BATCH):
                selections = _selections(graph, batch)
                if artifact_policy == ARTIFACTS_MOVE:
                    for model, selection in selections.items():
                        in_source = {workspace_field(model): source_workspace}
                        artifacts.collect(model, selection.filter(**in_source))
                for model in reversed(graph.order):  # children first
                    column = workspace_field(model)
                    done += (
                        selections[model]
                        .filter(**{column: source_workspace})
                        .update(**{column: target_workspace})
                    )
                    if progress is not None:
                        progress(done, total)
            if artifact_policy == ARTIFACTS_RETARGET:
                retarget_root = _retarget_root(target_workspace, default_artifact_root)
                _retarget(root, root_pks, retarget_root)
            if artifact_policy == ARTIFACTS_MOVE:
                artifacts.copy()
    except IntegrityError as error:
        artifacts.rollback()
        raise MoveAbortedError(
            f"Move aborted: a moved row conflicts with a row of workspace {target!r} "
            f"({error}). Nothing was moved."
        ) from None
    except BaseException:
        artifacts.rollback()
        raise
    if artifact_policy == ARTIFACTS_MOVE:
        artifacts.commit()
    return MoveResult(
        resource_type,
        source,
        target,
        found_names,
        len(root_pks),
        counts,
        dry_run,
        artifacts=artifacts.report if artifact_policy == ARTIFACTS_MOVE else None,
        retarget_root=retarget_root,
    )


def _retarget(root: type[WorkspaceOwned], root_pks: Sequence[Any], retarget_root: str) -> None:
    """Repoint each moved experiment's ``artifact_location`` to ``<root>/<experiment_id>``."""
    from tracking.storage import join_uri

    for pk in root_pks:
        root.objects.filter(pk=pk).update(**{"artifact_location": join_uri(retarget_root, str(pk))})


# --- Merging every workspace into default -------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    """Rows per table moved (or that would move) into ``default``."""

    rows_by_table: dict[str, int]
    dry_run: bool

    @property
    def total_rows(self) -> int:
        return sum(self.rows_by_table.values())


def _merge_models() -> list[type[models.Model]]:
    """Every movable model: roots in RESTRICT's order first, then the rest."""
    roots: list[type[models.Model]] = list(workspace_root_models())
    return roots + [model for model in movable_models() if model not in roots]


def _parents() -> set[type[models.Model]]:
    """The models a row can belong to: a key to one of them is unique with its parent."""
    return set(movable_models())


def _unique_keys(model: type[models.Model]) -> list[tuple[str, ...]]:
    """The per-workspace unique keys of ``model`` that merging could break: constraints led
    by its workspace key whose other fields are values or keys to models outside workspaces
    (users); a key to a parent row is unique with that parent, which keeps its id."""
    keys: list[tuple[str, ...]] = []
    parents = _parents()
    for constraint in model._meta.constraints:
        fields = tuple(getattr(constraint, "fields", ()))
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.condition is None
            and len(fields) > 1
            and fields[0] == workspace_field(model)
            and not any(model._meta.get_field(name).related_model in parents for name in fields[1:])
        ):
            keys.append(fields[1:])
    return keys


def _describe(model: type[models.Model], fields: tuple[str, ...]) -> str:
    table = getattr(model, "workspace_table", None)
    noun = table.replace("_", " ") if table else str(model._meta.verbose_name_plural)
    return f"{noun} with the same {' and '.join(fields)}"


def _merge_conflicts(verbose: bool) -> None:
    """Raise ``MoveAbortedError`` for the first unique key that merging would duplicate."""
    checks = [(model, key) for model in _merge_models() for key in _unique_keys(model)]
    order = {table: index for index, table in enumerate(MERGE_CONFLICT_ORDER)}
    checks.sort(key=lambda check: order.get(getattr(check[0], "workspace_table", ""), len(order)))
    for model, key in checks:
        manager = model._default_manager
        twin = manager.filter(**{name: OuterRef(name) for name in key}).exclude(pk=OuterRef("pk"))
        pk_name = model._meta.pk.name if model._meta.pk is not None else "id"
        extra = () if pk_name == "id" else (pk_name,)
        workspace_name = f"{workspace_field(model)}__name"
        rows = list(
            manager.filter(Exists(twin))
            .order_by(*key, workspace_name, "pk")
            .values_list(*key, workspace_name, *extra)
        )
        if not rows:
            continue
        columns = (*key, "workspace", *extra)
        limit = None if verbose else MERGE_CONFLICTS_SHOWN
        items = [
            ", ".join(f"{column}={value!r}" for column, value in zip(columns, row, strict=True))
            for row in rows[:limit]
        ]
        if limit is not None and len(rows) > limit:
            items.append(f"... ({len(rows) - limit} more)")
        raise MoveAbortedError(
            "Move aborted: merging workspaces would create duplicate "
            f"{_describe(model, key)}. Resolve the following conflicts by renaming the "
            "affected resources (restore deleted ones first) or permanently deleting them, "
            f"then retry: {format_truncated_list(items, max_rows=None)}"
        )


def workspaces_merge_into_default(
    *, dry_run: bool = False, verbose: bool = False, progress: ProgressCallback | None = None
) -> MergeResult:
    """Move every workspace-owned row of every workspace into ``default``, in one transaction
    (workspace rows stay). Aborts with nothing changed if names would collide; artifact URIs
    are kept as recorded (as the reference does): see the README on leaving workspace mode."""
    ensure_workspaces_enabled()
    default = workspace_get(DEFAULT_WORKSPACE)
    with transaction.atomic(), across_workspaces("merging every workspace into default"):
        _merge_conflicts(verbose)
        counts: dict[str, int] = {}
        for model in _merge_models():
            outside = {workspace_field(model): default}
            counts[table_label(model)] = model._default_manager.exclude(**outside).count()
        if dry_run:
            return MergeResult(counts, dry_run=True)
        total = sum(counts.values())
        done = 0
        for model in _merge_models():
            manager, into_default = model._default_manager, {workspace_field(model): default}
            while True:
                batch = list(
                    manager.exclude(**into_default).values_list("pk", flat=True)[:MERGE_BATCH]
                )
                if not batch:
                    break
                done += manager.filter(pk__in=batch).update(**into_default)
                if progress is not None:
                    progress(done, total)
    return MergeResult(counts, dry_run=False)


# --- The admin's "move to another workspace" action ---------------------------------------


class MoveTargetForm(forms.Form):
    """The intermediate page's choice: where the selected resources go."""

    target = forms.ModelChoiceField(
        queryset=Workspace.objects.none(), to_field_name="name", label="Target workspace"
    )
    artifact_policy = forms.ChoiceField(
        choices=[
            (ARTIFACTS_MOVE, "Move artifacts: rewrite URIs and move stored files (readable)"),
            (ARTIFACTS_PRESERVE, "Preserve: keep every URI and file as it is"),
        ],
        initial=ARTIFACTS_MOVE,
        label="Artifacts",
    )

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ModelChoiceField)
        target.queryset = Workspace.objects.exclude(name=source).order_by("name")


AdminAction = Callable[[Any, HttpRequest, QuerySet[Any]], HttpResponse | None]
MOVE_TEMPLATE = "admin/workspaces/move_to_workspace.html"


def move_action(resource_type: str) -> AdminAction:
    """An admin action moving the selected roots of ``resource_type`` to another workspace:
    an intermediate page picks the target, then ``resources_move`` runs with the same checks
    as the command (a name conflict is shown as an error and nothing changes). Needs the
    model's Django ``change`` permission. Use: ``actions = [move_action("experiments")]``."""

    @admin.action(description="Move selected %(verbose_name_plural)s to another workspace")
    def move_to_workspace(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        opts = modeladmin.model._meta
        if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
            modeladmin.message_user(request, "You may not move these resources.", messages.ERROR)
            return None
        sources = sorted(set(queryset.values_list("workspace__name", flat=True)))
        if len(sources) != 1:
            modeladmin.message_user(
                request, "Select resources of one workspace at a time.", messages.ERROR
            )
            return None
        source = sources[0]
        form = MoveTargetForm(request.POST if "apply" in request.POST else None, source=source)
        if form.is_valid():
            target = form.cleaned_data["target"].name
            try:
                result = resources_move(
                    source=source,
                    target=target,
                    resource_type=resource_type,
                    pks=list(queryset.values_list("pk", flat=True)),
                    artifact_policy=form.cleaned_data["artifact_policy"],
                )
            except MlflowError as error:
                modeladmin.message_user(request, error.message, messages.ERROR)
                return None
            modeladmin.message_user(
                request,
                f"Moved {result.row_count} {resource_type} row(s) from {source!r} to "
                f"{target!r} ({result.total_rows} rows with everything that belongs to them).",
                messages.SUCCESS,
            )
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Move {opts.verbose_name_plural} to another workspace",
            "opts": opts,
            "objects": list(queryset),
            "source": source,
            "form": form,
            "action_name": "move_to_workspace",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, MOVE_TEMPLATE, context)

    return move_to_workspace
