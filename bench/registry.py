"""Model-registry benchmark: version creation throughput and registry search latencies.

Run as ``.venv/bin/python -m bench.registry [--quick] [--rounds N]``. Both servers (the product
on port 5101, the reference ``mlflow server`` on port 5102, see ``bench.servers``) get the same
registry: ``models`` registered models with ``VERSIONS_PER_MODEL`` versions each, every version
pointing at one run of the same workspace (``runs:/<run_id>/model``). Rounds then alternate
product and reference; the table shows medians and the product/reference speed ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import client as bench_client
from bench.cli import _git_commit, _terminate, prepare_all, run_round
from bench.client import Client, encode
from bench.report import PRODUCT, REFERENCE, Results, summary, to_json, write_json
from bench.scenarios import (
    Measurement,
    Scenario,
    Sizes,
    Target,
    create_experiment,
    create_run,
    fingerprint,
    ms,
    repeat_timed,
    run_parallel,
)
from bench.servers import (
    REFERENCE_VERSION,
    Server,
    drop_database,
    ensure_reference_venv,
    product_server,
    reference_server,
)
from bench.workload import BASE_TIME_MS

API = "/api/2.0/mlflow"
MODELS_CREATE = f"{API}/registered-models/create"
MODELS_SEARCH = f"{API}/registered-models/search"
VERSIONS_CREATE = f"{API}/model-versions/create"
VERSIONS_SEARCH = f"{API}/model-versions/search"

BENCH_DIR = Path(__file__).resolve().parent
PRODUCT_PORT = 5101
REFERENCE_PORT = 5102
DEFAULT_MODELS = 2_000
QUICK_MODELS = 200
VERSIONS_PER_MODEL = 5
SETUP_THREADS = 4
CREATE_CLIENTS = 4
SEARCH_REPEATS = 20


def model_name(index: int) -> str:
    """The name of registered model number ``index``."""
    return f"model-{index}"


class RegistryData:
    """The registry every scenario reads, created once per server (shared by the scenarios)."""

    def __init__(self, models: int) -> None:
        """Remember the size; nothing is created until ``ensure`` is called."""
        self.models = models
        self.state: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def ensure(self, target: Target) -> dict[str, Any]:
        """Create the registry on ``target`` (once) and return ``{"run_id": ...}``."""
        with self._lock:
            if target.name not in self.state:
                self.state[target.name] = self._create(target)
            return self.state[target.name]

    def _create(self, target: Target) -> dict[str, Any]:
        """One experiment and run, then the models and their versions from a few threads."""
        setup = target.client()
        experiment_id = create_experiment(setup, "bench-registry")
        run_id = create_run(setup, experiment_id, "bench-registry-run", BASE_TIME_MS)
        setup.close()
        version_body = {"source": f"runs:/{run_id}/model", "run_id": run_id}

        def worker(offset: int) -> None:
            """Create every ``SETUP_THREADS``-th model and its versions."""
            conn = target.client()
            for index in range(offset, self.models, SETUP_THREADS):
                name = model_name(index)
                conn.call("POST", MODELS_CREATE, {"name": name})
                for _ in range(VERSIONS_PER_MODEL):
                    conn.call("POST", VERSIONS_CREATE, {"name": name, **version_body})
            conn.close()

        errors: list[BaseException] = []

        def guarded(offset: int) -> None:
            """Run ``worker`` and keep its exception for the caller."""
            try:
                worker(offset)
            except BaseException as exc:  # re-raised below on the calling thread
                errors.append(exc)

        threads = [
            threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(SETUP_THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return {"run_id": run_id}


class RegistryScenario(Scenario):
    """Base of the registry scenarios: preparing means making sure the shared data exists."""

    def __init__(self, sizes: Sizes, data: RegistryData) -> None:
        """Keep the shared registry data."""
        super().__init__(sizes)
        self.data = data

    def prepare(self, target: Target) -> dict[str, Any]:
        """Create (or reuse) the shared registry on ``target``."""
        return dict(self.data.ensure(target))


class CreateVersions(RegistryScenario):
    """4 clients at once, each creating versions of its own registered model."""

    name = "create-versions"
    title = "model-versions/create, 4 cl"
    unit = "versions/s"
    higher_is_better = True

    def __init__(self, sizes: Sizes, data: RegistryData, per_client: int) -> None:
        """``per_client`` versions per client and round."""
        super().__init__(sizes, data)
        self.per_client = per_client

    def run(self, target: Target, round_no: int) -> Measurement:
        """Time ``CREATE_CLIENTS`` x ``per_client`` version creations running together."""
        run_id = self.state[target.name]["run_id"]
        clients = [target.client() for _ in range(CREATE_CLIENTS)]
        bodies = [
            [
                encode({"name": model_name(i), "source": f"runs:/{run_id}/model", "run_id": run_id})
                for _ in range(self.per_client)
            ]
            for i in range(CREATE_CLIENTS)
        ]
        for conn in clients:  # warm-up: opens the connection
            conn.call("GET", MODELS_SEARCH, query={"max_results": 1})

        def task(conn: Client, items: list[bytes]) -> list[float]:
            """Create this client's versions one after the other."""
            latencies = []
            for body in items:
                started = time.perf_counter()
                conn.send("POST", VERSIONS_CREATE, body)
                latencies.append(time.perf_counter() - started)
            return latencies

        elapsed, latencies = run_parallel(
            [partial(task, c, b) for c, b in zip(clients, bodies, strict=True)]
        )
        for conn in clients:
            conn.close()
        total = CREATE_CLIENTS * self.per_client
        return Measurement(
            value=total / elapsed,
            detail={"median_ms": ms(statistics.median(latencies)), "seconds": elapsed},
        )


class SearchLatency(RegistryScenario):
    """One client repeating one registry search; the figure is the median latency."""

    unit = "ms/req"
    path = ""

    def query(self, run_id: str) -> dict[str, Any]:
        """The query string of the search."""
        raise NotImplementedError

    def check(self, reply: dict[str, Any]) -> str:
        """A fingerprint of what the search returned."""
        raise NotImplementedError

    def run(self, target: Target, round_no: int) -> Measurement:
        """Warm up once, then time ``SEARCH_REPEATS`` identical searches."""
        query = self.query(self.state[target.name]["run_id"])
        conn = target.client()
        check = self.check(conn.call("GET", self.path, query=query))
        notes: list[str] = []
        latencies = repeat_timed(
            SEARCH_REPEATS, lambda: conn.send("GET", self.path, query=query), notes
        )
        conn.close()
        return Measurement(value=ms(statistics.median(latencies)), check=check, notes=notes)


class ModelsLike(SearchLatency):
    """``registered-models/search`` with a ``LIKE`` name filter, 100 per page."""

    name = "models-like"
    title = "models search LIKE, 100"
    path = MODELS_SEARCH

    def query(self, run_id: str) -> dict[str, Any]:
        """``name LIKE 'model-1%'``, max_results=100."""
        return {"filter": "name LIKE 'model-1%'", "max_results": 100}

    def check(self, reply: dict[str, Any]) -> str:
        """The returned model names, in order."""
        return fingerprint([m["name"] for m in reply.get("registered_models", [])])


class ModelsOrdered(ModelsLike):
    """``registered-models/search`` ordered by name descending, 100 per page."""

    name = "models-order"
    title = "models search name DESC, 100"

    def query(self, run_id: str) -> dict[str, Any]:
        """``order_by=name DESC``, max_results=100."""
        return {"order_by": ["name DESC"], "max_results": 100}


class VersionsByName(SearchLatency):
    """``model-versions/search`` for one model's versions."""

    name = "versions-name"
    title = "versions search name="
    path = VERSIONS_SEARCH

    def query(self, run_id: str) -> dict[str, Any]:
        """``name='model-42'``."""
        return {"filter": f"name='{model_name(42)}'"}

    def check(self, reply: dict[str, Any]) -> str:
        """The returned (name, version) pairs, sorted."""
        items = reply.get("model_versions", [])
        return fingerprint(sorted([v["name"], v["version"]] for v in items))


class VersionsByRun(VersionsByName):
    """``model-versions/search`` for the versions of one run, 200 per page."""

    name = "versions-run"
    title = "versions search run_id=, 200"

    def query(self, run_id: str) -> dict[str, Any]:
        """``run_id='<run>'``, max_results=200."""
        return {"filter": f"run_id='{run_id}'", "max_results": 200}

    def check(self, reply: dict[str, Any]) -> str:
        """Only the count: which 200 of the run's versions come back is order-dependent."""
        return f"{len(reply.get('model_versions', []))} versions"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.registry",
        description=(
            "Model-registry workload against this server (port 5101) and the reference "
            f"mlflow server {REFERENCE_VERSION} (port 5102), alternating, medians compared."
        ),
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_MODELS} models instead of {DEFAULT_MODELS}"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of each server (default 2)"
    )
    parser.add_argument(
        "--reference-venv",
        type=Path,
        default=BENCH_DIR / ".venv-reference",
        help="virtualenv of the reference server (created if missing)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=BENCH_DIR / "results", help="where JSON/logs go"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the registry benchmark; return the process exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    models = QUICK_MODELS if args.quick else DEFAULT_MODELS
    per_client = 10 if args.quick else 25
    sizes = Sizes()
    data = RegistryData(models)
    scenarios: list[Scenario] = [
        CreateVersions(sizes, data, per_client),
        ModelsLike(sizes, data),
        ModelsOrdered(sizes, data),
        VersionsByName(sizes, data),
        VersionsByRun(sizes, data),
    ]
    names = [PRODUCT, REFERENCE]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = args.results_dir / f"logs-registry-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="mlflow-bench-registry-"))
    results = Results(scenarios=scenarios, targets=names)
    servers: dict[str, Server] = {}
    started = time.monotonic()
    try:
        ensure_reference_venv(args.reference_venv)
        for name in names:
            (data_dir / name).mkdir()
            if name == PRODUCT:
                server = product_server(args.workers, data_dir / name, log_dir, PRODUCT_PORT)
            else:
                server = reference_server(
                    args.reference_venv, args.workers, data_dir / name, log_dir, REFERENCE_PORT
                )
            servers[name] = server
            print(f"Starting {name} server on 127.0.0.1:{server.port} (log: {server.log_path})")
            server.start()
        for name, server in servers.items():
            print(f"  {name} server idle after {server.wait_quiet():.0f}s")
        targets = [Target(name, servers[name].port, servers[name].database) for name in names]
        print(
            f"Setting up {models} models x {VERSIONS_PER_MODEL} versions "
            "(both servers in parallel, untimed, ANALYZE afterwards)...",
            flush=True,
        )
        prepare_all(scenarios, targets, results)
        for round_no in range(1, args.rounds + 1):
            print(f"Round {round_no}/{args.rounds}")
            run_round(round_no, scenarios, targets, results, None, sizes)
    except KeyboardInterrupt:
        print("Interrupted; stopping servers.", file=sys.stderr)
        return 130
    finally:
        for server in servers.values():
            server.stop()
        for server in servers.values():
            drop_database(server.database)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(summary(results, args.rounds, args.workers))
    config: dict[str, Any] = {
        "benchmark": "registry",
        "started_at": stamp,
        "rounds": args.rounds,
        "quick": args.quick,
        "workers": args.workers,
        "quickack": bench_client.QUICKACK,
        "models": models,
        "versions_per_model": VERSIONS_PER_MODEL,
        "create_clients": CREATE_CLIENTS,
        "create_versions_per_client": per_client,
        "search_repeats": SEARCH_REPEATS,
        "reference_version": REFERENCE_VERSION,
        "product_commit": _git_commit(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    path = args.results_dir / f"registry-{stamp}.json"
    write_json(path, to_json(results, config))
    print(f"\nResults written to {path} (server logs in {log_dir})")
    print(f"Total time {config['elapsed_seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
