"""Django admin for workspaces: the same rules as the API, through the same validators."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from config.errors import MlflowError
from workspaces.models import DEFAULT_WORKSPACE, Workspace
from workspaces.selectors import workspace_annotate_counts, workspace_first_nonempty_table
from workspaces.services import workspace_delete, workspace_save
from workspaces.validators import (
    clean_artifact_root,
    clean_trace_archival_location,
    clean_trace_archival_retention,
    validate_new_workspace_name,
)


def _checked(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except MlflowError as error:
        raise ValidationError(error.message) from None


class WorkspaceForm(forms.ModelForm[Workspace]):
    class Meta:
        model = Workspace
        fields = [
            "name",
            "description",
            "default_artifact_root",
            "trace_archival_location",
            "trace_archival_retention",
        ]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance.pk is None:
            _checked(validate_new_workspace_name, name)
        return name

    def clean_default_artifact_root(self) -> str:
        value = self.cleaned_data.get("default_artifact_root") or ""
        return _checked(clean_artifact_root, value) or ""

    def clean_trace_archival_location(self) -> str:
        value = self.cleaned_data.get("trace_archival_location") or ""
        return _checked(clean_trace_archival_location, value) or ""

    def clean_trace_archival_retention(self) -> str:
        value = self.cleaned_data.get("trace_archival_retention") or ""
        return _checked(clean_trace_archival_retention, value) or ""


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin[Workspace]):
    """Workspaces with what they hold; a workspace is deleted only when it is empty."""

    form = WorkspaceForm
    list_display = ["name", "description", "experiments", "registered_models"]
    search_fields = ["name", "description"]
    actions = ["delete_empty_workspaces"]

    def get_readonly_fields(self, request: HttpRequest, obj: Workspace | None = None) -> list[str]:
        # A workspace's name is its identity in every client and artifact path.
        return ["name"] if obj is not None else []

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would skip the emptiness check
        return actions

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workspace]:
        return workspace_annotate_counts(super().get_queryset(request))

    @admin.display(description="experiments")
    def experiments(self, workspace: Workspace) -> int:
        return getattr(workspace, "count_experiments", 0) or 0

    @admin.display(description="registered models")
    def registered_models(self, workspace: Workspace) -> int:
        return getattr(workspace, "count_registered_models", 0) or 0

    def has_delete_permission(self, request: HttpRequest, obj: Workspace | None = None) -> bool:
        if obj is not None and obj.name == DEFAULT_WORKSPACE:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for workspace in objs:
            nonempty = workspace_first_nonempty_table(workspace)
            if nonempty is not None:
                table, count = nonempty
                protected = [
                    *protected,
                    f"{workspace.name}: table '{table}' still contains {count} resource(s); "
                    "remove or move them first",
                ]
        return deleted, model_count, perms_needed, protected

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        workspace_save(obj)

    def delete_model(self, request: HttpRequest, obj: Workspace) -> None:
        workspace_delete(name=obj.name, mode="RESTRICT")

    @admin.action(description="Delete selected workspaces (only empty ones)")
    def delete_empty_workspaces(self, request: HttpRequest, queryset: QuerySet[Workspace]) -> None:
        for workspace in queryset:
            try:
                workspace_delete(name=workspace.name, mode="RESTRICT")
            except MlflowError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Deleted workspace '{workspace.name}'.")
