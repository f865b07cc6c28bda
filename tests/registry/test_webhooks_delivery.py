"""Webhook deliveries end to end: registry events and the test endpoint POST to a real HTTPS
listener on 127.0.0.1, signed, retried with backoff, and never in the way of the request that
caused them. spec: registry.md §7; delivery format as MLflow 3.17.

The listener serves TLS with a certificate made here for 127.0.0.1; the server trusts it through
``MLFLOW_WEBHOOK_CA_BUNDLE``, so deliveries take the production path (https only, certificate
and host verified) and only private targets are allowed for the test. The listener binds one of
this suite's ports, 5151-5159, and nothing else is ever contacted.

These tests commit (the worker thread reads what the request wrote). On SQLite every connection,
the worker's included, uses a file copy of the test database: the suite's in-memory database
shares one cache between connections, where concurrent access fails at once ("database table is
locked") instead of waiting as the file database the server runs on does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connections
from django.utils import timezone

from registry.models import WebhookDelivery
from registry.services.webhook_deliveries import delivery_worker
from tests.conftest import ApiClient
from tests.registry.conftest import (
    MODELS,
    VERSIONS,
    artifacts_source,
    create_model,
    create_version,
    ok,
)
from tests.sqlite_files import sqlite_file_copy
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

HOOKS = "/api/2.0/mlflow/webhooks"
PORTS = range(5151, 5160)
SECRET = "s3cr3t"
PROMPT_TAG = {"key": "mlflow.prompt.is_prompt", "value": "true"}


# --- A TLS listener on 127.0.0.1 -----------------------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("webhook-tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One POST the listener got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Listener:
    """Records every POST; answers with the queued statuses (then 200), after ``delay``."""

    url: str
    statuses: deque[int] = field(default_factory=deque)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, waiting up to ``timeout`` seconds for them."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), (
                f"expected {count} deliveries, got {len(self.received)}"
            )
            return list(self.received[:count])


@pytest.fixture
def listener(certificate: tuple[Path, Path]) -> Iterator[Listener]:
    """An HTTPS listener on the first free port of 5151-5159."""
    state: Listener | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  # http.server's naming
            assert state is not None
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.changed:
                state.received.append(
                    Received(self.path, dict(self.headers.items()), body, time.monotonic())
                )
                state.changed.notify_all()
                status = state.statuses.popleft() if state.statuses else 200
            if state.delay:
                state.release.wait(state.delay)
            reply = f"status {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # base signature
            return

    server: ThreadingHTTPServer | None = None
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    assert server is not None, "no free port in 5151-5159"
    server.daemon_threads = True
    server.block_on_close = False
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state = Listener(url=f"https://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- The database every thread shares, and the worker --------------------------------------------


@pytest.fixture
def shared_database(
    tmp_path: Path, default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> Iterator[None]:
    """On SQLite: every connection of this test, in any thread, uses a file copy of the test
    database (taken after the workspaces exist). Other databases need nothing."""
    path = sqlite_file_copy(tmp_path / "shared.sqlite3")
    if path is None:
        yield
        return
    original_settings = connections.settings["default"]
    original_connection = connections["default"]
    connections.settings["default"] = {**original_settings, "NAME": path}
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = original_connection
        connections.settings["default"] = original_settings


@pytest.fixture
def worker(settings: Any, certificate: tuple[Path, Path], shared_database: None) -> Iterator[None]:
    """Loopback targets allowed, the listener's certificate trusted, fast retries; the worker is
    stopped (and its connections closed) when the test ends."""
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = True
    settings.MLFLOW_WEBHOOK_CA_BUNDLE = str(certificate[0])
    settings.MLFLOW_WEBHOOK_REQUEST_TIMEOUT = 5
    settings.MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES = 3
    settings.MLFLOW_WEBHOOK_RETRY_BACKOFF_MS = 100
    settings.MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS = 1000
    settings.MLFLOW_WEBHOOK_POLL_SECONDS = 1
    try:
        yield
    finally:
        delivery_worker().stop()


def create_hook(
    api: ApiClient,
    url: str,
    events: list[tuple[str, str]],
    workspace: str = "team-a",
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "name": "hook",
        "url": url,
        "events": [{"entity": entity, "action": action} for entity, action in events],
        **fields,
    }
    webhook: dict[str, Any] = ok(api.call("POST", HOOKS, body, workspace=workspace))["webhook"]
    return webhook


def verify_signature(received: Received, secret: str) -> None:
    """The receiver's check: v1,base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>"))."""
    delivery_id = received.headers["X-MLflow-Delivery-Id"]
    timestamp = received.headers["X-MLflow-Timestamp"]
    signed = f"{delivery_id}.{timestamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    assert received.headers["X-MLflow-Signature"] == "v1," + expected.decode()
    assert abs(int(timestamp) - time.time()) < 60


def outbox_drained(timeout: float = 10.0) -> bool:
    """Whether every queued delivery is gone (delivered or given up) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not WebhookDelivery.objects.exists():
            return True
        time.sleep(0.05)
    return False


# --- Real registry events ------------------------------------------------------------------------


def test_model_version_created_is_delivered_signed(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")], secret=SECRET)
    create_model(api, "iris-clf")

    version = create_version(
        api,
        "iris-clf",
        artifacts_source("team-a"),
        tags=[{"key": "k", "value": "v"}],
        description="first",
    )

    [received] = listener.wait_for(1)
    verify_signature(received, SECRET)
    payload = received.json()
    assert list(payload) == ["entity", "action", "timestamp", "data", "workspace"]
    assert datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    assert payload | {"timestamp": "t"} == {
        "entity": "model_version",
        "action": "created",
        "timestamp": "t",
        "data": {
            "name": "iris-clf",
            "version": version["version"],
            "source": artifacts_source("team-a"),
            "run_id": None,
            "tags": {"k": "v"},
            "description": "first",
        },
        "workspace": "team-a",
    }
    assert received.path == "/hook"
    assert received.headers["Content-Type"] == "application/json"
    assert len(received.headers["X-MLflow-Delivery-Id"]) == 36
    assert outbox_drained()


def test_without_a_secret_deliveries_are_unsigned(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")])

    create_model(api, "iris-clf", tags=[{"key": "team", "value": "a"}])

    [received] = listener.wait_for(1)
    assert "X-MLflow-Signature" not in received.headers
    assert received.json()["data"] == {
        "name": "iris-clf",
        "tags": {"team": "a"},
        "description": "",
    }


def test_every_registry_event_reaches_its_subscriber(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    every_event = [
        ("REGISTERED_MODEL", "CREATED"),
        ("MODEL_VERSION", "CREATED"),
        ("MODEL_VERSION_TAG", "SET"),
        ("MODEL_VERSION_TAG", "DELETED"),
        ("MODEL_VERSION_ALIAS", "CREATED"),
        ("MODEL_VERSION_ALIAS", "DELETED"),
        ("PROMPT", "CREATED"),
        ("PROMPT_VERSION", "CREATED"),
        ("PROMPT_TAG", "SET"),
        ("PROMPT_TAG", "DELETED"),
        ("PROMPT_VERSION_TAG", "SET"),
        ("PROMPT_VERSION_TAG", "DELETED"),
        ("PROMPT_ALIAS", "CREATED"),
        ("PROMPT_ALIAS", "DELETED"),
    ]
    create_hook(api, listener.url, every_event, secret=SECRET)

    def call(method: str, path: str, body: dict[str, Any]) -> None:
        ok(api.call(method, path, body, workspace="team-a"))

    create_model(api, "clf", description="a model")
    create_version(api, "clf", artifacts_source("team-a"))
    call("POST", f"{VERSIONS}/set-tag", {"name": "clf", "version": "1", "key": "k", "value": "v"})
    call("DELETE", f"{VERSIONS}/delete-tag", {"name": "clf", "version": "1", "key": "k"})
    call("POST", f"{MODELS}/alias", {"name": "clf", "alias": "champ", "version": "1"})
    call("DELETE", f"{MODELS}/alias", {"name": "clf", "alias": "champ"})
    call("POST", f"{MODELS}/set-tag", {"name": "clf", "key": "ignored", "value": "models"})
    create_model(
        api,
        "greet",
        tags=[
            PROMPT_TAG,
            {"key": "_mlflow_prompt_type", "value": "text"},
            {"key": "a", "value": "b"},
        ],
    )
    create_version(
        api,
        "greet",
        "dummy-source",
        tags=[
            PROMPT_TAG,
            {"key": "mlflow.prompt.text", "value": "Hello {{name}}!"},
            {"key": "x", "value": "y"},
        ],
    )
    call("POST", f"{MODELS}/set-tag", {"name": "greet", "key": "k", "value": "v"})
    call("DELETE", f"{MODELS}/delete-tag", {"name": "greet", "key": "k"})
    call("POST", f"{VERSIONS}/set-tag", {"name": "greet", "version": "1", "key": "k", "value": "v"})
    call("DELETE", f"{VERSIONS}/delete-tag", {"name": "greet", "version": "1", "key": "k"})
    call("POST", f"{MODELS}/alias", {"name": "greet", "alias": "prod", "version": "1"})
    call("DELETE", f"{MODELS}/alias", {"name": "greet", "alias": "prod"})

    received = listener.wait_for(14)
    for request in received:
        verify_signature(request, SECRET)
    got = {(r.json()["entity"], r.json()["action"]): r.json()["data"] for r in received}
    assert got == {
        ("registered_model", "created"): {"name": "clf", "tags": {}, "description": "a model"},
        ("model_version", "created"): {
            "name": "clf",
            "version": "1",
            "source": artifacts_source("team-a"),
            "run_id": None,
            "tags": {},
            "description": None,
        },
        ("model_version_tag", "set"): {"name": "clf", "version": "1", "key": "k", "value": "v"},
        ("model_version_tag", "deleted"): {"name": "clf", "version": "1", "key": "k"},
        ("model_version_alias", "created"): {"name": "clf", "alias": "champ", "version": "1"},
        ("model_version_alias", "deleted"): {"name": "clf", "alias": "champ"},
        ("prompt", "created"): {"name": "greet", "tags": {"a": "b"}, "description": ""},
        ("prompt_version", "created"): {
            "name": "greet",
            "version": "1",
            "template": "Hello {{name}}!",
            "tags": {"x": "y"},
            "description": None,
        },
        ("prompt_tag", "set"): {"name": "greet", "key": "k", "value": "v"},
        ("prompt_tag", "deleted"): {"name": "greet", "key": "k"},
        ("prompt_version_tag", "set"): {"name": "greet", "version": "1", "key": "k", "value": "v"},
        ("prompt_version_tag", "deleted"): {"name": "greet", "version": "1", "key": "k"},
        ("prompt_alias", "created"): {"name": "greet", "alias": "prod", "version": "1"},
        ("prompt_alias", "deleted"): {"name": "greet", "alias": "prod"},
    }
    assert outbox_drained()
    assert len(listener.received) == 14  # the model's set-tag has no event


def test_only_active_subscribers_of_the_workspace_receive_the_event(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")], name="subscribed")
    create_hook(api, listener.url, [("PROMPT_VERSION", "CREATED")], name="prompts-only")
    create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")], name="off", status="DISABLED")
    create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")], workspace="team-b")
    create_model(api, "iris-clf")

    create_version(api, "iris-clf", artifacts_source("team-a"))
    create_model(api, "iris-clf", workspace="team-b")  # team-b's hook wants versions only

    [received] = listener.wait_for(1)
    assert (received.json()["entity"], received.json()["workspace"]) == ("model_version", "team-a")
    assert outbox_drained()
    time.sleep(0.3)
    assert len(listener.received) == 1


def test_a_refused_write_notifies_nobody(api: ApiClient, worker: None, listener: Listener) -> None:
    create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")])
    create_model(api, "iris-clf")

    response = api.call(
        "POST",
        f"{VERSIONS}/create",
        {"name": "iris-clf", "source": "s3://b/../x"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()
    assert listener.received == []


# --- Retries, failures and the request that caused the event -------------------------------------


def test_failed_deliveries_are_retried_with_backoff(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    listener.statuses.extend([503, 500])
    create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")], secret=SECRET)

    create_model(api, "iris-clf")

    first, second, third = listener.wait_for(3)
    assert {r.headers["X-MLflow-Delivery-Id"] for r in (first, second, third)} == {
        first.headers["X-MLflow-Delivery-Id"]
    }
    assert first.body == second.body == third.body
    for request in (first, second, third):
        verify_signature(request, SECRET)
    assert second.at - first.at >= 0.1  # backoff 100 ms, then doubled
    assert third.at - second.at >= 0.2
    assert outbox_drained()
    time.sleep(0.3)
    assert len(listener.received) == 3


def test_delivery_is_given_up_after_the_configured_retries(
    api: ApiClient, worker: None, listener: Listener, settings: Any
) -> None:
    settings.MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES = 2
    listener.statuses.extend([500] * 10)
    create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")])

    create_model(api, "iris-clf")

    listener.wait_for(3)
    assert outbox_drained()
    time.sleep(0.5)
    assert len(listener.received) == 3


def test_a_client_error_is_not_retried(api: ApiClient, worker: None, listener: Listener) -> None:
    listener.statuses.append(410)
    create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")])

    create_model(api, "iris-clf")

    listener.wait_for(1)
    assert outbox_drained()
    time.sleep(0.3)
    assert len(listener.received) == 1


def test_a_hanging_target_does_not_slow_the_request(
    api: ApiClient, worker: None, listener: Listener, settings: Any
) -> None:
    settings.MLFLOW_WEBHOOK_REQUEST_TIMEOUT = 1
    listener.delay = 30  # answers only after the server has given up waiting
    create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")])

    started = time.monotonic()
    create_model(api, "iris-clf")
    elapsed = time.monotonic() - started

    assert elapsed < 0.5
    listener.wait_for(2, timeout=10)  # the worker timed out and tried again, in the background


def test_an_unreachable_target_does_not_slow_the_request(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    listener_port = int(listener.url.split(":")[2].split("/")[0])
    closed = next(port for port in PORTS if port != listener_port and port_is_free(port))
    create_hook(api, f"https://127.0.0.1:{closed}/hook", [("REGISTERED_MODEL", "CREATED")])

    started = time.monotonic()
    create_model(api, "iris-clf")
    elapsed = time.monotonic() - started

    assert elapsed < 0.5
    assert outbox_drained()  # refused four times (1 + 3 retries), then given up


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_delivery_left_by_a_stopped_process_is_sent_after_its_lease(
    api: ApiClient, worker: None, listener: Listener, team_a: Workspace
) -> None:
    webhook = create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")], secret=SECRET)
    now = timezone.now()
    WebhookDelivery.objects.create(
        delivery_id="0b0e3c58-3d5e-4d8e-9a53-1d1a9f1f0c11",
        webhook_id=webhook["webhook_id"],
        workspace_name="team-a",
        entity="registered_model",
        action="created",
        body='{"entity": "registered_model"}',
        attempts=1,
        claim_token="claimed-by-a-dead-process",
        next_attempt_at=now - timedelta(seconds=1),  # its lease has run out
        created_at=now - timedelta(minutes=5),
    )

    delivery_worker().wake()  # as the next event or poll of any process would

    [received] = listener.wait_for(1)
    assert received.headers["X-MLflow-Delivery-Id"] == "0b0e3c58-3d5e-4d8e-9a53-1d1a9f1f0c11"
    assert received.body == b'{"entity": "registered_model"}'
    verify_signature(received, SECRET)
    assert outbox_drained()


def test_deleting_a_webhook_drops_its_pending_deliveries(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    listener.statuses.extend([503] * 10)
    webhook = create_hook(api, listener.url, [("REGISTERED_MODEL", "CREATED")])
    create_model(api, "iris-clf")
    listener.wait_for(1)

    ok(api.call("DELETE", f"{HOOKS}/{webhook['webhook_id']}", workspace="team-a"))

    assert not WebhookDelivery.objects.exists()


# --- The test endpoint ---------------------------------------------------------------------------


def test_test_endpoint_sends_the_example_payload_of_the_first_event(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    webhook = create_hook(
        api,
        listener.url,
        [("PROMPT_ALIAS", "CREATED"), ("MODEL_VERSION", "CREATED")],
        secret=SECRET,
    )

    response = api.call("POST", f"{HOOKS}/{webhook['webhook_id']}/test", {}, workspace="team-a")

    assert ok(response) == {
        "result": {"success": True, "response_status": 200, "response_body": "status 200"}
    }
    [received] = listener.wait_for(1)
    verify_signature(received, SECRET)
    assert received.json() | {"timestamp": "t"} == {
        "entity": "prompt_alias",
        "action": "created",
        "timestamp": "t",
        "data": {"name": "example_prompt", "alias": "example_alias", "version": "1"},
        "workspace": "team-a",
    }
    assert not WebhookDelivery.objects.exists()


def test_test_endpoint_sends_the_requested_event_even_to_a_disabled_webhook(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    webhook = create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")], status="DISABLED")

    response = api.call(
        "POST",
        f"{HOOKS}/{webhook['webhook_id']}/test",
        {"event": {"entity": "REGISTERED_MODEL", "action": "CREATED"}},
        workspace="team-a",
    )

    assert ok(response)["result"]["success"] is True
    [received] = listener.wait_for(1)
    assert "X-MLflow-Signature" not in received.headers
    assert received.json()["data"] == {
        "name": "example_model",
        "tags": {"example_key": "example_value"},
        "description": "An example registered model",
    }


def test_test_endpoint_reports_a_failing_target(
    api: ApiClient, worker: None, listener: Listener
) -> None:
    listener.statuses.append(500)
    webhook = create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")])

    response = api.call("POST", f"{HOOKS}/{webhook['webhook_id']}/test", {}, workspace="team-a")

    assert ok(response) == {
        "result": {"success": False, "response_status": 500, "response_body": "status 500"}
    }
    assert len(listener.received) == 1  # no retries while the caller waits


def test_test_endpoint_refuses_an_untrusted_certificate(
    api: ApiClient, worker: None, listener: Listener, settings: Any
) -> None:
    settings.MLFLOW_WEBHOOK_CA_BUNDLE = ""  # the system store does not know the listener's CA
    webhook = create_hook(api, listener.url, [("MODEL_VERSION", "CREATED")])

    response = api.call("POST", f"{HOOKS}/{webhook['webhook_id']}/test", {}, workspace="team-a")

    result = ok(response)["result"]
    assert result["success"] is False
    assert "CERTIFICATE_VERIFY_FAILED" in result["error_message"]
    assert listener.received == []
