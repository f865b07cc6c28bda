"""Django admin for the registry: browse models, versions, tags, aliases and webhooks across
workspaces.

Rows are created and changed only through the API, whose services hold the naming, numbering,
source and URL rules; the admin shows them, filters by workspace and may delete them. A
webhook's secret is never shown.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin_base import ReadOnlyAdmin, ReadOnlyInline
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from workspaces.moves import move_action


class RegisteredModelTagInline(ReadOnlyInline):
    model = RegisteredModelTag
    fields = ["key", "value"]


class RegisteredModelAliasInline(ReadOnlyInline):
    model = RegisteredModelAlias
    fields = ["alias", "model_version"]


class ModelVersionTagInline(ReadOnlyInline):
    model = ModelVersionTag
    fields = ["key", "value"]


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    fields = ["entity", "action"]


class WebhookDeliveryInline(ReadOnlyInline):
    """Deliveries not yet sent nor given up: where a failing target shows, with its error."""

    model = WebhookDelivery
    fields = ["delivery_id", "entity", "action", "attempts", "next_attempt_at", "last_error"]
    readonly_fields = ["delivery_id"]  # not editable, so it may only be shown
    ordering = ["next_attempt_at"]


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


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    """Webhooks with their events and pending deliveries; everything but the secret."""

    list_display = ["name", "workspace", "url", "status", "creation_timestamp"]
    list_filter = ["workspace", "status"]
    search_fields = ["name", "url"]
    fields = [
        "webhook_id",
        "name",
        "workspace",
        "url",
        "status",
        "description",
        "creation_timestamp",
        "last_updated_timestamp",
    ]
    readonly_fields = ["webhook_id"]  # not editable, so it may only be shown
    inlines = [WebhookEventInline, WebhookDeliveryInline]
    actions = [move_action("webhooks")]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Webhook]:
        return super().get_queryset(request).select_related("workspace")
