"""Every error leaves as MLflow's JSON body with a 4xx: routes, methods, bodies, types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.test import Client

from config.errors import STATUS_FOR_CODE, MlflowError
from tests.conftest import ApiClient


def test_unknown_route_is_endpoint_not_found_json(api: ApiClient) -> None:
    response = api.call("GET", "/api/2.0/mlflow/does-not-exist")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_trailing_slash_is_not_found_and_never_redirected(api: ApiClient) -> None:
    response = api.call("GET", "/api/3.0/mlflow/workspaces/")

    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_wrong_method_is_405_json(api: ApiClient) -> None:
    response = api.call("PUT", "/api/3.0/mlflow/workspaces", {"name": "x"})

    assert response.status_code == 405
    assert response.json() == {
        "error_code": "METHOD_NOT_ALLOWED",
        "message": "The method is not allowed for the requested URL.",
    }


def test_post_without_content_type_is_400(api: ApiClient) -> None:
    response = api.post("/api/3.0/mlflow/workspaces", data=b'{"name": "team-z"}', content_type="")

    assert response.status_code == 400
    assert response.json()["message"] == "Bad Request. Content-Type header is missing."


def test_post_with_other_content_type_is_400(api: ApiClient) -> None:
    response = api.post(
        "/api/3.0/mlflow/workspaces", data=b'{"name": "team-z"}', content_type="text/plain"
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Bad Request. Content-Type must be one of ['application/json']."
    )


def test_content_type_parameters_are_allowed(api: ApiClient) -> None:
    response = api.post(
        "/api/3.0/mlflow/workspaces",
        data=b'{"name": "team-z"}',
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 201


def test_malformed_json_counts_as_an_empty_body(api: ApiClient) -> None:
    response = api.post(
        "/api/3.0/mlflow/workspaces", data=b"{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing value for required parameter 'name'.")


@pytest.mark.parametrize("body", [b"[1, 2]", b"42", b'"just text"', b"\xff\xfe"])
def test_non_object_bodies_count_as_empty(api: ApiClient, body: bytes) -> None:
    response = api.post("/api/3.0/mlflow/workspaces", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_double_encoded_json_is_decoded_twice(api: ApiClient) -> None:
    response = api.post(
        "/api/3.0/mlflow/workspaces",
        data=b'"{\\"name\\": \\"team-q\\"}"',
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json() == {"workspace": {"name": "team-q"}}


def test_unknown_fields_are_ignored(api: ApiClient) -> None:
    response = api.call("POST", "/api/3.0/mlflow/workspaces", {"name": "team-u", "bogus": 5})

    assert response.status_code == 201


def test_accept_header_never_refuses_a_request(api: ApiClient) -> None:
    response = api.call("GET", "/api/3.0/mlflow/workspaces", headers={"Accept": "text/csv"})

    assert response.status_code == 200


def test_every_status_in_the_table_for_a_caller_error_is_4xx() -> None:
    caller_codes = set(STATUS_FOR_CODE) - {"INTERNAL_ERROR", "NOT_IMPLEMENTED"}

    assert all(400 <= STATUS_FOR_CODE[code] < 500 for code in caller_codes)


def test_every_error_class_has_a_status() -> None:
    classes = MlflowError.__subclasses__()

    assert {cls.error_code for cls in classes} <= set(STATUS_FOR_CODE)


def test_admin_login_page_renders(client: Client, db: None) -> None:
    response = client.get("/admin/login/")

    assert response.status_code == 200


def test_no_api_view_defines_a_handler_named_like_an_http_method() -> None:
    from django.urls import get_resolver

    from workspaces.api import HTTP_METHOD_NAMES, ApiViewSet

    def views(patterns: Sequence[Any]) -> set[type]:
        found: set[type] = set()
        for entry in patterns:
            if hasattr(entry, "url_patterns"):
                found |= views(entry.url_patterns)
            elif isinstance(getattr(entry.callback, "cls", None), type):
                found.add(entry.callback.cls)
        return found

    api_views = {
        view for view in views(get_resolver().url_patterns) if issubclass(view, ApiViewSet)
    }

    clashing = {
        view.__name__: sorted(name for name in HTTP_METHOD_NAMES if name in vars(view))
        for view in api_views
        if HTTP_METHOD_NAMES & set(vars(view))
    }

    assert api_views
    assert clashing == {}


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT"])
def test_a_method_another_route_of_the_view_accepts_is_still_405(
    api: ApiClient, method: str
) -> None:
    response = api.call(method, "/api/3.0/mlflow/workspaces", {})

    assert response.status_code == 405
