"""The real ``mlflow`` client (mlflow-skinny 3.17.2) against a live server of ours.

Retries are off and the timeout short, so a 5xx fails a test in seconds instead of minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from workspaces.models import Workspace


@pytest.fixture
def mlflow_client(
    live_server: Any, default_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The ``mlflow`` module pointed at the live server, with no active workspace."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    monkeypatch.delenv("MLFLOW_WORKSPACE", raising=False)
    import mlflow
    from mlflow.tracking import fluent
    from mlflow.utils import server_info

    def reset() -> None:
        """Forget the client's process-wide state: workspace, active run and experiment."""
        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        mlflow.set_workspace(None)
        server_info._SERVER_INFO_CACHE.clear()  # each test sees this server's current settings

    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    mlflow.set_tracking_uri(live_server.url)
    reset()
    try:
        yield mlflow
    finally:
        reset()
