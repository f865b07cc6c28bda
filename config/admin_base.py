"""Base classes of the apps' Django admins: rows created and changed only through the API,
whose services hold every write rule, and shown here across workspaces."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]  # generic over any model
    """An inline that shows rows without offering to add or edit them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic over any model
    """No adding or editing; deleting stays Django's."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BrowseOnlyAdmin(ReadOnlyAdmin):
    """Rows to look at, never deleted here either (MLflow deletes them softly, through the API).

    The delete permission itself stays Django's, because the workspace admin's delete page asks
    it about the rows a workspace still holds and would otherwise report a missing permission
    instead of "table '...' still contains N resource(s)".
    """

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
