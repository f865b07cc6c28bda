"""One error hierarchy, one code→status table, and the handlers that render MLflow's error body.

Domain code raises ``<Code>Error``; only ``STATUS_FOR_CODE`` picks the HTTP status. Every error
leaves the server as ``{"error_code", "message"[, "sqlstate", "error_class"]}`` JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from django.core.exceptions import ObjectDoesNotExist, SuspiciousOperation, ValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions as drf_exceptions

logger = logging.getLogger(__name__)


class MlflowError(Exception):
    """An error with an MLflow ``error_code``; the message is ``str(error)``."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameterValueError(MlflowError):
    error_code = "INVALID_PARAMETER_VALUE"


class BadRequestError(MlflowError):
    error_code = "BAD_REQUEST"


class ResourceAlreadyExistsError(MlflowError):
    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceDoesNotExistError(MlflowError):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class EndpointNotFoundError(MlflowError):
    error_code = "ENDPOINT_NOT_FOUND"


class MethodNotAllowedError(MlflowError):
    error_code = "METHOD_NOT_ALLOWED"


class InvalidStateError(MlflowError):
    error_code = "INVALID_STATE"


class FeatureDisabledError(MlflowError):
    error_code = "FEATURE_DISABLED"


class PermissionDeniedError(MlflowError):
    error_code = "PERMISSION_DENIED"


class UnauthenticatedError(MlflowError):
    error_code = "UNAUTHENTICATED"


class NotImplementedFeatureError(MlflowError):
    error_code = "NOT_IMPLEMENTED"


class InternalError(MlflowError):
    error_code = "INTERNAL_ERROR"


# spec: README.md §3.2. Differs from the reference where it answers a caller's mistake with a
# 5xx (the client retries those for minutes): INVALID_STATE and FEATURE_DISABLED are 400 here.
STATUS_FOR_CODE: Final[Mapping[str, int]] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 400,
    "FEATURE_DISABLED": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
}

# The informational fields MLflow adds; codes without an entry carry neither.
SQLSTATE_AND_CLASS: Final[Mapping[str, tuple[str, str]]] = {
    "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
    "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "PERMISSION_DENIED": ("KAM00", "PERMISSION_DENIED"),
    "INVALID_STATE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    "FEATURE_DISABLED": ("KAM00", "FEATURE_DISABLED"),
    "INTERNAL_ERROR": ("XXM00", "CLIENT_INTERNAL_ERROR"),
}


def error_body(error: MlflowError) -> dict[str, str]:
    """The JSON object MLflow sends for an error."""
    body = {"error_code": error.error_code, "message": error.message}
    extra = SQLSTATE_AND_CLASS.get(error.error_code)
    if extra is not None:
        body["sqlstate"], body["error_class"] = extra
    return body


def error_response(error: MlflowError) -> HttpResponse:
    """Render an MLflow error as an ``HttpResponse`` (for middleware and URL handlers)."""
    status = STATUS_FOR_CODE.get(error.error_code, 500)
    response = HttpResponse(
        json.dumps(error_body(error)), status=status, content_type="application/json"
    )
    if isinstance(error, UnauthenticatedError):
        response["WWW-Authenticate"] = 'Basic realm="mlflow"'
    return response


def as_mlflow_error(exc: BaseException) -> MlflowError:
    """Translate any exception into an ``MlflowError``; unknown ones are logged as our bug."""
    if isinstance(exc, MlflowError):
        return exc
    if isinstance(exc, ObjectDoesNotExist):
        return ResourceDoesNotExistError(str(exc) or "Resource not found")
    if isinstance(exc, ValidationError):
        return InvalidParameterValueError("; ".join(exc.messages))
    if isinstance(exc, SuspiciousOperation):
        return InvalidParameterValueError(str(exc) or "Invalid request")
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return MethodNotAllowedError("The method is not allowed for the requested URL.")
    if isinstance(exc, drf_exceptions.NotFound):
        return EndpointNotFoundError("The requested URL was not found on the server.")
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return UnauthenticatedError(str(exc.detail))
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return PermissionDeniedError(str(exc.detail))
    if isinstance(exc, drf_exceptions.ParseError | drf_exceptions.ValidationError):
        return InvalidParameterValueError(str(exc.detail))
    logger.error("Unhandled %s answered as INTERNAL_ERROR", type(exc).__name__, exc_info=exc)
    return InternalError("An internal error occurred.")


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse:
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes MLflow's error body."""
    return error_response(as_mlflow_error(exc))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown routes: 404 ``ENDPOINT_NOT_FOUND`` as JSON, which the client accepts."""
    return error_response(
        EndpointNotFoundError(f"No API endpoint at {request.path} (method {request.method}).")
    )


def handler500(request: HttpRequest) -> HttpResponse:
    """Last resort for errors outside DRF views; the traceback was logged by Django."""
    logger.error("Unhandled error answered as INTERNAL_ERROR for %s", request.path, exc_info=True)
    return error_response(InternalError("An internal error occurred."))
