"""Databases, the reference virtualenv, and the two server processes under test.

Only 127.0.0.1 is contacted: PostgreSQL at 127.0.0.1:5432 (user ``postgres``, trust auth),
the product on port 5101 and the reference ``mlflow server`` on port 5102.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql

from bench.client import AUTH_WORKSPACE_PERMISSION, HOST, Client

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REFERENCE_VERSION = "3.17.2"
# The full MLflow server plus both PostgreSQL drivers: SQLAlchemy 2.1 maps plain
# ``postgresql://`` to psycopg 3, older SQLAlchemy to psycopg2 (MLflow's ``db`` extra has both).
REFERENCE_REQUIREMENTS = [
    f"mlflow=={REFERENCE_VERSION}",
    "psycopg2-binary==2.9.13",
    "psycopg[binary]==3.3.9",
]
STARTUP_TIMEOUT = 180.0


def database_url(name: str) -> str:
    """Return the SQLAlchemy/Django URL of benchmark database ``name``."""
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def recreate_database(name: str) -> None:
    """Drop (terminating its connections) and create the PostgreSQL database ``name``."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    """Drop the PostgreSQL database ``name`` if it exists."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def analyze_database(name: str) -> None:
    """Refresh the planner statistics of database ``name`` (``ANALYZE``)."""
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute("ANALYZE")


def port_in_use(port: int) -> bool:
    """Return whether something already listens on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _reference_ready(venv: Path) -> bool:
    """Return whether ``venv`` already holds the reference MLflow and the PostgreSQL drivers."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "mlflow").exists() or not python.exists():
        return False
    probe = (
        "import importlib.metadata as m, psycopg, psycopg2; "
        f"raise SystemExit(m.version('mlflow') != {REFERENCE_VERSION!r})"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, check=False)
    return result.returncode == 0


def ensure_reference_venv(venv: Path) -> None:
    """Create ``venv`` with the full ``mlflow`` reference server unless it is already there."""
    if _reference_ready(venv):
        return
    print(f"Installing mlflow=={REFERENCE_VERSION} into {venv} (one-time, ~1-2 minutes)...")
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *REFERENCE_REQUIREMENTS],
        check=True,
    )
    if not _reference_ready(venv):
        raise RuntimeError(f"{venv} does not provide mlflow=={REFERENCE_VERSION} after install")


@dataclass
class Server:
    """One server under test: how to prepare its database and start it, and its process."""

    name: str
    port: int
    database: str
    prepare_argv: list[str]
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Create the database fresh, run the schema upgrade, start the server, wait for it."""
        if port_in_use(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use; stop whatever listens there first"
            )
        recreate_database(self.database)
        self._log = self.log_path.open("wb")
        subprocess.run(
            self.prepare_argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            check=True,
        )
        # A session of its own, so stop() can end the server and every worker it forked.
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        """Poll ``GET /health`` until it answers 200 (or the process dies / times out)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        client = Client(self.port, timeout=5.0)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} server exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                status, _ = client.request("GET", "/health")
            except OSError:
                status = 0
            client.close()
            if status == 200:
                return
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} server did not become healthy; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by every live process of the server's process group."""
        if self.process is None:
            return 0.0
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # after the command: state ppid pgrp session ... utime(12) stime(13)
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, limit: float = 90.0, idle_share: float = 0.05) -> float:
        """Wait until the server's processes use < ``idle_share`` of a CPU; return seconds waited.

        The reference spawns background job consumers that import MLflow for several seconds
        after ``/health`` already answers; measuring before they settle would be unfair to it.
        """
        started = time.monotonic()
        quiet = 0
        previous = self.cpu_seconds()
        while time.monotonic() - started < limit and quiet < 2:
            time.sleep(1.0)
            current = self.cpu_seconds()
            quiet = quiet + 1 if current - previous < idle_share else 0
            previous = current
        return time.monotonic() - started

    def stop(self) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after 20 s)."""
        if self.process is not None and self.process.poll() is None:
            pgid = self.process.pid
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
            # Workers that outlived their parent are still in the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def product_server(
    workers: int,
    data_dir: Path,
    log_dir: Path,
    port: int = 5101,
    *,
    name: str = "product",
    database: str = "bench_product",
    admin: tuple[str, str] | None = None,
) -> Server:
    """The server in this repository: gunicorn with ``config/gunicorn.py``.

    ``admin``: ``(username, password)`` turns authentication on (``MLFLOW_AUTH_ENABLED``) with
    that bootstrap admin; None leaves it off, as by default.
    """
    env = dict(os.environ)
    for key in [key for key in env if key.startswith("MLFLOW_AUTH_")]:
        del env[key]
    if admin is not None:
        env.update(
            {
                "MLFLOW_AUTH_ENABLED": "true",
                "MLFLOW_AUTH_ADMIN_USERNAME": admin[0],
                "MLFLOW_AUTH_ADMIN_PASSWORD": admin[1],
            }
        )
    env.update(
        {
            "DATABASE_URL": database_url(database),
            "MLFLOW_HOST": HOST,
            "MLFLOW_PORT": str(port),
            "MLFLOW_WORKERS": str(workers),
            "MLFLOW_DATA_DIR": str(data_dir),
            "DEBUG": "false",
        }
    )
    env.pop("MLFLOW_ACCESS_LOG", None)
    venv_bin = REPO / ".venv" / "bin"
    return Server(
        name=name,
        port=port,
        database=database,
        prepare_argv=[str(venv_bin / "python"), "manage.py", "db_upgrade"],
        argv=[str(venv_bin / "gunicorn"), "-c", "config/gunicorn.py"],
        cwd=REPO,
        env=env,
        log_path=log_dir / f"{name}.log",
    )


def provision_user(port: int, admin: tuple[str, str], user: tuple[str, str]) -> None:
    """As ``admin``, create the non-admin ``user`` with a permission on the default workspace.

    ``POST /api/2.0/mlflow/users/create``, then
    ``POST /api/3.0/mlflow/workspaces/default/permissions`` (auth-workspace-permissions.md §5,
    §8); the level is ``AUTH_WORKSPACE_PERMISSION``. Workspaces the workload creates later
    grant the user the same level themselves.
    """
    client = Client(port, auth=admin)
    try:
        client.call(
            "POST", "/api/2.0/mlflow/users/create", {"username": user[0], "password": user[1]}
        )
        client.call(
            "POST",
            "/api/3.0/mlflow/workspaces/default/permissions",
            {"username": user[0], "permission": AUTH_WORKSPACE_PERMISSION},
        )
    finally:
        client.close()


def reference_server(
    venv: Path, workers: int, data_dir: Path, log_dir: Path, port: int = 5102
) -> Server:
    """The reference ``mlflow server`` from ``venv`` with workspaces and artifact serving on."""
    database = "bench_reference"
    url = database_url(database)
    mlflow = str(venv / "bin" / "mlflow")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "DJANGO_", "DATABASE_"))
    }
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Server(
        name="reference",
        port=port,
        database=database,
        prepare_argv=[mlflow, "db", "upgrade", url],
        argv=[
            mlflow,
            "server",
            "--backend-store-uri",
            url,
            "--serve-artifacts",
            "--artifacts-destination",
            str(data_dir / "mlartifacts"),
            "--enable-workspaces",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=data_dir,
        env=env,
        log_path=log_dir / "reference.log",
    )
