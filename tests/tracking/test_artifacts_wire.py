"""Artifact routes over real HTTP with raw, unnormalised URLs against a live server.

Clients such as ``requests`` normalise ``..`` and some encodings before sending; an attacker
does not. Every variant below must be answered 400 INVALID_PARAMETER_VALUE with nothing read
or written anywhere. Uploads that end early must leave nothing under the final name.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from workspaces.models import Workspace

PREFIXES = ["/api", "/ajax-api"]
PROXY = "2.0/mlflow-artifacts/artifacts"
SECRET = "workspaces/team-b/5/r/artifacts/secret.txt"

# Raw path suffixes after ``.../mlflow-artifacts/artifacts/``, exactly as sent on the wire.
FILE_VARIANTS = [
    "../outside.txt",
    "a/../../outside.txt",
    "a/../../../outside.txt",
    "%2e%2e/outside.txt",
    "%2E%2E/outside.txt",
    "%252e%252e/outside.txt",
    "%25252e%25252e/outside.txt",
    "a/%2e%2e/%2e%2e/outside.txt",
    "..%2foutside.txt",
    "..%252foutside.txt",
    "%2e%2e%2f%2e%2e%2foutside.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "%252fetc%252fpasswd",
    "a%5c..%5c..%5coutside.txt",
    "a%255c..%255coutside.txt",
    "a%00.txt",
    "a%2500.txt",
    "a%0a.txt",
    "a%23b.txt",
    "a%2523b.txt",
    "C:%5cWindows%5cwin.ini",
    "./a.txt",
    "a/./b.txt",
    "a//b.txt",
    SECRET,
    SECRET.replace("/", "%2f"),
    SECRET.replace("/", "%252f"),
    f"./{SECRET}",
    f"%2e/{SECRET}",
    f"%252e/{SECRET}",
    SECRET.replace("workspaces/", "workspaces//"),
    SECRET.replace("workspaces/", "workspaces/./"),
    SECRET.replace("workspaces/", "workspaces/team-a/../"),
    SECRET.replace("workspaces/", "workspaces/default/../"),
    "workspaces",
    "workspaces/",
    "workspaces//",
]

# Raw ``path`` query values of a listing, exactly as sent on the wire.
LIST_VARIANTS = [
    "..",
    "../",
    "../..",
    "a/../..",
    "%2e%2e",
    "%252e%252e",
    "..%2f..",
    ".",
    "./",
    "/",
    "//",
    "/etc",
    "%2fetc",
    "a%5c..",
    "a%00",
    "a%23b",
    "workspaces",
    "workspaces/",
    "workspaces//",
    "workspaces%2f",
    "workspaces%252f",
    "./workspaces",
    "./workspaces/",
    "%2e/workspaces",
    "%252e/workspaces",
    "workspaces/./team-b",
    "workspaces//team-b",
    "workspaces/team-b",
    "workspaces%2fteam-b",
    "workspaces%252fteam-b",
    "./workspaces/team-b",
    "workspaces/team-a/../team-b",
]


def raw_request(
    server: Any,
    method: str,
    path: str,
    body: bytes = b"",
    workspace: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Send ``path`` byte for byte (http.client does not normalise it)."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        if workspace is not None:
            connection.putheader("X-MLFLOW-WORKSPACE", workspace)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def world(live_server: Any, default_workspace: Workspace, artifact_root: Path) -> Path:
    """team-a and team-b, a secret of team-b, a legacy file of default, a file outside the
    root; returns the folder holding the artifact root, whose snapshot must never change."""
    WorkspaceFactory(name="team-a")
    WorkspaceFactory(name="team-b")
    secret = artifact_root / SECRET
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"team-b secret")
    legacy = artifact_root / "0/r/artifacts/legacy.txt"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"legacy")
    (artifact_root.parent / "outside.txt").write_bytes(b"outside")
    (artifact_root / "a").mkdir()
    (artifact_root / "workspaces/team-a/a").mkdir(parents=True)
    return artifact_root.parent


REFUSED = (400, "INVALID_PARAMETER_VALUE")


def outcome(status: int, body: bytes) -> tuple[int, str]:
    """Status and error code; a message may never echo another workspace's secret."""
    answer = json.loads(body) if body.startswith(b"{") else {}
    assert b"team-b secret" not in body
    return status, answer.get("error_code", body.decode(errors="replace")[:80])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("workspace", ["team-a", "default"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_file_routes_refuse_traversal_over_the_wire(
    live_server: Any, world: Path, method: str, workspace: str, prefix: str
) -> None:
    before = snapshot(world)
    body = b"overwritten" if method == "PUT" else b""

    answers = {
        variant: outcome(
            *raw_request(
                live_server, method, f"{prefix}/{PROXY}/{variant}", body, workspace=workspace
            )
        )
        for variant in FILE_VARIANTS
    }

    assert answers == dict.fromkeys(FILE_VARIANTS, REFUSED)
    assert snapshot(world) == before


@pytest.mark.parametrize("workspace", ["team-a", "default"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_listing_refuses_traversal_over_the_wire(
    live_server: Any, world: Path, workspace: str, prefix: str
) -> None:
    bodies = {
        variant: raw_request(
            live_server, "GET", f"{prefix}/{PROXY}?path={variant}", workspace=workspace
        )
        for variant in LIST_VARIANTS
    }

    assert {variant: outcome(*answer) for variant, answer in bodies.items()} == dict.fromkeys(
        LIST_VARIANTS, REFUSED
    )
    # only the refusal of an explicit workspaces/team-b/... path may name team-b
    named = [v for v, (_, body) in bodies.items() if b"team-b" in body]
    assert all(b"targets workspace 'team-b'" in bodies[v][1] for v in named)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_default_root_listing_over_the_wire_names_no_workspace(
    live_server: Any, world: Path, prefix: str
) -> None:
    status, answer = raw_request(live_server, "GET", f"{prefix}/{PROXY}", workspace="default")

    assert status == 200
    assert json.loads(answer) == {
        "files": [{"path": "0", "is_dir": True}, {"path": "a", "is_dir": True}]
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_default_reads_its_legacy_files_over_the_wire(
    live_server: Any, world: Path, prefix: str
) -> None:
    status, answer = raw_request(
        live_server, "GET", f"{prefix}/{PROXY}/0/r/artifacts/legacy.txt", workspace="default"
    )

    assert (status, answer) == (200, b"legacy")


@pytest.fixture
def runs(world: Path) -> dict[str, Any]:
    """A run in team-a and one in team-b whose URI points at the secret's folder."""
    team_a = Workspace.objects.get(name="team-a")
    team_b = Workspace.objects.get(name="team-b")
    own = RunFactory(
        experiment=ExperimentFactory(
            workspace=team_a, artifact_location="mlflow-artifacts:/workspaces/team-a/5"
        )
    )
    other = RunFactory(
        run_uuid="r",
        experiment=ExperimentFactory(
            workspace=team_b, artifact_location="mlflow-artifacts:/workspaces/team-b/5"
        ),
    )
    return {"own": own.run_uuid, "other": other.run_uuid}


RUN_PATH_VARIANTS = [
    "..",
    "../..%2f..%2foutside.txt",
    "..%2f..%2f..%2f..%2foutside.txt",
    "%2e%2e%2f%2e%2e%2foutside.txt",
    "%252e%252e%252foutside.txt",
    "%2fetc%2fpasswd",
    "a%5c..%5coutside.txt",
    "a%00",
    "a%23b",
    ".%2fsecret.txt",
]


@pytest.mark.parametrize(
    "route",
    [
        "/api/2.0/mlflow/artifacts/list?run_id={run}&path={path}",
        "/ajax-api/2.0/mlflow/artifacts/list?run_id={run}&path={path}",
        "/get-artifact?run_id={run}&path={path}",
    ],
)
def test_run_routes_refuse_traversal_over_the_wire(
    live_server: Any, world: Path, runs: dict[str, Any], route: str
) -> None:
    before = snapshot(world)

    answers = {
        variant: outcome(
            *raw_request(
                live_server, "GET", route.format(run=runs["own"], path=variant), workspace="team-a"
            )
        )
        for variant in RUN_PATH_VARIANTS
    }

    assert answers == dict.fromkeys(RUN_PATH_VARIANTS, REFUSED)
    assert snapshot(world) == before


def test_ui_upload_refuses_traversal_over_the_wire(
    live_server: Any, world: Path, runs: dict[str, Any]
) -> None:
    before = snapshot(world)

    answers = {
        variant: outcome(
            *raw_request(
                live_server,
                "POST",
                f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={runs['own']}&path={variant}",
                b"overwritten",
                workspace="team-a",
            )
        )
        for variant in RUN_PATH_VARIANTS
    }

    assert answers == dict.fromkeys(RUN_PATH_VARIANTS, REFUSED)
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "route",
    [
        "/api/2.0/mlflow/artifacts/list?run_id={run}",
        "/ajax-api/2.0/mlflow/artifacts/list?run_id={run}",
        "/get-artifact?run_id={run}&path=secret.txt",
    ],
)
def test_run_routes_of_another_workspace_are_not_found_over_the_wire(
    live_server: Any, world: Path, runs: dict[str, Any], route: str
) -> None:
    status, answer = raw_request(
        live_server, "GET", route.format(run=runs["other"]), workspace="team-a"
    )

    assert status == 404
    assert json.loads(answer)["message"] == "Run with id=r not found"


# --- uploads that end early -------------------------------------------------------------------


def open_upload(server: Any, path: str, length: int, workspace: str = "team-a") -> socket.socket:
    """Start a PUT announcing ``length`` bytes and send only the headers."""
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=20)
    sock.sendall(
        (
            f"PUT /api/{PROXY}/{path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"X-MLFLOW-WORKSPACE: {workspace}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    return sock


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def partials(folder: Path) -> list[str]:
    return [path.name for path in folder.glob(".upload-*.part")] if folder.exists() else []


def test_interrupted_upload_leaves_no_file_under_its_final_name(
    live_server: Any, world: Path, artifact_root: Path
) -> None:
    folder = artifact_root / "workspaces/team-a/big"
    sock = open_upload(live_server, "big/model.bin", 20 * 1024 * 1024)  # written by a thread
    sock.sendall(b"x" * 5_000_000)
    assert wait_for(lambda: bool(partials(folder)))

    sock.close()

    assert wait_for(lambda: folder.exists() and not partials(folder))
    assert not (folder / "model.bin").exists()
    assert list(folder.iterdir()) == []


def test_upload_in_flight_is_invisible_until_complete(
    live_server: Any, world: Path, artifact_root: Path
) -> None:
    folder = artifact_root / "workspaces/team-a/big"
    data = bytes(range(256)) * 8192 * 3  # 6 MiB: received and written by two threads
    sock = open_upload(live_server, "big/model.bin", len(data))
    sock.sendall(data[:1_000_000])
    assert wait_for(lambda: bool(partials(folder)))

    during_status, during = raw_request(
        live_server, "GET", f"/api/{PROXY}?path=big", workspace="team-a"
    )
    missing_status, _ = raw_request(
        live_server, "GET", f"/api/{PROXY}/big/model.bin", workspace="team-a"
    )
    sock.sendall(data[1_000_000:])
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()

    assert (during_status, json.loads(during)) == (200, {})
    assert missing_status == 404
    assert reply.startswith(b"HTTP/1.1 200")
    assert (folder / "model.bin").read_bytes() == data
    assert partials(folder) == []


def test_small_interrupted_upload_leaves_nothing_either(
    live_server: Any, world: Path, artifact_root: Path
) -> None:
    folder = artifact_root / "workspaces/team-a/small"
    sock = open_upload(live_server, "small/notes.txt", 1000)  # written by the request thread
    sock.sendall(b"z" * 10)
    assert wait_for(lambda: bool(partials(folder)))

    sock.close()

    assert wait_for(lambda: folder.exists() and not partials(folder))
    assert list(folder.iterdir()) == []


def test_interrupted_overwrite_keeps_the_previous_file(
    live_server: Any, world: Path, artifact_root: Path
) -> None:
    target = artifact_root / "workspaces/team-a/big/model.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"previous complete version")
    sock = open_upload(live_server, "big/model.bin", 1024 * 1024)
    sock.sendall(b"y" * 1000)
    assert wait_for(lambda: bool(partials(target.parent)))

    sock.close()

    assert wait_for(lambda: not partials(target.parent))
    assert target.read_bytes() == b"previous complete version"
