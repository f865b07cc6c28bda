"""Resolves ``X-MLFLOW-WORKSPACE`` and runs each API request inside its workspace.

The workspace comes from ``resolved_workspaces`` (workspaces/selectors.py), which remembers it
for ``MLFLOW_WORKSPACE_CACHE_SECONDS``.

spec: workspaces.md §3. The middleware sits outside DRF's exception handler, so it renders its
own errors. The admin spans workspaces by design and runs across them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.errors import FeatureDisabledError, MlflowError, error_response
from workspaces.context import across_workspaces, in_workspace
from workspaces.models import DEFAULT_WORKSPACE, Workspace
from workspaces.selectors import resolved_workspaces
from workspaces.validators import validate_existing_workspace_name

WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
API_PREFIXES = ("/api/", "/ajax-api/", "/get-artifact", "/model-versions/get-artifact")
UNSCOPED_SUFFIXES = ("/mlflow/server-info",)


def resolve_workspace(header: str | None) -> Workspace:
    """The workspace a request names; ``default`` when it names none."""
    name = (header or "").strip()
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        if name:
            # differs from reference: 500 there, which the client retries for minutes.
            raise FeatureDisabledError(
                "Workspace APIs are not available: workspaces are not enabled on this server"
            )
        return resolved_workspaces.get(DEFAULT_WORKSPACE)
    if not name:
        name = DEFAULT_WORKSPACE
    return resolved_workspaces.get(validate_existing_workspace_name(name))


class WorkspaceMiddleware:
    """Scopes API requests to the header's workspace and the admin across all of them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/admin/"):
            with across_workspaces("the Django admin spans workspaces"):
                return self.get_response(request)
        if not path.startswith(API_PREFIXES) or path.endswith(UNSCOPED_SUFFIXES):
            return self.get_response(request)
        try:
            workspace = resolve_workspace(request.headers.get(WORKSPACE_HEADER))
        except MlflowError as error:
            return error_response(error)
        request.workspace = workspace  # type: ignore[attr-defined]  # read as WorkspaceRequest
        with in_workspace(workspace):
            response = self.get_response(request)
        if response.status_code >= 500:
            # Perhaps written against a workspace deleted in another process: look it up again.
            resolved_workspaces.forget(workspace.name)
        return response
