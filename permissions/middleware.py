"""Authentication of plain Django views, and MLflow's after-request permission hooks.

DRF views (``ApiViewSet``) are checked by ``permissions.drf``. This middleware covers the other
routes when authentication is on (``/version``; spec §2: only ``/health``, ``/static`` and
``/favicon.ico`` are public) and, after a successful answer, does what MLflow's after-request
hooks do (spec §9, §6.2): the creator of an experiment or registered model gets MANAGE on it,
and a registered model's rows follow its rename and delete. It sits inside the workspace
middleware, so the request's workspace is active. Every POST to the admin site forgets the
remembered authorization decisions (``permissions.decisions``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.views import APIView

from config.errors import MlflowError, error_response
from permissions.access import (
    GRANT_ATTRIBUTE,
    authorize,
    is_public_path,
    plain_view_requirement,
    remember_created_experiment,
    remember_created_run,
)
from permissions.decisions import decisions_forget
from permissions.services import (
    experiment_permission_grant_creator,
    registered_model_permission_grant_creator,
    registered_model_permissions_delete,
    registered_model_permissions_rename,
)

logger = logging.getLogger(__name__)
API_PREFIXES = ("/api/", "/ajax-api/")
ADMIN_PREFIX = "/admin/"


def _json(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _grant_experiment_creator(request: HttpRequest, response: HttpResponse) -> None:
    experiment_id = _json(response.content).get("experiment_id")
    if experiment_id is not None and request.user.is_authenticated:
        experiment_permission_grant_creator(user=request.user, experiment_id=int(experiment_id))
        remember_created_experiment(request, str(experiment_id))


def _learn_created_run(request: HttpRequest, response: HttpResponse) -> None:
    """Not a hook of the reference: saves the first request on a new run its one query."""
    if getattr(request, GRANT_ATTRIBUTE, None) is None:
        return  # an admin, or a check this process did not grant
    info = (_json(response.content).get("run") or {}).get("info") or {}
    if info.get("run_id") and info.get("experiment_id") is not None:
        remember_created_run(request, str(info["run_id"]), str(info["experiment_id"]))


def _grant_registered_model_creator(request: HttpRequest, response: HttpResponse) -> None:
    name = (_json(response.content).get("registered_model") or {}).get("name")
    if name and request.user.is_authenticated:
        registered_model_permission_grant_creator(
            user=request.user,
            workspace=request.workspace,  # type: ignore[attr-defined]  # set by workspaces
            name=name,
        )


def _rename_registered_model(request: HttpRequest, response: HttpResponse) -> None:
    body = _json(request.body)
    if body.get("name") and body.get("new_name"):
        registered_model_permissions_rename(
            workspace=request.workspace,  # type: ignore[attr-defined]  # set by workspaces
            name=body["name"],
            new_name=body["new_name"],
        )


def _delete_registered_model(request: HttpRequest, response: HttpResponse) -> None:
    name = _json(request.body).get("name") or request.GET.get("name")
    if name:
        registered_model_permissions_delete(
            workspace=request.workspace,  # type: ignore[attr-defined]  # set by workspaces
            name=name,
        )


# spec §9, §6.2: route (without /api/ or /ajax-api/) → what follows a successful answer; and
# what a successful create tells ``permissions.decisions`` about the caller's next requests.
AFTER_REQUEST_HOOKS: Mapping[str, Callable[[HttpRequest, HttpResponse], None]] = {
    "2.0/mlflow/experiments/create": _grant_experiment_creator,
    "2.0/mlflow/runs/create": _learn_created_run,
    "2.0/mlflow/registered-models/create": _grant_registered_model_creator,
    "2.0/mlflow/registered-models/rename": _rename_registered_model,
    "2.0/mlflow/registered-models/delete": _delete_registered_model,
}


def _route(path: str) -> str | None:
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


class AuthMiddleware:
    """Authenticates plain views and runs the after-request hooks; idle with auth off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "POST" and request.path_info.startswith(ADMIN_PREFIX):
            # An admin-site edit (users, tokens, permission rows, inlines, moves) may take a
            # permission away: remembered decisions are forgotten after every one.
            decisions_forget()
        if settings.MLFLOW_AUTH_ENABLED and 200 <= response.status_code < 300:
            route = _route(request.path_info)
            hook = AFTER_REQUEST_HOOKS.get(route) if route is not None else None
            if hook is not None and hasattr(request, "workspace"):
                hook(request, response)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not settings.MLFLOW_AUTH_ENABLED:
            return None
        path = request.path_info
        if is_public_path(path) or path.startswith(ADMIN_PREFIX):
            return None  # the admin site has its own session login
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # permissions.drf checks it with the view's declaration
        try:
            user = authorize(request, plain_view_requirement(view_func), view_kwargs)
        except MlflowError as error:
            return error_response(error)
        if user is not None:
            request.user = user
        return None
