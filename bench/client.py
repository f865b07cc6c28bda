"""A minimal keep-alive HTTP/JSON client for the benchmark (plain ``http.client``).

The MLflow client uses one ``requests`` session per process; this client sends the same
methods, paths, headers and JSON bodies with far less client-side overhead, so the time
measured is the server's. Bodies of the timed requests are encoded before the clock starts.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
USER_AGENT = "mlflow-python-client/3.17.2"
# A kept-alive connection idle for longer than this is reopened before use instead of risking
# a request on a socket the server is about to close (uvicorn closes idle ones after 5 s).
MAX_IDLE_SECONDS = 2.0
RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
# Acknowledge response segments at once (Linux TCP_QUICKACK) instead of delaying the ACK.
# The reference server (uvicorn) writes response headers and body with separate send()s and
# Nagle's algorithm on; on a kept-alive connection the body then waits for the client's
# delayed ACK (40 ms on Linux), which would swamp every small request. See bench/README.md.
QUICKACK = True
# Workspace permission the benchmark's non-admin user gets (--auth). The workload creates
# experiments, which the product's permission model (MLflow 3.10.1) allows only with MANAGE on
# the workspace (auth-workspace-permissions.md §9: READ, USE and EDIT members get 403).
AUTH_WORKSPACE_PERMISSION = "MANAGE"


class ApiError(Exception):
    """A request that did not return the expected status (the message names the call)."""


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` header value the MLflow client sends for these credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


def encode(payload: dict[str, Any]) -> bytes:
    """Encode a JSON request body the way ``requests`` does for ``json=``."""
    return json.dumps(payload).encode()


class Client:
    """One keep-alive connection to one server, optionally bound to a workspace."""

    def __init__(
        self,
        port: int,
        workspace: str | None = None,
        timeout: float = 300.0,
        auth: tuple[str, str] | None = None,
    ) -> None:
        """Prepare (lazily open) a connection to ``127.0.0.1:port``.

        ``auth``: ``(username, password)`` sent as HTTP Basic credentials on every request,
        as the MLflow client does with ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD`` set.
        """
        self.quickack = QUICKACK and hasattr(socket, "TCP_QUICKACK")
        self.port = port
        self.workspace = workspace
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0
        self.headers = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
            "Connection": "keep-alive",
        }
        if workspace is not None:
            self.headers["X-MLFLOW-WORKSPACE"] = workspace
        if auth is not None:
            self.headers["Authorization"] = basic_auth(*auth)

    def close(self) -> None:
        """Close the connection (it reopens on the next request)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """Return the connection and whether it is a reused one."""
        if self._conn is not None and time.monotonic() - self._last_used > MAX_IDLE_SECONDS:
            self.close()
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            return self._conn, False
        return self._conn, self._conn.sock is not None

    def _quickack(self, conn: http.client.HTTPConnection) -> None:
        """Ask the kernel to ACK the next segments at once (it reverts on its own)."""
        if self.quickack and conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and return ``(status, decoded body bytes)``."""
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request(method, url, body=body, headers=headers)
                self._quickack(conn)
                response = conn.getresponse()
                self._quickack(conn)
                data = response.read()
            except RETRYABLE:
                # Only a reused socket the server closed meanwhile is retried: the request
                # never reached the application.
                self.close()
                if attempt == 2 or not reused:
                    raise
                continue
            self._last_used = time.monotonic()
            if response.will_close:
                self.close()
            if response.getheader("Content-Encoding", "") == "gzip":
                data = gzip.decompress(data)
            return response.status, data
        raise AssertionError("unreachable")

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        query: dict[str, Any] | None = None,
        expect: int = 200,
    ) -> bytes:
        """Send one request; raise ``ApiError`` unless the status is ``expect``."""
        status, data = self.request(method, path, body, query)
        if status != expect:
            snippet = data[:300].decode(errors="replace").replace("\n", " ")
            raise ApiError(f"{method} {path} -> HTTP {status}: {snippet}")
        return data

    def call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        """Send a JSON request (``payload`` encoded here) and return the decoded JSON reply."""
        body = encode(payload) if payload is not None else None
        data = self.send(method, path, body, query, expect)
        try:
            decoded = json.loads(data) if data else {}
        except ValueError as exc:
            raise ApiError(f"{method} {path}: response is not JSON: {data[:200]!r}") from exc
        if not isinstance(decoded, dict):
            raise ApiError(f"{method} {path}: response is not a JSON object")
        return decoded
