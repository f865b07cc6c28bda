"""Artifact proxy throughput: this server against the reference ``mlflow server``.

Uploads (``PUT``) and downloads (``GET``) 1 MiB and 100 MiB files through
``/api/2.0/mlflow-artifacts/artifacts/<path>`` of

* **product**: ``.venv/bin/gunicorn -c config/gunicorn.py`` on port 5111, SQLite and local
  artifact storage in a temporary ``MLFLOW_DATA_DIR``;
* **reference**: ``mlflow server`` 3.17.2 (full package) on port 5112 with
  ``--serve-artifacts --artifacts-destination <tmp> --enable-workspaces`` and a SQLite backend,

alternating which server goes first every round, and prints per-size medians in MB/s and the
product/reference ratio. ``--gib`` adds one 1 GiB upload and download per server while sampling
the resident memory of every server process, and prints the largest growth over the baseline
(the process that handled the transfer) for each direction.

    .venv/bin/python -m bench.artifacts                 # 5 rounds, 1 MiB and 100 MiB
    .venv/bin/python -m bench.artifacts --gib           # plus the 1 GiB peak-RSS run
    .venv/bin/python -m bench.artifacts --rounds 3 --workers 2 --targets product

The reference runs from ``bench/.venv-reference`` (created by ``python -m bench``); when that
does not exist, ``bench/.venv-reference-artifacts`` is created with ``mlflow==3.17.2``. Only
127.0.0.1 is contacted. A benchmark, not a test: it exits 0 whatever the figures are.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.servers import REFERENCE_VERSION, REPO, ensure_reference_venv, port_in_use

HOST = "127.0.0.1"
PRODUCT_PORT = 5111
REFERENCE_PORT = 5112
WORKSPACE = "bench"
MiB = 1024 * 1024
BLOCK = MiB
# Transfers per round: small files are repeated so a round measures more than one RTT.
REPEATS = {1 * MiB: 20, 100 * MiB: 2}
STARTUP_TIMEOUT = 180.0


@dataclass
class Server:
    """One server under test and its process group."""

    name: str
    port: int
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    prepare: list[str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the server in a session of its own and wait until ``/health`` answers."""
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        self._log = self.log_path.open("wb")
        if self.prepare:
            subprocess.run(
                self.prepare,
                cwd=self.cwd,
                env=self.env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/health")[0] == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} did not become healthy; see {self.log_path}")

    def pids(self) -> list[int]:
        """Every live process of the server's process group."""
        if self.process is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process group."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, limit: float = 60.0) -> None:
        """Wait until the group uses < 5 % of a CPU (the reference imports for a while)."""
        started, quiet, previous = time.monotonic(), 0, self.cpu_seconds()
        while time.monotonic() - started < limit and quiet < 2:
            time.sleep(1.0)
            current = self.cpu_seconds()
            quiet = quiet + 1 if current - previous < 0.05 else 0
            previous = current

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the RSS of every server process every few milliseconds while active."""

    def __init__(self, server: Server, interval: float = 0.005) -> None:
        self.server = server
        self.interval = interval
        self.baseline: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pids = self.server.pids()
        while not self._stop.is_set():
            for pid in pids:
                self.peak[pid] = max(self.peak.get(pid, 0), rss_kib(pid))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.baseline = {pid: rss_kib(pid) for pid in self.server.pids()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def growth_mib(self) -> float:
        """The largest growth of any one process over its baseline, in MiB."""
        return (
            max((self.peak.get(pid, 0) - base for pid, base in self.baseline.items()), default=0)
            / 1024
        )


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | IO[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One request on a fresh connection; returns status and body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=600, blocksize=BLOCK)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def upload(port: int, path: str, source: Path) -> float:
    """PUT ``source`` (streamed from disk) and return the seconds it took."""
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(source.stat().st_size),
        "X-MLFLOW-WORKSPACE": WORKSPACE,
        "User-Agent": f"mlflow-python-client/{REFERENCE_VERSION}",
    }
    with source.open("rb") as file:
        started = time.perf_counter()
        status, answer = request(
            port, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{path}", file, headers
        )
        elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"upload to {port} answered {status}: {answer[:200]!r}")
    return elapsed


def download(port: int, path: str, size: int) -> float:
    """GET an artifact, discarding the bytes as they arrive; returns the seconds it took."""
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    started = time.perf_counter()
    try:
        connection.request(
            "GET",
            f"/api/2.0/mlflow-artifacts/artifacts/{path}",
            headers={"X-MLFLOW-WORKSPACE": WORKSPACE},
        )
        response = connection.getresponse()
        received = 0
        while count := response.readinto(view):
            received += count
        status = response.status
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    if status != 200 or received != size:
        raise RuntimeError(f"download from {port}: status {status}, {received} of {size} bytes")
    return elapsed


def product(data_dir: Path, log_dir: Path, workers: int) -> Server:
    """This repository's server: gunicorn, SQLite and local storage in ``data_dir``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "MLFLOW_DATA_DIR": str(data_dir),
            "MLFLOW_HOST": HOST,
            "MLFLOW_PORT": str(PRODUCT_PORT),
            "MLFLOW_WORKERS": str(workers),
            "MLFLOW_GUNICORN_TIMEOUT": "600",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
        }
    )
    venv = REPO / ".venv" / "bin"
    return Server(
        name="product",
        port=PRODUCT_PORT,
        argv=[str(venv / "gunicorn"), "-c", "config/gunicorn.py"],
        env=env,
        cwd=REPO,
        log_path=log_dir / "artifacts-product.log",
        prepare=[str(venv / "python"), "manage.py", "db_upgrade"],
    )


def reference(venv: Path, data_dir: Path, log_dir: Path, workers: int) -> Server:
    """``mlflow server`` with artifact serving and workspaces, SQLite and local storage."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "DJANGO_", "DATABASE_"))
    }
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Server(
        name="reference",
        port=REFERENCE_PORT,
        argv=[
            str(venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{data_dir / 'mlflow.db'}",
            "--serve-artifacts",
            "--artifacts-destination",
            str(data_dir / "mlartifacts"),
            "--enable-workspaces",
            "--host",
            HOST,
            "--port",
            str(REFERENCE_PORT),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=data_dir,
        log_path=log_dir / "artifacts-reference.log",
    )


def reference_venv(explicit: str | None) -> Path:
    """The reference virtualenv: the shared one if present, else our own (created once)."""
    if explicit:
        return Path(explicit)
    shared = REPO / "bench" / ".venv-reference"
    if (shared / "bin" / "mlflow").exists():
        return shared
    own = REPO / "bench" / ".venv-reference-artifacts"
    ensure_reference_venv(own)
    return own


def random_file(folder: Path, size: int) -> Path:
    """A file of ``size`` random bytes (incompressible), written in blocks."""
    path = folder / f"source-{size // MiB}MiB.bin"
    with path.open("wb") as file:
        remaining = size
        while remaining:
            block = min(remaining, 16 * MiB)
            file.write(os.urandom(block))
            remaining -= block
    return path


def mbps(size: int, seconds: float) -> float:
    return size / seconds / 1e6


@contextlib.contextmanager
def running(servers: list[Server]) -> Iterator[None]:
    """Start every server (stopping all of them however the block ends)."""
    try:
        for server in servers:
            print(f"starting {server.name} on port {server.port} ...", flush=True)
            server.start()
            status, answer = request(
                server.port,
                "POST",
                "/api/3.0/mlflow/workspaces",
                f'{{"name": "{WORKSPACE}"}}'.encode(),
                {"Content-Type": "application/json"},
            )
            if status not in (200, 201):
                raise RuntimeError(
                    f"{server.name}: creating the workspace gave {status} {answer!r}"
                )
        for server in servers:
            server.wait_quiet()
        yield
    finally:
        for server in servers:
            server.stop()


def throughput(servers: list[Server], sources: dict[int, Path], rounds: int) -> None:
    """Alternating rounds per size; prints medians (MB/s) and ratios."""
    results: dict[tuple[str, int, str], list[float]] = {}
    for number in range(rounds):
        order = servers if number % 2 == 0 else list(reversed(servers))
        for size, source in sources.items():
            for server in order:
                repeats = REPEATS.get(size, 1)
                up = down = 0.0
                for repeat in range(repeats):
                    path = f"throughput/{size // MiB}MiB/{number}-{repeat}.bin"
                    up += upload(server.port, path, source)
                    down += download(server.port, path, size)
                results.setdefault((server.name, size, "upload"), []).append(
                    mbps(size * repeats, up)
                )
                results.setdefault((server.name, size, "download"), []).append(
                    mbps(size * repeats, down)
                )
        print(f"round {number + 1}/{rounds} done", flush=True)

    names = [server.name for server in servers]
    print()
    print(f"{'size':>8} {'direction':>9} " + " ".join(f"{n + ' MB/s':>16}" for n in names), end="")
    print("  product/reference" if len(names) == 2 else "")
    for size in sources:
        for direction in ("upload", "download"):
            medians = [statistics.median(results[(n, size, direction)]) for n in names]
            line = f"{size // MiB:>5}MiB {direction:>9} " + " ".join(f"{m:>16.1f}" for m in medians)
            if len(medians) == 2:
                line += f"  {medians[0] / medians[1]:>17.2f}x"
            print(line)


def peak_rss(servers: list[Server], source: Path) -> None:
    """One 1 GiB upload and download per server with RSS sampling; prints growth and MB/s."""
    size = source.stat().st_size
    print()
    print(f"{'server':>10} {'direction':>9} {'MB/s':>8} {'peak RSS growth (MiB)':>22}")
    for server in servers:
        path = "gib/model.bin"
        with RssSampler(server) as sampler:
            seconds = upload(server.port, path, source)
        print(
            f"{server.name:>10} {'upload':>9} {mbps(size, seconds):>8.1f} "
            f"{sampler.growth_mib():>22.1f}"
        )
        with RssSampler(server) as sampler:
            seconds = download(server.port, path, size)
        print(
            f"{server.name:>10} {'download':>9} {mbps(size, seconds):>8.1f} "
            f"{sampler.growth_mib():>22.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the servers, run the rounds, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.artifacts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="workers of each server")
    parser.add_argument("--gib", action="store_true", help="add the 1 GiB peak-RSS run")
    parser.add_argument(
        "--targets", default="product,reference", help="product,reference (default both)"
    )
    parser.add_argument("--reference-venv", default=None, help="path of the reference venv")
    args = parser.parse_args(argv)
    targets = [name.strip() for name in args.targets.split(",") if name.strip()]

    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    completed = False
    try:
        servers: list[Server] = []
        if "product" in targets:
            (work / "product").mkdir()
            servers.append(product(work / "product", work, args.workers))
        if "reference" in targets:
            (work / "reference").mkdir()
            venv = reference_venv(args.reference_venv)
            servers.append(reference(venv, work / "reference", work, args.workers))
        sources = {size: random_file(work, size) for size in (1 * MiB, 100 * MiB)}
        print(
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.workers} workers each"
        )
        with running(servers):
            throughput(servers, sources, args.rounds)
            if args.gib:
                for source in sources.values():
                    source.unlink()
                for server in servers:  # room on disk for the big files
                    request(
                        server.port,
                        "DELETE",
                        "/api/2.0/mlflow-artifacts/artifacts/throughput",
                        headers={"X-MLFLOW-WORKSPACE": WORKSPACE},
                    )
                peak_rss(servers, random_file(work, 1024 * MiB))
        completed = True
    finally:
        if completed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for source in work.glob("source-*.bin"):
                source.unlink()
            print(f"server logs kept in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
