"""The fail-closed manager of every workspace-owned model."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from workspaces.context import scope_filter

M = TypeVar("M", bound=models.Model)


class WorkspaceScopedManager(models.Manager[M]):
    """Filters every queryset to the active workspace and raises when there is none."""

    def get_queryset(self) -> models.QuerySet[M]:
        return super().get_queryset().filter(**scope_filter())
