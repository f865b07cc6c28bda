"""Reads of workspaces and of what they hold."""

from __future__ import annotations

import threading
import time

from django.apps import apps
from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery

from config.errors import ResourceDoesNotExistError
from workspaces.context import current_workspace, in_workspace
from workspaces.models import Workspace, WorkspaceOwned

# spec: workspaces.md §5.4, the order in which RESTRICT reports the first non-empty table.
ROOT_TABLE_ORDER = (
    "registered_models",
    "experiments",
    "evaluation_datasets",
    "webhooks",
    "secrets",
    "endpoints",
    "model_definitions",
    "budget_policies",
    "guardrails",
    "jobs",
    "mcp_servers",
)


def workspace_get(name: str) -> Workspace:
    """The workspace called ``name``, or RESOURCE_DOES_NOT_EXIST."""
    try:
        return Workspace.objects.get(name=name)
    except Workspace.DoesNotExist:
        raise ResourceDoesNotExistError(f"Workspace '{name}' not found") from None


class ResolvedWorkspaces:
    """Per-process memory of the workspaces requests name, for ``MLFLOW_WORKSPACE_CACHE_SECONDS``.

    Every API request resolves its header to a workspace; remembering the answer for a couple
    of seconds saves a query per request. Only found workspaces are remembered, so a new one is
    usable at once everywhere. A save or delete in this process forgets the name at once (and
    again at commit, so no other thread keeps a pre-commit copy); other processes see the change
    within the bound. A stale entry in another process can only point at a deleted workspace:
    scoped reads then find nothing, and a write fails on the foreign key, whose 5xx makes the
    middleware forget the entry, so the client's retry is answered from the database.
    The cached instances are shared between threads and must not be changed.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Workspace]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Workspace:
        """The workspace called ``name``, or RESOURCE_DOES_NOT_EXIST."""
        ttl = settings.MLFLOW_WORKSPACE_CACHE_SECONDS
        now = time.monotonic()
        entry = self._entries.get(name)
        if entry is not None and entry[0] > now:
            return entry[1]
        workspace = workspace_get(name)
        if ttl > 0:
            with self._lock:
                self._entries[name] = (now + ttl, workspace)
        return workspace

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


resolved_workspaces = ResolvedWorkspaces()


def current_workspace_checked() -> Workspace:
    """The active workspace, read again: for creating a root resource (experiment, registered
    model, webhook). The request's workspace may be remembered from a couple of seconds ago;
    had another process deleted it since, the new row would meet a foreign-key error."""
    workspace = current_workspace()
    if not Workspace.objects.filter(pk=workspace.pk).exists():
        resolved_workspaces.forget(workspace.name)
        raise ResourceDoesNotExistError(f"Workspace '{workspace.name}' not found")
    return workspace


def workspace_list() -> list[Workspace]:
    """Every workspace, sorted by name."""
    return list(Workspace.objects.order_by("name"))


def workspace_owned_models() -> list[type[WorkspaceOwned]]:
    """Every concrete model whose rows belong to a workspace."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, WorkspaceOwned) and not model._meta.abstract
    ]


def workspace_root_models() -> list[type[WorkspaceOwned]]:
    """The models MLflow calls root tables, in the order RESTRICT reports them."""
    roots = [model for model in workspace_owned_models() if model.workspace_table]
    order = {table: index for index, table in enumerate(ROOT_TABLE_ORDER)}
    return sorted(roots, key=lambda model: order.get(model.workspace_table or "", len(order)))


def workspace_first_nonempty_table(workspace: Workspace) -> tuple[str, int] | None:
    """The first root table still holding rows of ``workspace``, with its row count."""
    with in_workspace(workspace):
        for model in workspace_root_models():
            count = model.objects.count()
            if count:
                return model.workspace_table or model._meta.db_table, count
    return None


def workspace_annotate_counts(queryset: QuerySet[Workspace]) -> QuerySet[Workspace]:
    """Annotate ``count_<table>`` for every root table, in the same single query."""
    annotations = {
        f"count_{model.workspace_table}": Subquery(
            model._base_manager.filter(workspace_id=OuterRef("pk"))
            .order_by()
            .values("workspace_id")
            .annotate(total=Count("pk"))
            .values("total")
        )
        for model in workspace_root_models()
    }
    return queryset.annotate(**annotations)
