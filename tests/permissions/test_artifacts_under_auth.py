"""Artifacts under auth: the proxy applies the experiment in its path, the run routes the
run's experiment. spec: auth-workspace-permissions.md §12, examples/auth-3.10/
artifacts_under_auth.json (whose bugs 2 are fixed here, §16.2)."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiClient
from tests.permissions.conftest import Seed, basic, denied

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def path_of(seed: Seed, experiment: str, run: str, file: str = "notes.txt") -> str:
    workspace = seed.experiments[experiment].workspace.name
    return f"workspaces/{workspace}/{seed.exp(experiment)}/{seed.run(run)}/artifacts/{file}"


def put(api: ApiClient, who: str, path: str, data: bytes, workspace: str = "team-a") -> Any:
    return api.put(
        f"{PROXY}/{path}",
        data=data,
        content_type="application/octet-stream",
        headers={**basic(who), "X-MLFLOW-WORKSPACE": workspace},
    )


def get(api: ApiClient, who: str, path: str, workspace: str = "team-a") -> Any:
    return api.call("GET", f"{PROXY}/{path}", workspace=workspace, headers=basic(who))


def body(response: Any) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_read_downloads_and_lists_edit_uploads_manage_deletes(api: ApiClient, seed: Seed) -> None:
    path = path_of(seed, "exp-shared", "run-shared")
    put(api, "admin", path, b"hello from shared")
    folder = path.rsplit("/", 1)[0]

    downloaded = get(api, "alice", path)
    listed = api.call(
        "GET", PROXY, workspace="team-a", query={"path": folder}, headers=basic("alice")
    )
    alice_upload = put(api, "alice", path_of(seed, "exp-shared", "run-shared", "a.txt"), b"nope")
    dave_upload = put(api, "dave", path_of(seed, "exp-shared", "run-shared", "d.txt"), b"dave")
    dave_delete = api.call("DELETE", f"{PROXY}/{path}", workspace="team-a", headers=basic("dave"))
    carol_delete = api.call("DELETE", f"{PROXY}/{path}", workspace="team-a", headers=basic("carol"))

    assert downloaded.status_code == 200
    assert body(downloaded) == b"hello from shared"
    assert listed.status_code == 200
    assert {"path": "notes.txt", "is_dir": False, "file_size": 17} in listed.json()["files"]
    assert denied(alice_upload)
    assert dave_upload.status_code == 200
    assert denied(dave_delete)
    assert carol_delete.status_code == 200


def test_the_proxy_applies_explicit_experiment_rows(api: ApiClient, seed: Seed) -> None:
    secret = path_of(seed, "exp-secret", "run-secret")
    bobs = path_of(seed, "exp-bob", "run-bob")
    put(api, "admin", secret, b"hello from secret")
    put(api, "admin", bobs, b"hello from bob")

    alice_secret = get(api, "alice", secret)
    bob_download = get(api, "bob", bobs)
    bob_upload = put(api, "bob", path_of(seed, "exp-bob", "run-bob", "bob.txt"), b"x")
    bob_listing = api.call(
        "GET",
        PROXY,
        workspace="team-a",
        query={"path": bobs.rsplit("/", 1)[0]},
        headers=basic("bob"),
    )

    # differs from reference (§16.2): it lets alice read and refuses bob.
    assert denied(alice_secret)
    assert bob_download.status_code == 200
    assert body(bob_download) == b"hello from bob"
    assert bob_upload.status_code == 200
    assert bob_listing.status_code == 200


def test_run_artifact_routes_use_the_runs_experiment(api: ApiClient, seed: Seed) -> None:
    bob_list = api.call(
        "GET",
        "/api/2.0/mlflow/artifacts/list",
        workspace="team-a",
        query={"run_id": seed.run("run-bob")},
        headers=basic("bob"),
    )
    alice_list = api.call(
        "GET",
        "/api/2.0/mlflow/artifacts/list",
        workspace="team-a",
        query={"run_id": seed.run("run-secret")},
        headers=basic("alice"),
    )
    alice_ui = api.call(
        "GET",
        "/get-artifact",
        workspace="team-a",
        query={"run_id": seed.run("run-secret"), "path": "notes.txt"},
        headers=basic("alice"),
    )

    assert bob_list.status_code == 200
    assert denied(alice_list)
    assert denied(alice_ui)


def test_another_workspace_in_the_path_or_header(api: ApiClient, seed: Seed) -> None:
    other = path_of(seed, "exp-b", "run-b")

    mismatched = get(api, "alice", other, workspace="team-a")
    no_permission = get(api, "alice", other, workspace="team-b")

    assert mismatched.status_code in (400, 403)  # either way nothing of team-b is served
    assert denied(no_permission)


def test_ajax_uploads_follow_the_same_rule(api: ApiClient, seed: Seed) -> None:
    path = path_of(seed, "exp-shared", "run-shared", "x")
    response = api.put(
        f"/ajax-api/2.0/mlflow-artifacts/artifacts/{path}",
        data=b"x",
        content_type="application/octet-stream",
        headers={**basic("alice"), "X-MLFLOW-WORKSPACE": "team-a"},
    )

    assert denied(response)
