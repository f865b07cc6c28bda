"""The six benchmark scenarios. Each one prepares its data once per server, then measures.

A scenario's ``run`` returns one ``Measurement`` per round: its ``value`` is either a latency
in milliseconds (lower is better) or a throughput per second (higher is better); ``check`` is a
fingerprint of what the server returned, compared across servers to catch a server that is
fast because it skipped work.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.client import AUTH_WORKSPACE_PERMISSION, ApiError, Client, encode
from bench.servers import analyze_database
from bench.workload import (
    BASE_TIME_MS,
    EXPERIMENTS_CREATE,
    EXPERIMENTS_GET,
    GET_HISTORY,
    LOG_BATCH,
    LOG_METRIC,
    RUNS_CREATE,
    RUNS_GET,
    RUNS_SEARCH,
    RUNS_UPDATE,
    WORKSPACES,
    BatchRows,
    batch_rows,
    create_experiment_body,
    create_run_body,
    get_run_query,
    history_query,
    log_batch_body,
    log_metric_body,
    search_runs_body,
    update_run_body,
    value_at,
)

CLIENTS = 4
WORKSPACE_NAMES = [f"bench-ws-{n}" for n in range(1, CLIENTS + 1)]
# log-batch: 980 metrics (98 keys x 10 steps) + 10 params + 10 tags = 1000 entities, the most
# one request may carry (MLflow rejects more than 1000 metrics+params+tags per request, so the
# "1000 metrics + 10 params + 10 tags" of the issue is over the limit by 20).
LOG_BATCH_ROWS = batch_rows(metrics=980, keys=98, params=10, tags=10)
SEARCH_FILTER = "metrics.accuracy > 0.5 and params.model = 'resnet'"
SEARCH_ORDER_BY = ["metrics.loss ASC"]
SEARCH_PAGES = 3
MODELS = ["resnet", "vit", "mlp", "cnn"]
# A sequential scenario stops taking samples once this many seconds have gone by.
TIME_BUDGET_SECONDS = 60.0


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does per round (and how much data it sets up)."""

    log_batch_requests: int = 20
    log_metric_calls_per_client: int = 200
    history_points: int = 10_000
    history_reads: int = 10
    search_runs: int = 5_000
    search_page_size: int = 100
    search_repeats: int = 5
    create_runs_per_client: int = 75
    mixed_iterations_per_client: int = 4


QUICK_SIZES = Sizes(
    log_batch_requests=5,
    log_metric_calls_per_client=25,
    history_points=10_000,
    history_reads=3,
    search_runs=400,
    search_page_size=10,
    search_repeats=2,
    create_runs_per_client=10,
    mixed_iterations_per_client=1,
)


@dataclass(frozen=True)
class Target:
    """A server under test: its name, port and database.

    ``analyze``: run ``ANALYZE`` on the server's database after each scenario's data setup,
    as autovacuum would within a minute on a real server. Without it the planner sees the
    freshly loaded tables as empty and may pick plans no long-running server would use.
    """

    name: str
    port: int
    database: str = ""
    analyze: bool = True
    # With authentication on (``--auth``): the workload's user, and the admin who creates
    # workspaces and grants that user a permission in them. None: send no credentials.
    auth: tuple[str, str] | None = None
    admin_auth: tuple[str, str] | None = None

    def client(self, workspace: str | None = None) -> Client:
        """A new connection to this server (optionally sending ``X-MLFLOW-WORKSPACE``)."""
        return Client(self.port, workspace, auth=self.auth)

    def admin_client(self) -> Client:
        """A connection with the admin's credentials (the workload's own without auth)."""
        return Client(self.port, auth=self.admin_auth or self.auth)


@dataclass
class Measurement:
    """The result of one scenario on one server in one round."""

    value: float
    detail: dict[str, float] = field(default_factory=dict)
    check: str = ""
    notes: list[str] = field(default_factory=list)


def fingerprint(items: list[Any]) -> str:
    """A short stable digest of ``items`` (for comparing results across servers)."""
    return hashlib.sha1(json.dumps(items).encode(), usedforsecurity=False).hexdigest()[:12]


def create_experiment(client: Client, name: str, tags: dict[str, str] | None = None) -> str:
    """Create an experiment and return its id."""
    reply = client.call("POST", EXPERIMENTS_CREATE, create_experiment_body(name, tags))
    return str(reply["experiment_id"])


def create_run(client: Client, experiment_id: str, name: str, start_time: int) -> str:
    """Create a run and return its id."""
    reply = client.call("POST", RUNS_CREATE, create_run_body(experiment_id, name, start_time))
    return str(reply["run"]["info"]["run_id"])


def run_parallel(tasks: list[Callable[[], list[float]]]) -> tuple[float, list[float]]:
    """Run ``tasks`` in threads released together; return wall seconds and all latencies."""
    barrier = threading.Barrier(len(tasks) + 1)
    results: list[list[float]] = [[] for _ in tasks]
    errors: list[BaseException] = []

    def work(index: int, task: Callable[[], list[float]]) -> None:
        """Wait for the start signal, then run one task and keep its latencies."""
        barrier.wait()
        try:
            results[index] = task()
        except BaseException as exc:  # re-raised on the main thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(i, task), daemon=True) for i, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, [latency for result in results for latency in result]


def repeat_timed(count: int, operation: Callable[[], object], notes: list[str]) -> list[float]:
    """Time ``operation`` ``count`` times, stopping early once ``TIME_BUDGET_SECONDS`` is spent.

    Stopping early keeps a pathologically slow server from stalling the whole benchmark; the
    note says how many samples were taken.
    """
    latencies: list[float] = []
    deadline = time.perf_counter() + TIME_BUDGET_SECONDS
    for _ in range(count):
        started = time.perf_counter()
        operation()
        latencies.append(time.perf_counter() - started)
        if time.perf_counter() > deadline and len(latencies) < count:
            notes.append(f"time budget spent: {len(latencies)} of {count} samples")
            break
    return latencies


def timed_posts(client: Client, path: str, bodies: list[bytes]) -> list[float]:
    """POST each pre-encoded body in turn; return each request's latency in seconds."""
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        client.send("POST", path, body)
        latencies.append(time.perf_counter() - started)
    return latencies


def ms(seconds: float) -> float:
    """Seconds to milliseconds."""
    return seconds * 1000.0


class Scenario:
    """Base class: per-server prepared state, a name, a unit and which direction is better."""

    name = ""
    title = ""
    unit = ""
    higher_is_better = False

    def __init__(self, sizes: Sizes) -> None:
        """Keep the sizes; prepared state is kept per target name."""
        self.sizes = sizes
        self.state: dict[str, dict[str, Any]] = {}

    def ensure_prepared(self, target: Target) -> dict[str, Any]:
        """Prepare data on ``target`` once and return the state made for it."""
        if target.name not in self.state:
            started = time.perf_counter()
            state = self.prepare(target)
            if target.analyze and target.database:
                analyze_database(target.database)
            state["setup_seconds"] = time.perf_counter() - started
            self.state[target.name] = state
        return self.state[target.name]

    def prepare(self, target: Target) -> dict[str, Any]:
        """Create the data this scenario needs on ``target`` (untimed); return state."""
        return {}

    def run(self, target: Target, round_no: int) -> Measurement:
        """Measure once on ``target``."""
        raise NotImplementedError


class LogBatch(Scenario):
    """Sequential log-batch requests (980 metrics + 10 params + 10 tags), each to a new run."""

    name = "log-batch"
    title = "log-batch 980m+10p+10t"
    unit = "ms/req"

    def prepare(self, target: Target) -> dict[str, Any]:
        """One experiment for every round's runs."""
        return {"experiment_id": create_experiment(target.client(), "bench-log-batch")}

    def run(self, target: Target, round_no: int) -> Measurement:
        """Create runs (untimed), then time one log-batch per run."""
        state = self.ensure_prepared(target)
        client = target.client()
        count = self.sizes.log_batch_requests + 1
        run_ids = [
            create_run(client, state["experiment_id"], f"batch-r{round_no}-{i}", BASE_TIME_MS + i)
            for i in range(count)
        ]
        bodies = [encode(log_batch_body(run_id, LOG_BATCH_ROWS)) for run_id in run_ids]
        timed_posts(client, LOG_BATCH, bodies[:1])  # warm-up
        notes: list[str] = []
        pending = iter(bodies[1:])
        latencies = repeat_timed(
            len(bodies) - 1, lambda: client.send("POST", LOG_BATCH, next(pending)), notes
        )
        median = statistics.median(latencies)
        result = Measurement(
            value=ms(median),
            detail={"min_ms": ms(min(latencies)), "entities_per_s": 1000 / median},
            notes=notes,
        )
        result.check, note = verify_batch_run(client, run_ids[-1], LOG_BATCH_ROWS)
        if note:
            result.notes.append(note)
        return result


def verify_batch_run(client: Client, run_id: str, rows: BatchRows) -> tuple[str, str]:
    """Read a logged run back: ``(fingerprint, note)``; the note says why it could not."""
    try:
        data = client.call("GET", RUNS_GET, query=get_run_query(run_id))["run"].get("data", {})
    except (ApiError, KeyError) as exc:
        return "", f"log-batch not verified: {exc}"
    counts = [len(data.get(part, [])) for part in ("metrics", "params", "tags")]
    expected_keys = len({key for key, *_ in rows.metrics})
    if counts[0] != expected_keys or counts[1] != len(rows.params):
        return "", f"log-batch run reads back {counts} (metrics, params, tags)"
    return f"{counts[0]}m/{counts[1]}p/{counts[2]}t", ""


class LogMetric(Scenario):
    """Single log-metric calls from 4 concurrent clients, each to its own run."""

    name = "log-metric"
    title = "log-metric, 4 clients"
    unit = "req/s"
    higher_is_better = True

    def prepare(self, target: Target) -> dict[str, Any]:
        """One experiment for every round's runs."""
        return {"experiment_id": create_experiment(target.client(), "bench-log-metric")}

    def run(self, target: Target, round_no: int) -> Measurement:
        """Create one run per client (untimed), then time all clients logging together."""
        state = self.ensure_prepared(target)
        calls = self.sizes.log_metric_calls_per_client
        clients = [target.client() for _ in range(CLIENTS)]
        bodies = []
        for c, client in enumerate(clients):
            run_id = create_run(
                client, state["experiment_id"], f"metric-r{round_no}-c{c}", BASE_TIME_MS
            )
            bodies.append(
                [
                    encode(
                        log_metric_body(
                            run_id, "loss", value_at(step, c), BASE_TIME_MS + step, step
                        )
                    )
                    for step in range(calls + 2)
                ]
            )
        for client, client_bodies in zip(clients, bodies, strict=True):
            timed_posts(client, LOG_METRIC, client_bodies[:2])  # warm-up
        elapsed, latencies = run_parallel(
            [
                partial(timed_posts, client, LOG_METRIC, client_bodies[2:])
                for client, client_bodies in zip(clients, bodies, strict=True)
            ]
        )
        return Measurement(
            value=len(latencies) / elapsed,
            detail={"p50_ms": ms(statistics.median(latencies)), "requests": len(latencies)},
        )


class GetHistory(Scenario):
    """get-history of one 10,000-point metric, as ``MlflowClient.get_metric_history`` reads it."""

    name = "get-history"
    unit = "ms/read"

    def __init__(self, sizes: Sizes) -> None:
        """Name the history length in the title."""
        super().__init__(sizes)
        self.title = f"get-history {sizes.history_points:,} points"

    def prepare(self, target: Target) -> dict[str, Any]:
        """Log the history through log-batch requests of 1000 points."""
        client = target.client()
        experiment_id = create_experiment(client, "bench-get-history")
        run_id = create_run(client, experiment_id, "history", BASE_TIME_MS)
        points = self.sizes.history_points
        for first in range(0, points, 1000):
            rows = BatchRows(
                metrics=[
                    ("loss", value_at(step, 7), BASE_TIME_MS + step, step)
                    for step in range(first, min(first + 1000, points))
                ],
                params=[],
                tags=[],
            )
            client.call("POST", LOG_BATCH, log_batch_body(run_id, rows))
        return {"run_id": run_id}

    def read(self, client: Client, run_id: str) -> list[dict[str, Any]]:
        """Read the whole history, following ``next_page_token`` as the client does."""
        metrics: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            reply = client.call("GET", GET_HISTORY, query=history_query(run_id, "loss", token))
            metrics.extend(reply.get("metrics", []))
            token = reply.get("next_page_token")
            if not token:
                return metrics

    def run(self, target: Target, round_no: int) -> Measurement:
        """Time whole-history reads; check the point count."""
        run_id = self.ensure_prepared(target)["run_id"]
        client = target.client()
        metrics = self.read(client, run_id)  # warm-up
        notes: list[str] = []
        latencies = repeat_timed(self.sizes.history_reads, lambda: self.read(client, run_id), notes)
        result = Measurement(
            value=ms(statistics.median(latencies)),
            detail={"min_ms": ms(min(latencies))},
            notes=notes,
        )
        if len(metrics) != self.sizes.history_points:
            result.notes.append(f"get-history returned {len(metrics)} points")
        steps = sorted(int(m["step"]) for m in metrics)
        result.check = f"{len(metrics)}pts/{fingerprint(steps)}"
        return result


class SearchRuns(Scenario):
    """runs/search with a metrics+params filter and order_by over 5,000 runs, three pages."""

    name = "search-runs"
    unit = "ms/3 pages"

    def __init__(self, sizes: Sizes) -> None:
        """Name the run count and page size in the title."""
        super().__init__(sizes)
        self.title = f"search-runs {sizes.search_runs:,} runs, 3x{sizes.search_page_size}"

    def prepare(self, target: Target) -> dict[str, Any]:
        """Create the runs from 4 clients: runs/create + one log-batch each."""
        experiment_id = create_experiment(target.client(), "bench-search-runs")
        total = self.sizes.search_runs

        def create_runs(offset: int) -> list[float]:
            """Create every CLIENTS-th run starting at ``offset``."""
            client = target.client()
            for i in range(offset, total, CLIENTS):
                run_id = create_run(client, experiment_id, f"search-{i:05d}", BASE_TIME_MS + i)
                rows = BatchRows(
                    metrics=[
                        ("accuracy", value_at(i, 1), BASE_TIME_MS + i, 0),
                        # unique per run, so the order is fully determined on both servers
                        ("loss", ((i * 7919) % total) / total, BASE_TIME_MS + i, 0),
                    ],
                    params=[
                        ("model", MODELS[i % len(MODELS)]),
                        ("lr", f"{0.001 * (1 + i % 10):.3f}"),
                        ("batch_size", str(2 ** (4 + i % 4))),
                    ],
                    tags=[],
                )
                client.send("POST", LOG_BATCH, encode(log_batch_body(run_id, rows)))
            return []

        print(f"    creating {total} runs on {target.name} for search-runs...", flush=True)
        run_parallel([partial(create_runs, offset) for offset in range(CLIENTS)])
        return {"experiment_id": experiment_id}

    def search(self, client: Client, experiment_id: str) -> list[str]:
        """Fetch three pages; return the run names in order."""
        names: list[str] = []
        token: str | None = None
        for page in range(SEARCH_PAGES):
            body = search_runs_body(
                [experiment_id], SEARCH_FILTER, SEARCH_ORDER_BY, self.sizes.search_page_size, token
            )
            reply = client.call("POST", RUNS_SEARCH, body)
            names.extend(run["info"]["run_name"] for run in reply.get("runs", []))
            token = reply.get("next_page_token")
            if not token and page < SEARCH_PAGES - 1:
                raise ApiError(f"runs/search page {page + 1} has no next_page_token")
        return names

    def run(self, target: Target, round_no: int) -> Measurement:
        """Time the three-page search; fingerprint the names."""
        experiment_id = self.ensure_prepared(target)["experiment_id"]
        client = target.client()
        names = self.search(client, experiment_id)  # warm-up
        notes: list[str] = []
        latencies = repeat_timed(
            self.sizes.search_repeats, lambda: self.search(client, experiment_id), notes
        )
        result = Measurement(
            value=ms(statistics.median(latencies)),
            detail={"min_ms": ms(min(latencies)), "runs_returned": len(names)},
            check=f"{len(names)}runs/{fingerprint(names)}",
            notes=notes,
        )
        if len(names) != SEARCH_PAGES * self.sizes.search_page_size:
            result.notes.append(f"search returned {len(names)} runs over {SEARCH_PAGES} pages")
        return result


class CreateRun(Scenario):
    """runs/create throughput from 4 concurrent clients (with the client's default tags)."""

    name = "create-run"
    title = "create-run, 4 clients"
    unit = "runs/s"
    higher_is_better = True

    def prepare(self, target: Target) -> dict[str, Any]:
        """One experiment for every round's runs."""
        return {"experiment_id": create_experiment(target.client(), "bench-create-run")}

    def run(self, target: Target, round_no: int) -> Measurement:
        """Time all clients creating runs together."""
        experiment_id = self.ensure_prepared(target)["experiment_id"]
        count = self.sizes.create_runs_per_client
        clients = [target.client() for _ in range(CLIENTS)]
        bodies = [
            [
                encode(
                    create_run_body(experiment_id, f"create-r{round_no}-c{c}-{i}", BASE_TIME_MS + i)
                )
                for i in range(count + 1)
            ]
            for c in range(CLIENTS)
        ]
        for client, client_bodies in zip(clients, bodies, strict=True):
            timed_posts(client, RUNS_CREATE, client_bodies[:1])  # warm-up
        elapsed, latencies = run_parallel(
            [
                partial(timed_posts, client, RUNS_CREATE, client_bodies[1:])
                for client, client_bodies in zip(clients, bodies, strict=True)
            ]
        )
        return Measurement(
            value=len(latencies) / elapsed,
            detail={"p50_ms": ms(statistics.median(latencies)), "requests": len(latencies)},
        )


class MixedWorkspaces(Scenario):
    """4 clients, one per workspace, each running a small tracking session loop.

    One iteration (20 requests): create an experiment, get it; three times create a run,
    log-batch (20 metrics, 5 params, 2 tags), log-metric twice, update it to FINISHED; get the
    last run, read one metric's history, search the workspace's runs of this round.
    """

    name = "mixed-workspaces"
    title = "mixed load, 4 workspaces"
    unit = "req/s"
    higher_is_better = True

    def prepare(self, target: Target) -> dict[str, Any]:
        """Create the four workspaces (under auth as admin, then grant the user in each)."""
        client = target.admin_client()
        for name in WORKSPACE_NAMES:
            client.call("POST", WORKSPACES, {"name": name, "description": "bench"}, expect=201)
            if target.auth is not None and target.admin_auth is not None:
                grant = {"username": target.auth[0], "permission": AUTH_WORKSPACE_PERMISSION}
                client.call("POST", f"{WORKSPACES}/{name}/permissions", grant)
        return {}

    def session(self, client: Client, round_no: int, c: int) -> list[float]:
        """Run this client's iterations; return per-request latencies."""
        latencies: list[float] = []

        def call(method: str, path: str, payload: Any = None, query: Any = None) -> Any:
            """One timed request."""
            started = time.perf_counter()
            reply = client.call(method, path, payload, query)
            latencies.append(time.perf_counter() - started)
            return reply

        experiment_ids: list[str] = []
        for it in range(self.sizes.mixed_iterations_per_client):
            body = create_experiment_body(f"mixed-r{round_no}-c{c}-{it}", {"team": str(c)})
            experiment_id = str(call("POST", EXPERIMENTS_CREATE, body)["experiment_id"])
            experiment_ids.append(experiment_id)
            call("GET", EXPERIMENTS_GET, query={"experiment_id": experiment_id})
            run_id = ""
            for r in range(3):
                name = f"mixed-{it}-{r}"
                reply = call(
                    "POST", RUNS_CREATE, create_run_body(experiment_id, name, BASE_TIME_MS)
                )
                run_id = reply["run"]["info"]["run_id"]
                rows = BatchRows(
                    metrics=[
                        (key, value_at(step + r, c), BASE_TIME_MS + step, step)
                        for step in range(10)
                        for key in ("loss", "acc")
                    ],
                    params=[(f"p{p}", "adam" if p == 0 else str(p * r)) for p in range(5)],
                    tags=[("stage", "dev"), ("owner", f"client-{c}")],
                )
                call("POST", LOG_BATCH, log_batch_body(run_id, rows))
                for step in (10, 11):
                    metric = log_metric_body(run_id, "loss", 0.1 * r, BASE_TIME_MS + step, step)
                    call("POST", LOG_METRIC, metric)
                call(
                    "POST", RUNS_UPDATE, update_run_body(run_id, "FINISHED", BASE_TIME_MS + 60_000)
                )
            call("GET", RUNS_GET, query=get_run_query(run_id))
            call("GET", GET_HISTORY, query=history_query(run_id, "loss"))
            search = search_runs_body(
                experiment_ids,
                "metrics.loss < 0.5 and params.p0 = 'adam'",
                ["metrics.loss ASC"],
                50,
            )
            call("POST", RUNS_SEARCH, search)
        return latencies

    def run(self, target: Target, round_no: int) -> Measurement:
        """Time the four workspace sessions running together."""
        self.ensure_prepared(target)
        clients = [target.client(workspace) for workspace in WORKSPACE_NAMES]
        for client in clients:  # warm-up: resolves each workspace once, opens the connection
            client.request("GET", EXPERIMENTS_GET, query={"experiment_id": "0"})
        elapsed, latencies = run_parallel(
            [partial(self.session, client, round_no, c) for c, client in enumerate(clients)]
        )
        return Measurement(
            value=len(latencies) / elapsed,
            detail={"p50_ms": ms(statistics.median(latencies)), "requests": len(latencies)},
        )


ALL_SCENARIOS: list[type[Scenario]] = [
    LogBatch,
    LogMetric,
    GetHistory,
    SearchRuns,
    CreateRun,
    MixedWorkspaces,
]
SCENARIO_NAMES = [scenario.name for scenario in ALL_SCENARIOS]
