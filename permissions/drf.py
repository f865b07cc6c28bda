"""The DRF authentication and permission classes every ``ApiViewSet`` uses.

With ``MLFLOW_AUTH_ENABLED`` off (the default) both do nothing and cost nothing. With it on,
the authentication class only reads the ``Authorization`` header; the permission class applies
the view's ``required_permission[action]`` through ``permissions.access.authorize``, which
resolves the user and their permissions in one query and sets ``request.user``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from permissions.access import authorize, requirement_of
from permissions.authentication import Credentials, credentials_from_header


class MlflowAuthentication(BaseAuthentication):
    """Reads HTTP Basic or bearer credentials; ``RequiredPermission`` checks them."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Credentials] | None:
        if not settings.MLFLOW_AUTH_ENABLED:
            return None
        credentials = credentials_from_header(request.META.get("HTTP_AUTHORIZATION"))
        if credentials is None:
            return None
        return AnonymousUser(), credentials

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="mlflow"'


class RequiredPermission(BasePermission):
    """Applies ``view.required_permission[view.action]`` (STYLE §9)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not settings.MLFLOW_AUTH_ENABLED:
            return True
        requirement = requirement_of(view.__class__, getattr(view, "action", None))
        user = authorize(request._request, requirement, view.kwargs)
        if user is not None:
            request.user = user
        return True
