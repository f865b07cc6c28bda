"""Several app processes sharing one PostgreSQL database, used like behind a load balancer.

Two gunicorn servers (A with two workers, B with one) run on their own database, migrated by
``manage.py db_upgrade`` in a subprocess and dropped afterwards. One scenario alternates
between them: whatever one process writes, the other sees on its next request, because the
processes keep no per-process state about workspaces (the middleware reads the workspace per
request). A PostgreSQL scenario: skipped on other databases, never when PostgreSQL is down.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_CACHE_SECONDS = 1  # the servers remember workspaces this long
PORTS = range(5131, 5140)  # this suite's ports on a shared machine
STARTUP_SECONDS = 60

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="a PostgreSQL scenario: several processes on one shared database server",
)


@dataclass
class Answer:
    status: int
    body: Any
    raw: bytes


@dataclass
class Server:
    """One gunicorn server of ours, reached over loopback HTTP."""

    port: int
    process: subprocess.Popen[bytes]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        workspace: str | None = None,
        data: bytes | None = None,
    ) -> Answer:
        headers = {"X-MLFLOW-WORKSPACE": workspace} if workspace else {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        finally:
            connection.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Answer(status, parsed, raw)


def _free_ports(count: int) -> list[int]:
    free = []
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                free.append(port)
        if len(free) == count:
            return free
    raise RuntimeError(f"fewer than {count} free ports in {PORTS}")


def _admin_connection() -> Any:
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """A dedicated PostgreSQL database for the servers; its URL. Unreachable PostgreSQL is an
    error, not a skip."""
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_mp"
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = (
        f"postgresql://{db.get('USER') or 'postgres'}{password}@"
        f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
    )
    try:
        yield url
    finally:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server_env(shared_database: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment every process of the scenario shares: database, artifacts, key."""
    folder = tmp_path_factory.mktemp("multiprocess")
    env = {
        **os.environ,
        "DATABASE_URL": shared_database,
        "MLFLOW_DATA_DIR": str(folder / "data"),
        "MLFLOW_ARTIFACTS_DESTINATION": str(folder / "artifacts"),
        "SECRET_KEY": "multiprocess-test-key-" + "x" * 40,
        "MLFLOW_AUTH_ENABLED": "false",
        "MLFLOW_REQUEST_LOG_LEVEL": "WARNING",
        "MLFLOW_HOST": "127.0.0.1",
        "MLFLOW_WORKSPACE_CACHE_SECONDS": str(WORKSPACE_CACHE_SECONDS),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@pytest.fixture(scope="module")
def servers(server_env: dict[str, str]) -> Iterator[tuple[Server, Server]]:
    """Servers A (two workers, Prometheus multiprocess mode) and B (one worker), one database,
    one artifact folder, one SECRET_KEY; the database migrated by ``db_upgrade`` first."""
    base_env = server_env
    folder = Path(server_env["MLFLOW_DATA_DIR"]).parent
    upgrade = subprocess.run(
        [sys.executable, "manage.py", "db_upgrade"],
        cwd=PROJECT_ROOT,
        env=base_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    started: list[Server] = []
    logs: list[Any] = []
    try:
        for port, workers in zip(_free_ports(2), (2, 1), strict=True):
            env = {**base_env, "MLFLOW_PORT": str(port), "MLFLOW_WORKERS": str(workers)}
            if workers > 1:
                metrics_dir = folder / f"prometheus-{port}"
                metrics_dir.mkdir()
                env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            log = (folder / f"server-{port}.log").open("wb")
            logs.append(log)
            process = subprocess.Popen(
                [gunicorn, "-c", "config/gunicorn.py"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append(Server(port, process))
        for server in started:
            _wait_healthy(server, folder)
        yield started[0], started[1]
    finally:
        for server in started:
            server.process.send_signal(signal.SIGTERM)
        for server in started:
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        for log in logs:
            log.close()


def _wait_healthy(server: Server, folder: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if server.call("GET", "/health").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    logs = "\n".join(path.read_text() for path in folder.glob("server-*.log"))
    raise AssertionError(f"server on port {server.port} did not become healthy:\n{logs}")


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and line.split("}")[0] == f"{name}{{{wanted}":
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_workspaces_across_processes(servers: tuple[Server, Server]) -> None:
    a, b = servers

    created = a.call("POST", "/api/3.0/mlflow/workspaces", {"name": "lb-team"})
    experiment = b.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "shared"}, workspace="lb-team"
    )
    experiment_id = experiment.body["experiment_id"]
    seen_on_a = a.call(
        "GET", f"/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}", workspace="lb-team"
    )

    assert created.status == 201
    assert experiment.status == 200
    assert seen_on_a.body["experiment"]["artifact_location"] == (
        f"mlflow-artifacts:/workspaces/lb-team/{experiment_id}"
    )


def test_artifact_root_update_on_one_process_applies_on_the_other(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    a.call("POST", "/api/3.0/mlflow/workspaces", {"name": "lb-root"})

    updated = a.call(
        "PATCH", "/api/3.0/mlflow/workspaces/lb-root", {"default_artifact_root": "s3://bucket/lb"}
    )
    experiment_id = b.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "after"}, workspace="lb-root"
    ).body["experiment_id"]
    location = b.call(
        "GET", f"/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}", workspace="lb-root"
    ).body["experiment"]["artifact_location"]

    assert updated.status == 200
    assert location == f"s3://bucket/lb/{experiment_id}"


def test_runs_metrics_and_artifacts_across_processes(servers: tuple[Server, Server]) -> None:
    a, b = servers
    a.call("POST", "/api/3.0/mlflow/workspaces", {"name": "lb-runs"})
    experiment_id = a.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "runs"}, workspace="lb-runs"
    ).body["experiment_id"]
    run = b.call(
        "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id}, workspace="lb-runs"
    ).body["run"]["info"]
    path = run["artifact_uri"].removeprefix("mlflow-artifacts:/") + "/notes.txt"

    a.call(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        {"run_id": run["run_id"], "key": "loss", "value": 0.25, "timestamp": 1, "step": 0},
        workspace="lb-runs",
    )
    uploaded = a.call(
        "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{path}", data=b"hi", workspace="lb-runs"
    )
    fetched = b.call("GET", f"/api/2.0/mlflow/runs/get?run_id={run['run_id']}", workspace="lb-runs")
    downloaded = b.call("GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}", workspace="lb-runs")

    assert uploaded.status == 200
    assert fetched.body["run"]["data"]["metrics"] == [
        {"key": "loss", "value": 0.25, "timestamp": 1, "step": 0}
    ]
    assert downloaded.raw == b"hi"


def test_moved_experiment_is_served_from_its_new_workspace_by_every_process(
    servers: tuple[Server, Server], server_env: dict[str, str]
) -> None:
    a, b = servers
    for name in ("lb-from", "lb-to"):
        a.call("POST", "/api/3.0/mlflow/workspaces", {"name": name})
    experiment_id = a.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "mover"}, workspace="lb-from"
    ).body["experiment_id"]
    run_id = a.call(
        "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id}, workspace="lb-from"
    ).body["run"]["info"]["run_id"]
    a.call(
        "PUT",
        f"/api/2.0/mlflow-artifacts/artifacts/workspaces/lb-from/{experiment_id}/{run_id}"
        "/artifacts/model.bin",
        data=b"w",
        workspace="lb-from",
    )

    moved = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "move_resources",
            "--from",
            "lb-from",
            "--to",
            "lb-to",
            "--resource-type",
            "experiments",
            "-y",
        ],
        cwd=PROJECT_ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("Moved 1 experiments row(s) from 'lb-from' to 'lb-to'.\n")
    for server in (a, b):
        gone = server.call("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}", workspace="lb-from")
        here = server.call("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}", workspace="lb-to")
        listing = server.call(
            "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}", workspace="lb-to"
        )
        assert gone.status == 404
        assert here.body["run"]["info"]["artifact_uri"] == (
            f"mlflow-artifacts:/workspaces/lb-to/{experiment_id}/{run_id}/artifacts"
        )
        assert listing.body["files"] == [{"path": "model.bin", "is_dir": False, "file_size": 1}]


def test_workspace_deleted_on_one_process_is_refused_by_the_other(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    a.call("POST", "/api/3.0/mlflow/workspaces", {"name": "lb-gone"})
    b.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "x"}, workspace="lb-gone")
    search_path = "/api/2.0/mlflow/experiments/search?max_results=10"
    before = a.call("GET", search_path, workspace="lb-gone")  # a remembers lb-gone

    refused = a.call("DELETE", "/api/3.0/mlflow/workspaces/lb-gone")
    deleted = b.call("DELETE", "/api/3.0/mlflow/workspaces/lb-gone?mode=CASCADE")
    # within a's bound: nothing to read, and nothing can be created there (a has several
    # workers, and each remembers workspaces on its own)
    emptied = a.call("GET", search_path, workspace="lb-gone")
    created = a.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "y"}, workspace="lb-gone"
    )
    time.sleep(WORKSPACE_CACHE_SECONDS + 0.1)
    search = a.call("GET", search_path, workspace="lb-gone")
    listed = a.call("GET", "/api/3.0/mlflow/workspaces")

    assert [e["name"] for e in before.body["experiments"]] == ["x"]
    assert refused.status == 400
    assert refused.body["error_code"] == "INVALID_STATE"
    assert deleted.status == 204
    # a worker that remembers lb-gone finds nothing in it; one that does not, finds no lb-gone
    assert (emptied.status, emptied.body) in ((200, {}), (404, search.body))
    assert (created.status, created.body["message"]) == (404, "Workspace 'lb-gone' not found")
    assert (search.status, search.body["error_code"], search.body["message"]) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "Workspace 'lb-gone' not found",
    )
    assert "lb-gone" not in [workspace["name"] for workspace in listed.body["workspaces"]]


def test_metrics_add_up_over_the_workers_of_a_server(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    before = _metric(
        a.call("GET", "/metrics").raw.decode(),
        "mlflow_http_requests_total",
        method="GET",
        route="/version",
        status="200",
        workspace="",
    )

    for _ in range(6):
        assert a.call("GET", "/version").status == 200
    text = a.call("GET", "/metrics").raw.decode()

    assert (
        _metric(
            text,
            "mlflow_http_requests_total",
            method="GET",
            route="/version",
            status="200",
            workspace="",
        )
        == before + 6
    )
