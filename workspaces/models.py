"""Workspaces, and the abstract base every workspace-owned model inherits."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from workspaces.fields import NameField
from workspaces.managers import WorkspaceScopedManager

DEFAULT_WORKSPACE = "default"


class Workspace(models.Model):
    """A named tenant: every experiment, run, model and artifact belongs to exactly one."""

    name = NameField(max_length=63, unique=True)
    # noqa reason: MLflow tells an unset description (omitted on the wire) from an empty one.
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    # "" means unset for the roots and archival settings.
    default_artifact_root = models.CharField(max_length=2048, blank=True, default="")
    trace_archival_location = models.CharField(max_length=2048, blank=True, default="")
    trace_archival_retention = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_WORKSPACE


class WorkspaceOwned(models.Model):
    """Base of every model whose rows belong to a workspace.

    ``objects`` is fail-closed: it filters to the active workspace and raises with none.
    Root models (experiments, registered models, webhooks) name their MLflow table in
    ``workspace_table`` and the fields that must be unique within a workspace in
    ``workspace_unique_fields``; deletion modes and moves between workspaces read both.
    """

    workspace = models.ForeignKey(Workspace, models.PROTECT, related_name="+")

    objects = WorkspaceScopedManager()

    workspace_table: ClassVar[str | None] = None
    workspace_unique_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True
