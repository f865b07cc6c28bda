"""What moves with what: the graph of workspace-owned models below a root, discovered
from cascading foreign keys and declared references (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.functions import Cast

from config.errors import InvalidStateError
from workspaces.models import DEFAULT_WORKSPACE, Workspace, WorkspaceOwned
from workspaces.selectors import workspace_owned_models, workspace_root_models

ProgressCallback = Callable[[int, int], None]
"""Called with (rows moved so far, rows to move) after every batch; may raise to abort."""

# ``workspace_move_field`` and ``workspace_move_references`` of models that do not declare them.
DEFAULT_MOVE_REFERENCES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "permissions.registeredmodelpermission": (
        "for_workspace",
        {"registered_models": ("name", "name")},
    ),
}

NOT_ENABLED = (
    "Aborted: the database does not have workspaces enabled. This command operates directly "
    "on the SQL database used by the default workspace provider. Please make sure the "
    "specified database URI is correct and that workspaces have been enabled via "
    "`mlflow db upgrade`."
)

# Names a command lists before "... and N more".
NAMES_SHOWN = 20


class MoveAbortedError(InvalidStateError):
    """A move or merge that would break a uniqueness rule; nothing was changed."""


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


def reachable_rows(
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


def in_batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
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
