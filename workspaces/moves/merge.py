"""``workspaces_merge_into_default``: every workspace-owned row into ``default``, in one
transaction, after checking that no name would collide there."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Exists, OuterRef

from workspaces.context import across_workspaces
from workspaces.models import DEFAULT_WORKSPACE
from workspaces.moves.graph import (
    MoveAbortedError,
    ProgressCallback,
    ensure_workspaces_enabled,
    format_truncated_list,
    movable_models,
    table_label,
    workspace_field,
)
from workspaces.selectors import workspace_get, workspace_root_models

# Rows per UPDATE when merging every workspace into default.
MERGE_BATCH = 5000

# Conflict rows a merge shows unless verbose (the reference's 5).
MERGE_CONFLICTS_SHOWN = 5

# The order in which the reference checks merge conflicts (workspace_migration.py).
MERGE_CONFLICT_ORDER = ("experiments", "registered_models", "evaluation_datasets")


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
