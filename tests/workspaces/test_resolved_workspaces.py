"""A process remembers the workspaces requests name for MLFLOW_WORKSPACE_CACHE_SECONDS.

Changes made through this process are seen by its next request; a deletion made elsewhere
(here: the row deleted directly, as another process would) is seen within the bound, and
until then nothing can be read from or created in the deleted workspace.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ApiClient
from workspaces.models import Workspace

WS = "/api/3.0/mlflow/workspaces"
EXPERIMENTS = "/api/2.0/mlflow/experiments"
MODELS = "/api/2.0/mlflow/registered-models"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def workspace_queries(api: ApiClient, *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """The response, and how many queries look a workspace up (joins don't count)."""
    with CaptureQueriesContext(connection) as captured:
        response = api.call(*args, **kwargs)
    lookup = f"FROM {connection.ops.quote_name(Workspace._meta.db_table)} WHERE"
    return response, sum(lookup in query["sql"] for query in captured.captured_queries)


def search_experiments(api: ApiClient) -> tuple[Any, int]:
    return workspace_queries(
        api, "POST", f"{EXPERIMENTS}/search", {"max_results": 10}, workspace="team-a"
    )


def test_a_second_request_reads_no_workspace(api: ApiClient, team_a: Workspace) -> None:
    first, first_reads = search_experiments(api)
    second, second_reads = search_experiments(api)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first_reads, second_reads) == (1, 0)


def test_without_a_bound_every_request_reads_the_workspace(
    api: ApiClient, team_a: Workspace, settings: Any
) -> None:
    settings.MLFLOW_WORKSPACE_CACHE_SECONDS = 0
    search_experiments(api)

    _, reads = search_experiments(api)

    assert reads == 1


def test_an_update_is_seen_by_the_next_request(api: ApiClient, team_a: Workspace) -> None:
    search_experiments(api)
    updated = api.call("PATCH", f"{WS}/team-a", {"default_artifact_root": "mlflow-artifacts:/new"})

    created = api.call("POST", f"{EXPERIMENTS}/create", {"name": "e"}, workspace="team-a")
    experiment_id = created.json()["experiment_id"]
    got = api.call(
        "GET", f"{EXPERIMENTS}/get", query={"experiment_id": experiment_id}, workspace="team-a"
    )

    assert updated.status_code == 200
    assert got.json()["experiment"]["artifact_location"] == f"mlflow-artifacts:/new/{experiment_id}"


def test_a_deletion_is_seen_by_the_next_request(api: ApiClient, team_a: Workspace) -> None:
    search_experiments(api)
    deleted = api.call("DELETE", f"{WS}/team-a")

    response, _ = search_experiments(api)

    assert deleted.status_code == 204
    assert response.status_code == 404
    assert response.json()["message"] == "Workspace 'team-a' not found"


def test_a_workspace_deleted_elsewhere_shows_nothing_and_takes_no_new_roots(
    api: ApiClient, team_a: Workspace
) -> None:
    search_experiments(api)
    Workspace.objects.filter(name="team-a").delete()  # another process, within the bound

    listed, _ = search_experiments(api)
    experiment = api.call("POST", f"{EXPERIMENTS}/create", {"name": "e"}, workspace="team-a")
    model = api.call("POST", f"{MODELS}/create", {"name": "m"}, workspace="team-a")
    after, _ = search_experiments(api)

    assert (listed.status_code, listed.json()) == (200, {})
    for refused in (experiment, model):
        assert refused.status_code == 404
        assert refused.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert refused.json()["message"] == "Workspace 'team-a' not found"
    # the refused create forgot the workspace: the next request reads it again
    assert after.status_code == 404


def test_a_workspace_deleted_elsewhere_takes_no_new_artifact(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    search_experiments(api)
    Workspace.objects.filter(name="team-a").delete()  # another process, within the bound

    refused = api.generic(
        "PUT",
        f"{ARTIFACTS}/scratch/late.txt",
        b"too late",
        content_type="application/octet-stream",
        headers={"X-MLFLOW-WORKSPACE": "team-a"},
    )

    assert refused.status_code == 404
    assert refused.json()["message"] == "Workspace 'team-a' not found"
    assert not (artifact_root / "workspaces/team-a").exists()


def test_a_deletion_elsewhere_is_seen_after_the_bound(
    api: ApiClient, team_a: Workspace, settings: Any
) -> None:
    settings.MLFLOW_WORKSPACE_CACHE_SECONDS = 1
    search_experiments(api)
    Workspace.objects.filter(name="team-a").delete()  # another process

    time.sleep(1.05)
    response, reads = search_experiments(api)

    assert (response.status_code, reads) == (404, 1)


@pytest.mark.parametrize("name", ["team-b", "default"])
def test_remembered_workspaces_stay_apart(api: ApiClient, team_a: Workspace, name: str) -> None:
    Workspace.objects.get_or_create(name=name)
    api.call("POST", f"{EXPERIMENTS}/create", {"name": "only-in-a"}, workspace="team-a")
    search_experiments(api)

    other = api.call("POST", f"{EXPERIMENTS}/search", {"max_results": 10}, workspace=name)
    mine, _ = search_experiments(api)

    assert "only-in-a" not in [e["name"] for e in other.json().get("experiments", [])]
    assert [e["name"] for e in mine.json()["experiments"]] == ["only-in-a"]
