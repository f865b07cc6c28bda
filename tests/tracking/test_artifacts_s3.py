"""The artifact proxy on S3 storage (moto in server mode over HTTP), and runs whose root is an
``s3://`` URI. spec: tracking.md §7, workspaces.md §6."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from workspaces.models import Workspace

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def keys(s3: Any, prefix: str = "") -> list[str]:
    answer = s3.list_objects_v2(Bucket="artifacts", Prefix=prefix)
    return sorted(item["Key"] for item in answer.get("Contents", ()))


def put(api: ApiClient, path: str, data: bytes, workspace: str = "team-a") -> Any:
    return api.put(
        f"{PROXY}/{path}",
        data=data,
        content_type="application/octet-stream",
        headers={"X-MLFLOW-WORKSPACE": workspace},
    )


def listing(api: ApiClient, path: str | None = None, workspace: str = "team-a") -> Any:
    return api.call("GET", PROXY, workspace=workspace, query={} if path is None else {"path": path})


def content(response: Any) -> bytes:
    """The streamed body. The test client closes the response (and the artifact file) once
    the stream is exhausted, without the request_finished signal closing the database."""
    return b"".join(response.streaming_content)


def test_s3_put_stores_an_object_below_the_prefix_and_workspace(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    response = put(api, "scratch/raw.bin", b"\x00\x01\x02rawbytes")

    assert response.status_code == 200
    assert response.content == b""
    assert keys(s3_artifact_storage) == ["mlartifacts/workspaces/team-a/scratch/raw.bin"]
    stored = s3_artifact_storage.get_object(
        Bucket="artifacts", Key="mlartifacts/workspaces/team-a/scratch/raw.bin"
    )
    assert stored["Body"].read() == b"\x00\x01\x02rawbytes"


def test_s3_get_streams_the_object(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "scratch/hello.txt", b"hello world\n")

    response = api.call("GET", f"{PROXY}/scratch/hello.txt", workspace="team-a")

    assert response.status_code == 200
    assert response.streaming
    assert content(response) == b"hello world\n"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == "attachment; filename=hello.txt"
    assert response["Content-Length"] == "12"


def test_s3_get_of_a_missing_object_or_a_folder(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "scratch/raw.bin", b"raw")

    missing = api.call("GET", f"{PROXY}/scratch/missing.bin", workspace="team-a")
    folder = api.call("GET", f"{PROXY}/scratch", workspace="team-a")

    assert missing.status_code == 404
    assert missing.json()["message"] == (
        "No such artifact: 'workspaces/team-a/scratch/missing.bin'"
    )
    assert folder.status_code == 400
    assert folder.json()["message"] == (
        "Artifact path refers to a directory, not a file: 'workspaces/team-a/scratch'"
    )


def test_s3_list_gives_basenames_and_empty_for_files_and_missing_folders(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "run/hello.txt", b"hello world\n")
    put(api, "run/bundle/sub/data.json", b"{}")

    top = listing(api, "run")
    root = listing(api)
    of_a_file = listing(api, "run/hello.txt")
    missing = listing(api, "nothing")

    assert top.json() == {
        "files": [
            {"path": "bundle", "is_dir": True},
            {"path": "hello.txt", "is_dir": False, "file_size": 12},
        ]
    }
    assert root.json() == {"files": [{"path": "run", "is_dir": True}]}
    assert (of_a_file.json(), missing.json()) == ({}, {})


def test_s3_delete_removes_a_file_or_a_tree(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "tree/a.txt", b"a")
    put(api, "tree/sub/b.txt", b"b")
    put(api, "treehouse.txt", b"keep: shares the prefix 'tree' but is no child")

    one = api.call("DELETE", f"{PROXY}/tree/a.txt", workspace="team-a")
    tree = api.call("DELETE", f"{PROXY}/tree", workspace="team-a")

    assert (one.json(), tree.json()) == ({}, {})
    assert keys(s3_artifact_storage) == ["mlartifacts/workspaces/team-a/treehouse.txt"]


def test_s3_default_root_listing_never_names_other_workspaces(
    api: ApiClient, team_a: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "secret.txt", b"s")
    put(api, "legacy.txt", b"l", workspace="default")

    response = listing(api, workspace="default")

    assert response.json() == {"files": [{"path": "legacy.txt", "is_dir": False, "file_size": 1}]}


def test_s3_cross_workspace_paths_are_refused_before_storage(
    api: ApiClient, team_a: Workspace, team_b: Workspace, s3_artifact_storage: Any
) -> None:
    put(api, "secret.txt", b"team-b secret", workspace="team-b")

    answers = [
        api.call("GET", f"{PROXY}/workspaces/team-b/secret.txt", workspace="team-a"),
        put(api, "workspaces/team-b/secret.txt", b"overwritten"),
        api.call("DELETE", f"{PROXY}/workspaces/team-b/secret.txt", workspace="team-a"),
        listing(api, "workspaces/team-b"),
        listing(api, "../team-b", workspace="team-a"),
    ]

    assert [answer.status_code for answer in answers] == [400] * 5
    assert keys(s3_artifact_storage) == ["mlartifacts/workspaces/team-b/secret.txt"]


def wait_for(condition: Any, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_s3_interrupted_upload_creates_no_object(
    live_server: Any, default_workspace: Workspace, s3_artifact_storage: Any
) -> None:
    WorkspaceFactory(name="team-a")
    url = urlsplit(live_server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=20)
    sock.sendall(
        (
            f"PUT {PROXY}/big/model.bin HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "X-MLFLOW-WORKSPACE: team-a\r\nContent-Length: 20000000\r\n\r\n"
        ).encode()
        + b"x" * 9_000_000  # more than one multipart part
    )

    def uploads() -> list[Any]:
        return s3_artifact_storage.list_multipart_uploads(Bucket="artifacts").get("Uploads", [])

    assert wait_for(lambda: bool(uploads()))  # the first part is on its way

    sock.close()

    assert wait_for(lambda: not uploads())  # aborted, not completed
    assert keys(s3_artifact_storage) == []


def test_s3_large_upload_round_trips_in_parts(
    live_server: Any, default_workspace: Workspace, s3_artifact_storage: Any
) -> None:
    WorkspaceFactory(name="team-a")
    data = bytes(range(256)) * (20 * 4096)  # 20 MiB: three multipart parts
    url = f"{live_server.url}{PROXY}/big/model.bin"

    uploaded = requests.put(url, data=data, headers={"X-MLFLOW-WORKSPACE": "team-a"}, timeout=60)
    downloaded = requests.get(url, headers={"X-MLFLOW-WORKSPACE": "team-a"}, timeout=60)

    assert uploaded.status_code == 200
    assert downloaded.content == data


# --- runs whose root is s3:// (a workspace's own default_artifact_root) -----------------------


@pytest.fixture
def s3_run(s3_artifact_storage: Any) -> Any:
    """A run of workspace team-s3, whose root is ``s3://artifacts/team-s3``, with two files."""
    team_s3 = WorkspaceFactory(name="team-s3", default_artifact_root="s3://artifacts/team-s3")
    experiment = ExperimentFactory(workspace=team_s3, artifact_location="s3://artifacts/team-s3/9")
    run = RunFactory(experiment=experiment)
    for name in ("model/MLmodel", "notes.txt"):
        s3_artifact_storage.put_object(
            Bucket="artifacts", Key=f"team-s3/9/{run.run_uuid}/artifacts/{name}", Body=b"12345"
        )
    return run


def test_run_list_of_an_s3_root_reads_that_bucket(api: ApiClient, s3_run: Any) -> None:
    response = api.call(
        "GET",
        "/api/2.0/mlflow/artifacts/list",
        workspace="team-s3",
        query={"run_id": s3_run.run_uuid},
    )

    assert response.json() == {
        "root_uri": s3_run.artifact_uri,
        "files": [
            {"path": "model", "is_dir": True},
            {"path": "notes.txt", "is_dir": False, "file_size": 5},
        ],
    }


def test_get_artifact_of_an_s3_root_streams_the_object(api: ApiClient, s3_run: Any) -> None:
    response = api.call(
        "GET",
        "/get-artifact",
        workspace="team-s3",
        query={"run_id": s3_run.run_uuid, "path": "model/MLmodel"},
    )

    assert response.status_code == 200
    assert content(response) == b"12345"
    assert response["Content-Type"] == "text/plain"


def test_presigned_urls_of_an_s3_root_work(api: ApiClient, s3_run: Any) -> None:
    upload = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-upload-url",
        {"run_id": s3_run.run_uuid, "path": "new.txt", "expiration": 60},
        workspace="team-s3",
    ).json()
    sent = requests.put(upload["presigned_url"], data=b"direct", timeout=10)
    download = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-download-url",
        {"run_id": s3_run.run_uuid, "path": "new.txt"},
        workspace="team-s3",
    ).json()
    fetched = requests.get(download["presigned_url"], timeout=10)

    assert sent.status_code == 200
    assert (upload["headers"], download["headers"], download["file_size"]) == ({}, {}, 6)
    assert fetched.content == b"direct"


def test_run_routes_of_an_s3_root_refuse_traversal(api: ApiClient, s3_run: Any) -> None:
    answers = [
        api.call(
            "GET",
            "/api/2.0/mlflow/artifacts/list",
            workspace="team-s3",
            query={"run_id": s3_run.run_uuid, "path": "../.."},
        ),
        api.call(
            "GET",
            "/get-artifact",
            workspace="team-s3",
            query={"run_id": s3_run.run_uuid, "path": "../../../team-x/secret"},
        ),
    ]

    assert [(a.status_code, a.json()["message"]) for a in answers] == [(400, "Invalid path")] * 2
