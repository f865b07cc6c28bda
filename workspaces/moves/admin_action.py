"""The admin's "Move to another workspace" action: an intermediate page picks the target,
then ``resources_move`` runs with the command's checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config.errors import MlflowError
from workspaces.models import Workspace
from workspaces.moves.artifacts import ARTIFACTS_MOVE, ARTIFACTS_PRESERVE
from workspaces.moves.resources import resources_move


class MoveTargetForm(forms.Form):
    """The intermediate page's choice: where the selected resources go."""

    target = forms.ModelChoiceField(
        queryset=Workspace.objects.none(), to_field_name="name", label="Target workspace"
    )
    artifact_policy = forms.ChoiceField(
        choices=[
            (ARTIFACTS_MOVE, "Move artifacts: rewrite URIs and move stored files (readable)"),
            (ARTIFACTS_PRESERVE, "Preserve: keep every URI and file as it is"),
        ],
        initial=ARTIFACTS_MOVE,
        label="Artifacts",
    )

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ModelChoiceField)
        target.queryset = Workspace.objects.exclude(name=source).order_by("name")


AdminAction = Callable[[Any, HttpRequest, QuerySet[Any]], HttpResponse | None]
MOVE_TEMPLATE = "admin/workspaces/move_to_workspace.html"


def move_action(resource_type: str) -> AdminAction:
    """An admin action moving the selected roots of ``resource_type`` to another workspace:
    an intermediate page picks the target, then ``resources_move`` runs with the same checks
    as the command (a name conflict is shown as an error and nothing changes). Needs the
    model's Django ``change`` permission. Use: ``actions = [move_action("experiments")]``."""

    @admin.action(description="Move selected %(verbose_name_plural)s to another workspace")
    def move_to_workspace(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        opts = modeladmin.model._meta
        if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
            modeladmin.message_user(request, "You may not move these resources.", messages.ERROR)
            return None
        sources = sorted(set(queryset.values_list("workspace__name", flat=True)))
        if len(sources) != 1:
            modeladmin.message_user(
                request, "Select resources of one workspace at a time.", messages.ERROR
            )
            return None
        source = sources[0]
        form = MoveTargetForm(request.POST if "apply" in request.POST else None, source=source)
        if form.is_valid():
            target = form.cleaned_data["target"].name
            try:
                result = resources_move(
                    source=source,
                    target=target,
                    resource_type=resource_type,
                    pks=list(queryset.values_list("pk", flat=True)),
                    artifact_policy=form.cleaned_data["artifact_policy"],
                )
            except MlflowError as error:
                modeladmin.message_user(request, error.message, messages.ERROR)
                return None
            modeladmin.message_user(
                request,
                f"Moved {result.row_count} {resource_type} row(s) from {source!r} to "
                f"{target!r} ({result.total_rows} rows with everything that belongs to them).",
                messages.SUCCESS,
            )
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Move {opts.verbose_name_plural} to another workspace",
            "opts": opts,
            "objects": list(queryset),
            "source": source,
            "form": form,
            "action_name": "move_to_workspace",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, MOVE_TEMPLATE, context)

    return move_to_workspace
