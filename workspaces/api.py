"""Base classes and the route helper every app's REST surface is built from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.viewsets import ViewSet

from config import wire
from permissions.drf import MlflowAuthentication, RequiredPermission
from workspaces.models import Workspace


class WorkspaceRequest(Request):
    """A request the workspace middleware has resolved."""

    workspace: Workspace


class JsonOnlyNegotiation(BaseContentNegotiation):
    """MLflow answers JSON whatever ``Accept`` says, so no request is refused for it."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> None:
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers), None) or JSONRenderer()
        return renderer, renderer.media_type


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    """A success body; compact JSON (MLflow pretty-prints, which is not significant)."""
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type="application/json"
    )


class ApiViewSet(ViewSet):
    """Base of every MLflow REST view: no DRF parsing or negotiation cost.

    Authentication and permissions cost nothing while ``MLFLOW_AUTH_ENABLED`` is off; with it
    on, ``RequiredPermission`` applies ``required_permission[action]`` (permissions/access/
    describes the declarations and ``permission_resource``).
    """

    authentication_classes = [MlflowAuthentication]
    permission_classes = [RequiredPermission]
    parser_classes = []
    content_negotiation_class = JsonOnlyNegotiation
    # What each action needs, e.g. "read:experiment", "manage:workspace", "authenticated".
    required_permission: ClassVar[dict[str, str]] = {}
    # The target of requirements that name only a level ("read"); see permissions/access/.
    permission_resource: ClassVar[str] = ""

    def parse(self, schema: type[wire.Schema], request: Request) -> dict[str, Any]:
        """The request's fields, typed and checked by ``schema``."""
        return wire.parse_request(schema, request._request)


class WorkspaceViewSet(ApiViewSet):
    """Base of every view that reads or writes workspace-owned data."""


# Views under api/ that are not scoped to one workspace, each for a stated reason.
GLOBAL_VIEWS: set[type[ApiViewSet]] = set()


def global_view(view: type[ApiViewSet]) -> type[ApiViewSet]:
    """Mark a view as serving no workspace-owned data (server-info, the workspace list)."""
    GLOBAL_VIEWS.add(view)
    return view


HTTP_METHOD_NAMES = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})


def operation(route: str, view: type[ApiViewSet], **actions: str) -> URLPattern:
    """One MLflow operation: a route (no leading prefix) and its method → action mapping.

    Actions are named after the MLflow operation, never after an HTTP method: DRF dispatches a
    request to a view attribute named like its method on *every* route of the view.
    """
    clashing = HTTP_METHOD_NAMES & set(actions.values())
    if clashing:
        raise ValueError(f"{view.__name__}: actions named like HTTP methods: {sorted(clashing)}")
    action_map: dict[str, Any] = dict(actions)
    return path(route, view.as_view(action_map))


def plain_text(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/ajax-api/"))
