"""Resolving X-MLFLOW-WORKSPACE, server-info, /health, /version. spec: workspaces.md §3, §8."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient
from workspaces.models import Workspace

SERVER_INFO = "/api/3.0/mlflow/server-info"


def test_server_info_ignores_an_unknown_workspace_header(api: ApiClient) -> None:
    response = api.call("GET", SERVER_INFO, workspace="does-not-exist")

    assert response.status_code == 200
    assert response.json() == {
        "store_type": "SqlStore",
        "workspaces_enabled": True,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": True,
        "presigned_upload_model_id_supported": True,
        "features_enabled": {"gateway": False},
    }


def test_server_info_under_ajax_api(api: ApiClient) -> None:
    response = api.call("GET", "/ajax-api/3.0/mlflow/server-info")

    assert response.status_code == 200
    assert response.json()["workspaces_enabled"] is True


def test_server_info_reports_workspaces_off(api: ApiClient, settings: object) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False  # type: ignore[attr-defined]

    response = api.call("GET", SERVER_INFO, workspace="team-a")

    assert response.json()["workspaces_enabled"] is False


def test_server_features_is_not_served(api: ApiClient) -> None:
    response = api.call("GET", "/api/3.0/mlflow/server-features")

    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize("header", [None, "", "  ", "default"])
def test_missing_empty_or_default_header_means_default(api: ApiClient, header: str | None) -> None:
    response = api.call("GET", "/api/3.0/mlflow/workspaces/default", workspace=header)

    assert response.status_code == 200


def test_unknown_workspace_header_is_404(api: ApiClient) -> None:
    response = api.call("GET", "/api/2.0/mlflow/experiments/search", workspace="does-not-exist")

    assert response.status_code == 404
    assert response.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "Workspace 'does-not-exist' not found",
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }


@pytest.mark.parametrize("header", ["Bad_Name", "a", "api", "a--b"])
def test_invalid_workspace_header_is_400(api: ApiClient, header: str) -> None:
    response = api.call("GET", "/api/2.0/mlflow/experiments/search", workspace=header)

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_header_is_trimmed(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", "/api/3.0/mlflow/workspaces", workspace="  team-a  ")

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["team-a", "default"])
def test_workspace_header_without_workspaces_is_feature_disabled_4xx(
    api: ApiClient, settings: object, header: str
) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False  # type: ignore[attr-defined]

    response = api.call("GET", "/api/2.0/mlflow/experiments/get", workspace=header)

    # differs from reference: 500 there, which the client would retry for minutes.
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "FEATURE_DISABLED",
        "message": "Workspace APIs are not available: workspaces are not enabled on this server",
        "sqlstate": "KAM00",
        "error_class": "FEATURE_DISABLED",
    }


def test_health_is_plain_ok(api: ApiClient) -> None:
    response = api.call("GET", "/health", workspace="does-not-exist")

    assert (response.status_code, response.content) == (200, b"OK")
    assert response["Content-Type"].startswith("text/plain")


def test_version_is_the_mlflow_version(api: ApiClient) -> None:
    response = api.call("GET", "/version")

    assert (response.status_code, response.content) == (200, b"3.17.2")
