"""Fixtures shared by every test: API clients, workspaces, and the hidden-500 guard."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import WorkspaceFactory
from workspaces.models import DEFAULT_WORKSPACE, Workspace
from workspaces.selectors import resolved_workspaces


class ErrorLogGuard(logging.Handler):
    """Collects ERROR records of ``config.errors``: each is a 500 a caller could have caused."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_hidden_server_errors() -> Iterator[None]:
    """Fail any test during which the server answered an unexpected INTERNAL_ERROR."""
    guard = ErrorLogGuard()
    logger = logging.getLogger("config.errors")
    logger.addHandler(guard)
    try:
        yield
    finally:
        logger.removeHandler(guard)
    if guard.records:
        details = "\n".join(guard.format(record) for record in guard.records)
        pytest.fail(f"the server logged an unexpected error:\n{details}")


class ApiClient(Client):
    """Django's test client speaking MLflow's wire format: JSON bodies and the workspace header."""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        workspace: str | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = dict(headers or {})
        if workspace is not None:
            all_headers["X-MLFLOW-WORKSPACE"] = workspace
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        if query is not None:
            if method == "GET":
                kwargs["data"] = query
            else:
                from urllib.parse import urlencode

                path = f"{path}?{urlencode(query, doseq=True)}"
        return getattr(self, method.lower())(path, **kwargs)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """No persistent connections in tests: live_server answers each request in a thread of its
    own, and a connection such a thread keeps open would block dropping the test database."""
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture
def default_workspace(db: None) -> Workspace:
    """The ``default`` workspace; a transactional test's flush removes the migration's row."""
    workspace, _ = Workspace.objects.get_or_create(
        name=DEFAULT_WORKSPACE, defaults={"description": "Default workspace for legacy resources"}
    )
    return workspace


@pytest.fixture
def admin_user(db: None, default_workspace: Workspace) -> User:
    """A superuser of the Django admin (replacing pytest-django's: ours also needs ``default``)."""
    return User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    """A browser session of ``admin_user`` in the admin."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def api(default_workspace: Workspace) -> ApiClient:
    return ApiClient()


@pytest.fixture
def team_a(db: None) -> Workspace:
    return WorkspaceFactory(name="team-a", description="Team A workspace")


@pytest.fixture
def team_b(db: None) -> Workspace:
    return WorkspaceFactory(name="team-b", description="Team B workspace")


@pytest.fixture(autouse=True)
def fresh_resolved_workspaces() -> Iterator[None]:
    """Each test starts with no remembered workspaces: a rolled-back test's rows are gone, and
    their names come back with new ids. Query-count tests measure a request made after set-up
    requests, so its workspace is remembered and costs no query, as in a running server."""
    resolved_workspaces.clear()
    yield
    resolved_workspaces.clear()


@pytest.fixture(autouse=True)
def artifact_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test's artifacts go to a fresh local folder, never to the data folder."""
    from config.settings import artifacts_storage

    root = tmp_path_factory.mktemp("mlartifacts")
    settings.MLFLOW_ARTIFACTS_DESTINATION = str(root)
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": artifacts_storage(str(root), settings.ARTIFACTS_S3_OPTIONS),
    }
    return root


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real S3 endpoint over HTTP (moto in server mode) on a free loopback port, with the
    credentials boto3 needs in the environment; yields its URL. The bucket ``artifacts``
    exists."""
    import socket

    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        # moto keeps its buckets per process, across servers: start each test empty.
        requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(
            Bucket="artifacts"
        )
        yield url
    finally:
        server.stop()


@pytest.fixture
def s3_artifact_storage(settings: Any, moto_s3: str) -> Any:
    """The artifact proxy writes to ``s3://artifacts/mlartifacts`` on moto; returns a boto3
    client to inspect the bucket. ``s3://`` run roots reach the same endpoint."""
    import boto3

    from config.settings import artifacts_storage

    settings.ARTIFACTS_S3_OPTIONS = {
        **settings.ARTIFACTS_S3_OPTIONS,
        "endpoint_url": moto_s3,
        "region_name": "us-east-1",
    }
    settings.MLFLOW_ARTIFACTS_DESTINATION = "s3://artifacts/mlartifacts"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": artifacts_storage(
            settings.MLFLOW_ARTIFACTS_DESTINATION, settings.ARTIFACTS_S3_OPTIONS
        ),
    }
    return boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
