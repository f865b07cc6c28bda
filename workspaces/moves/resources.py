"""``resources_move``: chosen roots of one resource type, with everything that belongs to
them, into another workspace, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from config.errors import InvalidParameterValueError
from workspaces.context import across_workspaces
from workspaces.models import Workspace, WorkspaceOwned
from workspaces.moves.artifacts import (
    ARTIFACT_POLICIES,
    ARTIFACTS_MOVE,
    ARTIFACTS_RETARGET,
    ArtifactMove,
    ArtifactReport,
)
from workspaces.moves.graph import (
    MoveAbortedError,
    ProgressCallback,
    format_truncated_list,
    in_batches,
    move_graph,
    reachable_rows,
    resource_types,
    table_label,
    workspace_field,
)
from workspaces.selectors import workspace_get

# Roots moved per batch: bounds the IN lists (SQLite allows 32766 parameters) and paces progress.
ROOT_BATCH = 200

# Conflicting names a move shows (the reference's 10).
MOVE_CONFLICTS_SHOWN = 10


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
    for batch in in_batches(root_pks, ROOT_BATCH):
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
    artifacts = ArtifactMove(source_workspace, target_workspace)
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
            for batch in in_batches(root_pks, ROOT_BATCH):
                for model, selection in reachable_rows(graph, batch).items():
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
            for batch in in_batches(root_pks, ROOT_BATCH):
                selections = reachable_rows(graph, batch)
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
