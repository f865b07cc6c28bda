"""Reads of workspaces and of what they hold."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Count, OuterRef, QuerySet, Subquery

from config.errors import ResourceDoesNotExistError
from workspaces.context import in_workspace
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
