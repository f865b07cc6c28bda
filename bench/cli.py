"""Command line: start both servers, run the rounds alternating product/reference, report."""

from __future__ import annotations

import argparse
import os
import platform
import secrets
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
from bench.client import AUTH_WORKSPACE_PERMISSION, ApiError
from bench.floor import Floor
from bench.report import PRODUCT, REFERENCE, Results, Series, cell, summary, to_json, write_json
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
    provision_user,
    reference_server,
)

BENCH_DIR = Path(__file__).resolve().parent
# A failing scenario (HTTP error, broken connection, unexpected reply, ...) is reported as n/a
# for that server; the benchmark goes on.
SCENARIO_ERRORS = (ApiError, Exception)
PRODUCT_PORT = 5101
REFERENCE_PORT = 5102
# --auth: the product a second time, with authentication on, on the reference's port (the
# reference is not run then) and a database of its own.
PRODUCT_AUTH = "product-auth"
PRODUCT_AUTH_PORT = REFERENCE_PORT
PRODUCT_AUTH_DATABASE = "bench_product_auth"
AUTH_ADMIN = "bench"
AUTH_USER = "bench-user"
# The overhead authentication may add before the report flags it.
AUTH_OVERHEAD_TARGET = 15.0


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
        "--auth",
        action="store_true",
        help="measure authentication: run the product with auth off and with auth on "
        "(HTTP Basic, a non-admin user with a workspace grant), alternating; no reference server",
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
    if args.auth:
        if args.targets != [PRODUCT, REFERENCE]:
            parser.error("--auth always runs the product twice (auth off and on); drop --targets")
        args.targets = [PRODUCT, PRODUCT_AUTH]
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


def overhead_percent(scenario: Scenario, off: float | None, on: float | None) -> float | None:
    """Extra time per unit of work with authentication on, in percent of auth-off's time.

    Latencies compare directly; for throughputs the time per request is the inverse.
    """
    if not off or not on:
        return None
    ratio = off / on if scenario.higher_is_better else on / off
    return (ratio - 1.0) * 100.0


def auth_summary(results: Results, rounds: int, workers: int) -> str:
    """The ``--auth`` report: auth-off median, auth-on median and overhead per scenario."""
    header = f"{'scenario':<30} {'unit':<11} {'auth off':>12} {'auth on':>12} {'overhead':>10}"
    lines = [
        "",
        f"Median of {rounds} round(s); the product with auth off and with auth on alternate "
        f"each round; {workers} worker process(es) each.",
        "auth on: MLFLOW_AUTH_ENABLED=true, HTTP Basic credentials of a non-admin user with "
        f"{AUTH_WORKSPACE_PERMISSION} on its workspaces, on every request.",
        "overhead = extra time per request with auth on, relative to auth off "
        f"(target: within {AUTH_OVERHEAD_TARGET:.0f}%).",
        "",
        header,
        "-" * len(header),
    ]
    long_cells: list[str] = []
    per_round: list[str] = ["", "Per round (auth off / auth on):"]
    notes: list[str] = []
    overheads: list[float] = []
    for scenario in results.scenarios:
        off = results.get(scenario.name, PRODUCT)
        on = results.get(scenario.name, PRODUCT_AUTH)
        cells = []
        for label, series in (("auth off", off), ("auth on", on)):
            text = cell(series)
            if len(text) > 12:
                long_cells.append(f"  * {scenario.name} with {label}: {text}")
                text = "n/a*"
            cells.append(text)
        overhead = overhead_percent(scenario, off.median(), on.median())
        if overhead is not None:
            overheads.append(overhead)
        if overhead is None:
            overhead_text = "n/a"
        else:
            flag = "" if overhead <= AUTH_OVERHEAD_TARGET else " !"
            overhead_text = f"{overhead:+.1f}%{flag}"
        lines.append(
            f"{scenario.title:<30} {scenario.unit:<11} {cells[0]:>12} {cells[1]:>12} "
            f"{overhead_text:>10}"
        )
        per_round.append(f"  {scenario.name:<17} " + "   ".join(_round_pairs(off, on)))
        notes.extend(
            f"  {scenario.name} with {label}: note: {note}"
            for label, series in (("auth off", off), ("auth on", on))
            for note in series.notes()
        )
    lines.extend(long_cells)
    if any(value > AUTH_OVERHEAD_TARGET for value in overheads):
        lines.append(f"  ! over the {AUTH_OVERHEAD_TARGET:.0f}% target")
    notes.extend(f"  {t} server: {error}" for t, error in results.server_errors.items())
    lines.extend(per_round)
    if notes:
        lines.extend(["", "Notes:", *notes])
    return "\n".join(lines)


def _round_pairs(off: Series, on: Series) -> list[str]:
    """``off / on`` for every round (``-`` where a side has no value)."""
    count = max(len(off.values), len(on.values))

    def at(values: list[float], index: int) -> str:
        """``values[index]`` formatted, or ``-``."""
        return f"{values[index]:.1f}" if index < len(values) else "-"

    return [f"{at(off.values, i)} / {at(on.values, i)}" for i in range(count)] or ["no data"]


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
    # --auth: fresh random passwords each invocation (the product wants 12+ characters).
    admin = (AUTH_ADMIN, secrets.token_urlsafe(18))
    user = (AUTH_USER, secrets.token_urlsafe(18))
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
            PRODUCT_AUTH: lambda: product_server(
                args.workers,
                data_dir / PRODUCT_AUTH,
                log_dir,
                PRODUCT_AUTH_PORT,
                name=PRODUCT_AUTH,
                database=PRODUCT_AUTH_DATABASE,
                admin=admin,
            ),
        }
        for name in args.targets:
            (data_dir / name).mkdir()
            server = candidates[name]()
            servers[name] = server
            print(f"Starting {name} server on 127.0.0.1:{server.port} (log: {server.log_path})")
            try:
                server.start()
                if name == PRODUCT_AUTH:
                    provision_user(server.port, admin, user)
                    print(
                        f"  created user {user[0]!r} with {AUTH_WORKSPACE_PERMISSION} "
                        "on the default workspace"
                    )
            except (RuntimeError, OSError, subprocess.CalledProcessError, ApiError) as exc:
                results.server_errors[name] = _first_line(exc) + f" (log: {server.log_path})"
                print(f"  {name} could not start: {results.server_errors[name]}")
        for name, server in servers.items():
            if name not in results.server_errors:
                waited = server.wait_quiet()
                print(f"  {name} server idle after {waited:.0f}s")
        if any(s.name == "log-batch" for s in scenarios) and not args.auth:
            floor = Floor(LOG_BATCH_ROWS)
        targets = [
            Target(
                name,
                servers[name].port,
                servers[name].database,
                not args.no_analyze,
                auth=user if name == PRODUCT_AUTH else None,
                admin_auth=admin if name == PRODUCT_AUTH else None,
            )
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

    if args.auth:
        print(auth_summary(results, args.rounds, args.workers))
    else:
        print(summary(results, args.rounds, args.workers))
    config: dict[str, Any] = {
        "started_at": stamp,
        "rounds": args.rounds,
        "quick": args.quick,
        "workers": args.workers,
        "quickack": client.QUICKACK,
        "analyze_after_setup": not args.no_analyze,
        "targets": args.targets,
        "auth": args.auth,
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
    if args.auth:
        return 1 if results.server_errors else 0
    return 1 if REFERENCE in results.server_errors else 0
