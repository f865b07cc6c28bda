"""Request bodies exactly as the MLflow 3.17 Python client sends them, and deterministic data.

Every value here is a pure function of its inputs, so both servers receive byte-identical
workloads (apart from the run ids each server generates). Paths and body shapes follow
``/work/shared/spec/client-calls.md`` and the recorded examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API = "/api/2.0/mlflow"
EXPERIMENTS_CREATE = f"{API}/experiments/create"
EXPERIMENTS_GET = f"{API}/experiments/get"
RUNS_CREATE = f"{API}/runs/create"
RUNS_GET = f"{API}/runs/get"
RUNS_UPDATE = f"{API}/runs/update"
RUNS_SEARCH = f"{API}/runs/search"
LOG_METRIC = f"{API}/runs/log-metric"
LOG_BATCH = f"{API}/runs/log-batch"
GET_HISTORY = f"{API}/metrics/get-history"
WORKSPACES = "/api/3.0/mlflow/workspaces"
SERVER_INFO = "/api/3.0/mlflow/server-info"

BASE_TIME_MS = 1_700_000_000_000
USER = "bench"
# The client's get_metric_history asks for this page size and follows next_page_token.
HISTORY_PAGE = 25_000


@dataclass(frozen=True)
class BatchRows:
    """The rows of one log-batch: metrics ``(key, value, timestamp, step)``, params, tags."""

    metrics: list[tuple[str, float, int, int]]
    params: list[tuple[str, str]]
    tags: list[tuple[str, str]]


def value_at(index: int, salt: int = 0) -> float:
    """A deterministic pseudo-random value in ``[0, 1)`` (a multiplicative hash)."""
    return ((index * 2_654_435_761 + salt * 40_503) % 1_000_003) / 1_000_003


def batch_rows(metrics: int, keys: int, params: int, tags: int) -> BatchRows:
    """Rows of a training-loop style batch: ``keys`` metric keys over ``metrics/keys`` steps."""
    steps = metrics // keys
    return BatchRows(
        metrics=[
            (f"metric_{k:03d}", value_at(s * keys + k), BASE_TIME_MS + s, s)
            for s in range(steps)
            for k in range(keys)
        ],
        params=[(f"param_{p:02d}", f"value-{p}") for p in range(params)],
        tags=[(f"tag_{t:02d}", f"tag-value-{t}") for t in range(tags)],
    )


def log_batch_body(run_id: str, rows: BatchRows) -> dict[str, Any]:
    """``POST runs/log-batch`` as ``MlflowClient.log_batch`` sends it."""
    body: dict[str, Any] = {"run_id": run_id}
    if rows.metrics:
        body["metrics"] = [
            {"key": k, "value": v, "timestamp": ts, "step": step}
            for (k, v, ts, step) in rows.metrics
        ]
    if rows.params:
        body["params"] = [{"key": k, "value": v} for (k, v) in rows.params]
    if rows.tags:
        body["tags"] = [{"key": k, "value": v} for (k, v) in rows.tags]
    return body


def create_experiment_body(name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """``POST experiments/create`` as ``mlflow.create_experiment`` sends it."""
    body: dict[str, Any] = {"name": name}
    if tags:
        body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return body


def create_run_body(experiment_id: str, run_name: str, start_time: int) -> dict[str, Any]:
    """``POST runs/create`` as ``mlflow.start_run`` sends it (with the client's default tags)."""
    return {
        "experiment_id": experiment_id,
        "user_id": USER,
        "run_name": run_name,
        "start_time": start_time,
        "tags": [
            {"key": "mlflow.user", "value": USER},
            {"key": "mlflow.source.name", "value": "bench/train.py"},
            {"key": "mlflow.source.type", "value": "LOCAL"},
            {"key": "mlflow.runName", "value": run_name},
        ],
    }


def log_metric_body(
    run_id: str, key: str, value: float, timestamp: int, step: int
) -> dict[str, Any]:
    """``POST runs/log-metric`` as ``mlflow.log_metric`` sends it."""
    return {
        "run_uuid": run_id,
        "key": key,
        "value": value,
        "timestamp": timestamp,
        "step": step,
        "run_id": run_id,
    }


def update_run_body(run_id: str, status: str, end_time: int) -> dict[str, Any]:
    """``POST runs/update`` as the end of a ``with mlflow.start_run()`` block sends it."""
    return {"run_uuid": run_id, "status": status, "end_time": end_time, "run_id": run_id}


def get_run_query(run_id: str) -> dict[str, Any]:
    """Query of ``GET runs/get`` as the client builds it."""
    return {"run_uuid": run_id, "run_id": run_id}


def history_query(run_id: str, key: str, page_token: str | None = None) -> dict[str, Any]:
    """Query of ``GET metrics/get-history`` as ``MlflowClient.get_metric_history`` builds it."""
    query: dict[str, Any] = {
        "run_uuid": run_id,
        "metric_key": key,
        "run_id": run_id,
        "max_results": HISTORY_PAGE,
    }
    if page_token:
        query["page_token"] = page_token
    return query


def search_runs_body(
    experiment_ids: list[str],
    filter_string: str,
    order_by: list[str],
    max_results: int,
    page_token: str | None = None,
) -> dict[str, Any]:
    """``POST runs/search`` as ``MlflowClient.search_runs`` sends it."""
    body: dict[str, Any] = {
        "experiment_ids": experiment_ids,
        "run_view_type": "ACTIVE_ONLY",
        "filter": filter_string,
        "max_results": max_results,
        "order_by": order_by,
    }
    if page_token:
        body["page_token"] = page_token
    return body
