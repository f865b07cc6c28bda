"""Artifacts with the real client (mlflow-skinny 3.17.2) against a live server: logging,
listing and downloading through the ``mlflow-artifacts`` proxy on local and on S3 storage
(moto in server mode), and two workspaces that cannot see each other's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)


def file_tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A folder with nested files to log."""
    folder = tmp_path / "source"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "top.txt").write_bytes(b"top level\n")
    (folder / "sub" / "data.json").write_bytes(b'{"a": 1}')
    (folder / "sub" / "deeper" / "weights.bin").write_bytes(bytes(range(256)) * 64)
    return folder


def log_everything(mlflow: Any, source: Path, workspace: str = "team-a") -> str:
    """Create ``workspace`` and log files the five usual ways; returns the run id."""
    mlflow.create_workspace(workspace)
    mlflow.set_workspace(workspace)
    mlflow.set_experiment("artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source / "top.txt"))
        mlflow.log_artifact(str(source / "top.txt"), artifact_path="single")
        mlflow.log_artifacts(str(source), artifact_path="bundle")
        mlflow.log_text("some text", "notes/readme.md")
        mlflow.log_dict({"x": 1}, "cfg/config.json")
    return str(run.info.run_id)


def paths(infos: list[Any]) -> list[tuple[str, bool, int | None]]:
    return [(info.path, info.is_dir, info.file_size) for info in infos]


def exercise(mlflow: Any, run_id: str, tmp_path: Path, source: Path) -> None:
    """List and download the logged files every way the client offers, and check them."""
    from mlflow import MlflowClient

    client = MlflowClient()

    assert paths(client.list_artifacts(run_id)) == [
        ("bundle", True, None),
        ("cfg", True, None),
        ("notes", True, None),
        ("single", True, None),
        ("top.txt", False, 10),
    ]
    artifact_uri = mlflow.get_run(run_id).info.artifact_uri
    assert paths(mlflow.artifacts.list_artifacts(artifact_uri=f"{artifact_uri}/bundle/sub")) == [
        ("sub/data.json", False, 8),
        ("sub/deeper", True, None),
    ]
    assert mlflow.artifacts.list_artifacts(artifact_uri=f"{artifact_uri}/top.txt") == []

    folder = Path(client.download_artifacts(run_id, "bundle", str(tmp_path / "one")))
    single = Path(client.download_artifacts(run_id, "top.txt", str(tmp_path / "two")))
    everything = Path(
        mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "three"))
    )
    by_uri = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"runs:/{run_id}/cfg/config.json", dst_path=str(tmp_path / "four")
        )
    )

    assert file_tree(folder) == file_tree(source)
    assert single.read_bytes() == b"top level\n"
    assert file_tree(everything) == {
        **{f"bundle/{name}": data for name, data in file_tree(source).items()},
        "cfg/config.json": json.dumps({"x": 1}, indent=2).encode(),
        "notes/readme.md": b"some text",
        "single/top.txt": b"top level\n",
        "top.txt": b"top level\n",
    }
    assert json.loads(by_uri.read_text()) == {"x": 1}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.md") == "some text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/cfg/config.json") == {"x": 1}


def test_client_logs_lists_and_downloads_on_local_storage(
    mlflow_client: Any, source: Path, tmp_path: Path, artifact_root: Path
) -> None:
    mlflow = mlflow_client

    run_id = log_everything(mlflow, source)

    exercise(mlflow, run_id, tmp_path, source)
    experiment_id = mlflow.get_run(run_id).info.experiment_id
    stored = artifact_root / f"workspaces/team-a/{experiment_id}/{run_id}/artifacts"
    assert file_tree(stored / "bundle") == file_tree(source)


def test_client_logs_lists_and_downloads_on_s3_storage(
    mlflow_client: Any, source: Path, tmp_path: Path, s3_artifact_storage: Any
) -> None:
    mlflow = mlflow_client

    run_id = log_everything(mlflow, source)

    exercise(mlflow, run_id, tmp_path, source)
    experiment_id = mlflow.get_run(run_id).info.experiment_id
    prefix = f"mlartifacts/workspaces/team-a/{experiment_id}/{run_id}/artifacts/"
    stored = s3_artifact_storage.list_objects_v2(Bucket="artifacts", Prefix=prefix)
    assert sorted(item["Key"].removeprefix(prefix) for item in stored["Contents"]) == [
        "bundle/sub/data.json",
        "bundle/sub/deeper/weights.bin",
        "bundle/top.txt",
        "cfg/config.json",
        "notes/readme.md",
        "single/top.txt",
        "top.txt",
    ]


def test_client_lists_a_run_sub_path_by_run_id(mlflow_client: Any, source: Path) -> None:
    from mlflow import MlflowClient

    run_id = log_everything(mlflow_client, source)

    listed = MlflowClient().list_artifacts(run_id, "bundle/sub")

    assert paths(listed) == [("bundle/sub/data.json", False, 8), ("bundle/sub/deeper", True, None)]


def test_client_round_trips_a_workspace_artifact_root_override(
    mlflow_client: Any, source: Path, tmp_path: Path, artifact_root: Path
) -> None:
    # spec: examples/workspaces/artifact_root_override.json
    mlflow = mlflow_client
    mlflow.create_workspace("team-c", default_artifact_root="mlflow-artifacts:/custom-root")
    mlflow.set_workspace("team-c")
    mlflow.set_experiment("rooted")

    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source / "top.txt"))
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="top.txt", dst_path=str(tmp_path / "out")
    )

    assert run.info.artifact_uri.startswith("mlflow-artifacts:/custom-root/")
    assert Path(downloaded).read_bytes() == b"top level\n"
    assert list((artifact_root / "workspaces/team-c/custom-root").rglob("top.txt"))


def test_client_in_another_workspace_cannot_reach_the_artifacts(
    mlflow_client: Any, source: Path, tmp_path: Path
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow = mlflow_client
    run_id = log_everything(mlflow, source)
    artifact_uri = mlflow.get_run(run_id).info.artifact_uri
    mlflow.create_workspace("team-b")
    mlflow.set_workspace("team-b")
    client = MlflowClient()
    target = tmp_path / "downloads"
    target.mkdir()

    with pytest.raises(MlflowException) as listing:
        client.list_artifacts(run_id)
    with pytest.raises(MlflowException) as download:
        client.download_artifacts(run_id, "top.txt", str(target))
    with pytest.raises(requests.HTTPError) as by_uri:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{artifact_uri}/top.txt", dst_path=str(target)
        )

    assert listing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert download.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    refusal = by_uri.value.response
    assert refusal is not None
    assert refusal.status_code == 400
    assert refusal.json()["message"] == (
        "Artifact path targets workspace 'team-a' but the workspace specified in the request "
        "is 'team-b'."
    )
    assert list(target.rglob("*")) == []
