"""Django admin for experiments and logged models: browse them across workspaces, and move
experiments between workspaces. Read-only otherwise: the API's services hold every write rule."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin_base import BrowseOnlyAdmin, ReadOnlyInline
from tracking.models import Experiment, ExperimentTag, LoggedModel, LoggedModelParam, LoggedModelTag
from workspaces.moves import move_action


class ExperimentTagInline(ReadOnlyInline):
    """An experiment's tags."""

    model = ExperimentTag
    fields = ["key", "value"]


class LoggedModelParamInline(ReadOnlyInline):
    """A logged model's params."""

    model = LoggedModelParam
    fields = ["key", "value"]


class LoggedModelTagInline(ReadOnlyInline):
    """A logged model's tags."""

    model = LoggedModelTag
    fields = ["key", "value"]


@admin.register(Experiment)
class ExperimentAdmin(BrowseOnlyAdmin):
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


@admin.register(LoggedModel)
class LoggedModelAdmin(BrowseOnlyAdmin):
    """MLflow 3 logged models of every workspace, with their params and tags; they move with
    their experiment."""

    list_display = ["model_id", "name", "workspace", "experiment", "status", "lifecycle_stage"]
    list_filter = ["workspace", "lifecycle_stage"]
    search_fields = ["model_id", "name", "source_run_id"]
    ordering = ["-creation_timestamp_ms"]
    inlines = [LoggedModelParamInline, LoggedModelTagInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoggedModel]:
        return super().get_queryset(request).select_related("workspace", "experiment")
