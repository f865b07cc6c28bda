"""Django admin for experiments: browse them across workspaces and move them between
workspaces. Read-only otherwise: the API's services hold every write rule."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from tracking.models import Experiment, ExperimentTag
from workspaces.moves import move_action


class ExperimentTagInline(admin.TabularInline[ExperimentTag, Experiment]):
    """An experiment's tags, shown, never edited."""

    model = ExperimentTag
    fields = ["key", "value"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin[Experiment]):
    """Experiments of every workspace, filterable by workspace; the one change offered is the
    move to another workspace, with everything that belongs to the experiment."""

    list_display = ["experiment_id", "name", "workspace", "lifecycle_stage", "artifact_location"]
    list_filter = ["workspace", "lifecycle_stage"]
    search_fields = ["name"]
    ordering = ["experiment_id"]
    inlines = [ExperimentTagInline]
    actions = [move_action("experiments")]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Experiment]:
        return super().get_queryset(request).select_related("workspace")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # Experiments are never deleted here (MLflow deletes softly, through the API). The delete
    # permission itself stays Django's, because the workspace admin's delete page asks it about
    # the experiments a workspace still holds and would otherwise report a missing permission
    # instead of "table 'experiments' still contains N resource(s)".
    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        raise PermissionDenied

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "show_delete": False}
        )
