"""Artifacts stay readable after a move, over the wire: the moved rows' ``mlflow-artifacts:``
URIs name the target workspace and the stored files sit at the matching keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.workspaces.test_moves_support import make_experiment, make_registered_model, snapshot
from tracking.models import Run
from workspaces.context import across_workspaces
from workspaces.models import Workspace
from workspaces.moves import ARTIFACTS_PRESERVE, resources_move
from workspaces.moves.artifacts import ArtifactMove

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def upload(api: ApiClient, path: str, content: bytes, workspace: str) -> None:
    response = api.generic(
        "PUT",
        f"{PROXY}/{path}",
        content,
        content_type="application/octet-stream",
        headers={"X-MLFLOW-WORKSPACE": workspace},
    )
    assert response.status_code == 200, response.content


def download(api: ApiClient, path: str, workspace: str) -> Any:
    return api.get(f"{PROXY}/{path}", headers={"X-MLFLOW-WORKSPACE": workspace})


def proxy_path(uri: str) -> str:
    return uri.removeprefix("mlflow-artifacts:/")


@pytest.fixture
def logged_run(api: ApiClient, team_a: Workspace, team_b: Workspace) -> dict[str, str]:
    """A run of team-a, made through the API, with one artifact uploaded through the proxy."""
    experiment_id = api.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "exp"}, workspace="team-a"
    ).json()["experiment_id"]
    run = api.call(
        "POST",
        "/api/2.0/mlflow/runs/create",
        {"experiment_id": experiment_id},
        workspace="team-a",
    ).json()["run"]["info"]
    upload(api, f"{proxy_path(run['artifact_uri'])}/model.txt", b"weights", "team-a")
    return {"experiment_id": experiment_id, "run_id": run["run_id"], "uri": run["artifact_uri"]}


def test_moved_run_artifacts_are_read_from_the_new_workspace(
    api: ApiClient, logged_run: dict[str, str], artifact_root: Path
) -> None:
    run_id, experiment_id = logged_run["run_id"], logged_run["experiment_id"]

    result = resources_move(source="team-a", target="team-b", resource_type="experiments")

    run = api.call(
        "GET", "/api/2.0/mlflow/runs/get", workspace="team-b", query={"run_id": run_id}
    ).json()["run"]["info"]
    new_uri = f"mlflow-artifacts:/workspaces/team-b/{experiment_id}/{run_id}/artifacts"
    assert run["artifact_uri"] == new_uri
    listing = api.call(
        "GET", "/api/2.0/mlflow/artifacts/list", workspace="team-b", query={"run_id": run_id}
    )
    assert listing.json() == {
        "root_uri": new_uri,
        "files": [{"path": "model.txt", "is_dir": False, "file_size": 7}],
    }
    moved = download(api, f"{proxy_path(new_uri)}/model.txt", "team-b")
    assert (moved.status_code, b"".join(moved.streaming_content)) == (200, b"weights")
    ui: Any = api.get(
        "/get-artifact",
        {"run_uuid": run_id, "path": "model.txt"},
        headers={"X-MLFLOW-WORKSPACE": "team-b"},
    )
    assert b"".join(ui.streaming_content) == b"weights"
    assert result.artifacts is not None
    assert (result.artifacts.folders_moved, result.artifacts.files_copied) == (1, 1)


def test_moved_artifacts_are_gone_from_the_old_workspace(
    api: ApiClient, logged_run: dict[str, str], artifact_root: Path
) -> None:
    old_path = f"{proxy_path(logged_run['uri'])}/model.txt"

    resources_move(source="team-a", target="team-b", resource_type="experiments")

    old = download(api, old_path, "team-a")
    assert old.status_code == 404
    assert old.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert not (artifact_root / "workspaces/team-a" / logged_run["experiment_id"]).exists()
    listing = api.call("GET", PROXY, workspace="team-a", query={"path": "workspaces/team-a"})
    assert listing.json() == {}


def test_preserve_leaves_artifacts_where_the_proxy_refuses_them(
    api: ApiClient, logged_run: dict[str, str]
) -> None:
    resources_move(
        source="team-a",
        target="team-b",
        resource_type="experiments",
        artifact_policy=ARTIFACTS_PRESERVE,
    )

    listing = api.call(
        "GET",
        "/api/2.0/mlflow/artifacts/list",
        workspace="team-b",
        query={"run_id": logged_run["run_id"]},
    )
    assert listing.status_code == 400
    assert listing.json()["message"] == (
        "Artifact path targets workspace 'team-a' but the workspace specified in the request "
        "is 'team-b'."
    )


def test_files_a_staying_model_version_points_at_are_kept(
    api: ApiClient, logged_run: dict[str, str], team_a: Workspace
) -> None:
    make_registered_model(team_a, "clf", storage_location=f"{logged_run['uri']}/model.txt")
    old_path = f"{proxy_path(logged_run['uri'])}/model.txt"

    result = resources_move(source="team-a", target="team-b", resource_type="experiments")

    assert result.artifacts is not None
    assert result.artifacts.folders_kept == 1
    old = download(api, old_path, "team-a")
    assert b"".join(old.streaming_content) == b"weights"
    new = download(api, old_path.replace("team-a", "team-b"), "team-b")
    assert b"".join(new.streaming_content) == b"weights"


def test_moved_model_version_files_are_copied(
    api: ApiClient, logged_run: dict[str, str], team_a: Workspace
) -> None:
    source = f"{logged_run['uri']}/model.txt"
    make_registered_model(team_a, "clf", storage_location=source)

    result = resources_move(source="team-a", target="team-b", resource_type="registered_models")

    with across_workspaces("test assertions"):
        from registry.models import ModelVersion

        version = ModelVersion.objects.get()
    assert version.storage_location == source.replace("/team-a/", "/team-b/")
    assert version.source == version.storage_location
    copied = download(api, proxy_path(version.storage_location), "team-b")
    assert b"".join(copied.streaming_content) == b"weights"
    original = download(api, proxy_path(source), "team-a")  # the run still owns it
    assert b"".join(original.streaming_content) == b"weights"
    assert result.artifacts is not None
    assert result.artifacts.folders_copied == 1


def test_legacy_default_artifacts_move_into_the_target_tree(
    api: ApiClient, default_workspace: Workspace, team_b: Workspace, artifact_root: Path
) -> None:
    experiment = make_experiment(
        default_workspace, "legacy", artifact_location="mlflow-artifacts:/legacy-7"
    )
    with across_workspaces("test data"):
        run = Run.objects.get(experiment=experiment)
    upload(api, f"legacy-7/{run.pk}/artifacts/a.txt", b"old", "default")

    resources_move(source="default", target="team-b", resource_type="experiments", names=["legacy"])

    with across_workspaces("test assertions"):
        run.refresh_from_db()
    assert run.artifact_uri == f"mlflow-artifacts:/workspaces/team-b/legacy-7/{run.pk}/artifacts"
    moved = download(api, f"{proxy_path(run.artifact_uri)}/a.txt", "team-b")
    assert b"".join(moved.streaming_content) == b"old"
    assert not (artifact_root / "legacy-7").exists()


def test_artifacts_under_a_workspace_root_move_with_the_experiment(
    api: ApiClient, team_a: Workspace, team_b: Workspace, artifact_root: Path
) -> None:
    # A workspace root such as mlflow-artifacts:/custom lies below workspaces/<ws>/ in storage
    # (workspaces.md §6.2), so its files move too.
    team_a.default_artifact_root = "mlflow-artifacts:/custom"
    team_a.save()
    experiment_id = api.call(
        "POST", "/api/2.0/mlflow/experiments/create", {"name": "rooted"}, workspace="team-a"
    ).json()["experiment_id"]
    run = api.call(
        "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id}, workspace="team-a"
    ).json()["run"]["info"]
    assert run["artifact_uri"].startswith(f"mlflow-artifacts:/custom/{experiment_id}/")
    upload(api, f"{proxy_path(run['artifact_uri'])}/f.txt", b"rooted", "team-a")

    resources_move(source="team-a", target="team-b", resource_type="experiments")

    listing = api.call(
        "GET", "/api/2.0/mlflow/artifacts/list", workspace="team-b", query={"run_id": run["run_id"]}
    ).json()
    assert listing["root_uri"].startswith("mlflow-artifacts:/workspaces/team-b/custom/")
    assert listing["files"] == [{"path": "f.txt", "is_dir": False, "file_size": 6}]
    assert not (artifact_root / "workspaces/team-a/custom" / experiment_id).exists()


def test_failed_move_removes_its_copies_and_changes_nothing(
    api: ApiClient,
    logged_run: dict[str, str],
    artifact_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = snapshot()
    copy = ArtifactMove.copy

    def copy_then_fail(self: ArtifactMove) -> None:
        copy(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(ArtifactMove, "copy", copy_then_fail)

    with pytest.raises(KeyboardInterrupt):
        resources_move(source="team-a", target="team-b", resource_type="experiments")

    assert snapshot() == before
    assert not list((artifact_root / "workspaces").glob("team-b/**/*.txt"))
    old = download(api, f"{proxy_path(logged_run['uri'])}/model.txt", "team-a")
    assert b"".join(old.streaming_content) == b"weights"
