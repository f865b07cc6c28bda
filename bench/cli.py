"""Command line: start both servers, run the rounds alternating product/reference, report."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import client
from bench.client import ApiError
from bench.floor import Floor
from bench.report import PRODUCT, REFERENCE, Results, summary, to_json, write_json
from bench.scenarios import (
    ALL_SCENARIOS,
    LOG_BATCH_ROWS,
    QUICK_SIZES,
    SCENARIO_NAMES,
    Scenario,
    Sizes,
    Target,
)
from bench.servers import (
    REFERENCE_VERSION,
    REPO,
    Server,
    drop_database,
    ensure_reference_venv,
    product_server,
    reference_server,
)

BENCH_DIR = Path(__file__).resolve().parent
# A failing scenario (HTTP error, broken connection, unexpected reply, ...) is reported as n/a
# for that server; the benchmark goes on.
SCENARIO_ERRORS = (ApiError, Exception)
PRODUCT_PORT = 5101
REFERENCE_PORT = 5102


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Run the same tracking workload against this server (port 5101) and the reference "
            f"mlflow server {REFERENCE_VERSION} (port 5102), alternating, and compare medians."
        ),
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds per server (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small sizes, one round by default"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SCENARIO",
        help="run only these scenarios (repeatable or comma-separated): "
        + ", ".join(SCENARIO_NAMES),
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of each server (default 2)"
    )
    parser.add_argument(
        "--targets",
        default=f"{PRODUCT},{REFERENCE}",
        help="servers to run, comma-separated (default: product,reference)",
    )
    parser.add_argument(
        "--reference-venv",
        type=Path,
        default=BENCH_DIR / ".venv-reference",
        help="virtualenv for the reference server (created if missing)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=BENCH_DIR / "results", help="where JSON/logs go"
    )
    parser.add_argument(
        "--no-quickack",
        action="store_true",
        help="let the kernel delay ACKs as a plain requests client does (shows the reference's "
        "40 ms keep-alive stall on small responses; see README)",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="do not ANALYZE the databases after data setup (planner sees stale statistics)",
    )
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="leave the bench_* databases in place afterwards (for debugging)",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIO_NAMES))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {SCENARIO_NAMES}")
    args.only = only
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets or set(targets) - {PRODUCT, REFERENCE}:
        parser.error(f"--targets takes {PRODUCT} and/or {REFERENCE}")
    args.targets = [t for t in (PRODUCT, REFERENCE) if t in targets]
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers must be at least 1")
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception so the servers are stopped on the way out."""
    raise KeyboardInterrupt(f"signal {signum}")


def _git_commit() -> str:
    """The repository's HEAD commit (or ``unknown``)."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def _first_line(exc: BaseException) -> str:
    """A one-line description of an exception."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def prepare_all(scenarios: list[Scenario], targets: list[Target], results: Results) -> None:
    """Set up every scenario's data on all live servers, the servers in parallel (untimed)."""
    live = [t for t in targets if t.name not in results.server_errors]
    for target in targets:
        if target.name in results.server_errors:
            for scenario in scenarios:
                results.get(scenario.name, target.name).error = "server did not start"

    def prepare(scenario: Scenario, target: Target) -> None:
        """Prepare one scenario on one server; a failure marks that scenario n/a there."""
        series = results.get(scenario.name, target.name)
        try:
            series.setup_seconds = scenario.ensure_prepared(target)["setup_seconds"]
        except SCENARIO_ERRORS as exc:
            series.error = _first_line(exc)
            print(f"  setup {scenario.name:<17} {target.name:<9}  n/a ({series.error})")

    for scenario in scenarios:
        threads = [
            threading.Thread(target=prepare, args=(scenario, target), daemon=True)
            for target in live
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def run_round(
    round_no: int,
    scenarios: list[Scenario],
    targets: list[Target],
    results: Results,
    floor: Floor | None,
    sizes: Sizes,
) -> None:
    """Run every scenario once on every live target, alternating product and reference."""
    for scenario in scenarios:
        for target in targets:
            series = results.get(scenario.name, target.name)
            if series.error or target.name in results.server_errors:
                continue
            try:
                measurement = scenario.run(target, round_no)
            except SCENARIO_ERRORS as exc:
                series.error = _first_line(exc)
                print(
                    f"  round {round_no} {scenario.name:<17} {target.name:<9}  n/a ({series.error})"
                )
                continue
            series.add(measurement)
            print(
                f"  round {round_no} {scenario.name:<17} {target.name:<9} "
                f"{measurement.value:>10.2f} {scenario.unit}",
                flush=True,
            )
        if floor is not None and scenario.name == "log-batch":
            floor_ms = floor.measure(sizes.log_batch_requests) * 1000
            results.floor_ms.append(floor_ms)
            print(f"  round {round_no} {'log-batch':<17} {'db floor':<9} {floor_ms:>10.2f} ms/txn")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    client.QUICKACK = not args.no_quickack
    sizes = QUICK_SIZES if args.quick else Sizes()
    scenarios = [cls(sizes) for cls in ALL_SCENARIOS if not args.only or cls.name in args.only]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = args.results_dir / f"logs-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="mlflow-bench-"))
    results = Results(scenarios=scenarios, targets=args.targets)
    servers: dict[str, Server] = {}
    floor: Floor | None = None
    started = time.monotonic()
    try:
        if REFERENCE in args.targets:
            ensure_reference_venv(args.reference_venv)
        candidates = {
            PRODUCT: lambda: product_server(
                args.workers, data_dir / PRODUCT, log_dir, PRODUCT_PORT
            ),
            REFERENCE: lambda: reference_server(
                args.reference_venv, args.workers, data_dir / REFERENCE, log_dir, REFERENCE_PORT
            ),
        }
        for name in args.targets:
            (data_dir / name).mkdir()
            server = candidates[name]()
            servers[name] = server
            print(f"Starting {name} server on 127.0.0.1:{server.port} (log: {server.log_path})")
            try:
                server.start()
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                results.server_errors[name] = _first_line(exc) + f" (log: {server.log_path})"
                print(f"  {name} could not start: {results.server_errors[name]}")
        for name, server in servers.items():
            if name not in results.server_errors:
                waited = server.wait_quiet()
                print(f"  {name} server idle after {waited:.0f}s")
        if any(s.name == "log-batch" for s in scenarios):
            floor = Floor(LOG_BATCH_ROWS)
        targets = [
            Target(name, servers[name].port, servers[name].database, not args.no_analyze)
            for name in args.targets
        ]
        print("Setting up scenario data (both servers in parallel, untimed)...", flush=True)
        prepare_all(scenarios, targets, results)
        for round_no in range(1, args.rounds + 1):
            print(f"Round {round_no}/{args.rounds}")
            run_round(round_no, scenarios, targets, results, floor, sizes)
    except KeyboardInterrupt:
        print("Interrupted; stopping servers.", file=sys.stderr)
        return 130
    finally:
        for server in servers.values():
            server.stop()
        if floor is not None:
            floor.close()
        if not args.keep_databases:
            for server in servers.values():
                drop_database(server.database)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(summary(results, args.rounds, args.workers))
    config: dict[str, Any] = {
        "started_at": stamp,
        "rounds": args.rounds,
        "quick": args.quick,
        "workers": args.workers,
        "quickack": client.QUICKACK,
        "analyze_after_setup": not args.no_analyze,
        "targets": args.targets,
        "sizes": asdict(sizes),
        "reference_version": REFERENCE_VERSION,
        "product_commit": _git_commit(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    path = args.results_dir / f"bench-{stamp}.json"
    write_json(path, to_json(results, config))
    print(f"\nResults written to {path} (server logs in {log_dir})")
    print(f"Total time {config['elapsed_seconds']:.0f}s")
    return 1 if REFERENCE in results.server_errors else 0
