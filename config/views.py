"""Plain-text routes outside the REST surface: /health and /version."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """``OK`` when the database answers; 503 otherwise, so a load balancer drops this process."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


@require_GET
def version(request: HttpRequest) -> HttpResponse:
    """The MLflow version this server speaks for."""
    return HttpResponse(settings.MLFLOW_VERSION, content_type="text/plain; charset=utf-8")
