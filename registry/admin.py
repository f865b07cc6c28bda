"""Django admin for the registry: browse models, versions, tags and aliases across workspaces.

Rows are created and changed only through the API, whose services hold the naming, numbering
and source rules; the admin shows them, filters by workspace and may delete them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from workspaces.moves import move_action


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]  # generic over any model
    """An inline that shows rows without offering to add or edit them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RegisteredModelTagInline(ReadOnlyInline):
    model = RegisteredModelTag
    fields = ["key", "value"]


class RegisteredModelAliasInline(ReadOnlyInline):
    model = RegisteredModelAlias
    fields = ["alias", "model_version"]


class ModelVersionTagInline(ReadOnlyInline):
    model = ModelVersionTag
    fields = ["key", "value"]


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic over any model
    """No adding or editing: the API's services own every write rule."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    """Registered models and prompts with their tags and aliases."""

    list_display = ["name", "workspace", "last_version", "creation_timestamp"]
    list_filter = ["workspace"]
    search_fields = ["name", "description"]
    inlines = [RegisteredModelTagInline, RegisteredModelAliasInline]
    actions = [move_action("registered_models")]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RegisteredModel]:
        return super().get_queryset(request).select_related("workspace")


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    """Model versions with their tags."""

    list_display = ["registered_model", "version", "current_stage", "workspace", "source"]
    list_filter = ["workspace", "current_stage"]
    search_fields = ["registered_model__name", "source", "run_id"]
    inlines = [ModelVersionTagInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelVersion]:
        return super().get_queryset(request).select_related("workspace", "registered_model")
