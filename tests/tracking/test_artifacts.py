"""The artifact endpoints through Django's test client: the proxy, run listings, the UI's
routes, multipart/presigned answers and workspace confinement. spec: tracking.md §7,
workspaces.md §6.2, examples/artifacts/*.json, examples/workspaces/artifact_root_override.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from workspaces.models import Workspace

PREFIXES = ["/api", "/ajax-api"]
PROXY = "2.0/mlflow-artifacts/artifacts"
INVALID_PATH = {
    "error_code": "INVALID_PARAMETER_VALUE",
    "message": "Invalid path",
    "sqlstate": "KAM00",
    "error_class": "INVALID_PARAMETER_VALUE",
}


def invalid(message: str) -> dict[str, str]:
    return {**INVALID_PATH, "message": message}


def not_found(message: str) -> dict[str, str]:
    return {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": message,
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }


def make_run(workspace: Workspace, location: str | None = None) -> Any:
    """A run whose artifact URI follows the server's layout (or ``location``'s)."""
    experiment = ExperimentFactory(
        workspace=workspace,
        artifact_location=location or f"mlflow-artifacts:/workspaces/{workspace.name}/5",
    )
    return RunFactory(experiment=experiment)


def run_key(run: Any) -> str:
    """The run's artifact root as a proxy path (what the client puts in URLs)."""
    return str(run.artifact_uri).removeprefix("mlflow-artifacts:/")


def put(
    api: ApiClient,
    path: str,
    data: bytes,
    workspace: str | None = "team-a",
    prefix: str = "/api",
    content_type: str = "application/octet-stream",
) -> Any:
    headers = {} if workspace is None else {"X-MLFLOW-WORKSPACE": workspace}
    return api.put(
        f"{prefix}/{PROXY}/{path}", data=data, content_type=content_type, headers=headers
    )


def listing(
    api: ApiClient, path: str | None = None, workspace: str = "team-a", prefix: str = "/api"
) -> Any:
    query = {} if path is None else {"path": path}
    return api.call("GET", f"{prefix}/{PROXY}", workspace=workspace, query=query)


def download(api: ApiClient, path: str, workspace: str = "team-a", prefix: str = "/api") -> Any:
    return api.call("GET", f"{prefix}/{PROXY}/{path}", workspace=workspace)


def content(response: Any) -> bytes:
    """The streamed body. The test client closes the response (and the artifact file) once
    the stream is exhausted, without the request_finished signal closing the database."""
    return b"".join(response.streaming_content)


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


# --- the proxy: PUT, GET, list, DELETE --------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_put_stores_the_file_below_the_workspace_and_answers_empty(
    api: ApiClient, team_a: Workspace, artifact_root: Path, prefix: str
) -> None:
    # spec: examples/artifacts/proxy_raw_operations.json
    response = put(api, "scratch/raw.bin", b"\x00\x01\x02rawbytes", prefix=prefix)

    assert response.status_code == 200
    assert response.content == b""
    stored = artifact_root / "workspaces/team-a/scratch/raw.bin"
    assert stored.read_bytes() == b"\x00\x01\x02rawbytes"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_put_overwrites_an_existing_file(
    api: ApiClient, team_a: Workspace, artifact_root: Path, prefix: str
) -> None:
    put(api, "scratch/a.txt", b"first version", prefix=prefix)

    response = put(api, "scratch/a.txt", b"second", prefix=prefix)

    assert response.status_code == 200
    assert (artifact_root / "workspaces/team-a/scratch/a.txt").read_bytes() == b"second"
    assert files_under(artifact_root) == {"workspaces/team-a/scratch/a.txt"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_get_streams_the_file_with_type_and_disposition(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    put(api, "scratch/raw.bin", b"\x00\x01\x02rawbytes")

    response = download(api, "scratch/raw.bin", prefix=prefix)

    assert response.status_code == 200
    assert response.streaming
    assert content(response) == b"\x00\x01\x02rawbytes"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename=raw.bin"
    assert response["Content-Length"] == "11"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("hello.txt", "text/plain"),
        ("data.json", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("MLmodel", "text/plain"),
        ("picture.png", "image/png"),
        ("model.pkl", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_proxy_get_guesses_the_content_type_as_mlflow_does(
    api: ApiClient, team_a: Workspace, name: str, content_type: str
) -> None:
    put(api, f"types/{name}", b"x")

    response = download(api, f"types/{name}")
    content(response)

    assert response["Content-Type"] == content_type


def test_proxy_get_quotes_unusual_and_non_ascii_file_names(
    api: ApiClient, team_a: Workspace
) -> None:
    put(api, "names/my file.txt", b"x")
    put(api, "names/h\u00e9llo.txt", b"y")

    spaced = download(api, "names/my file.txt")
    content(spaced)
    accented = download(api, "names/h%C3%A9llo.txt")

    assert spaced["Content-Disposition"] == 'attachment; filename="my file.txt"'
    assert accented["Content-Disposition"] == (
        "attachment; filename=hello.txt; filename*=UTF-8''h%C3%A9llo.txt"
    )
    assert content(accented) == b"y"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_get_of_a_missing_file_names_the_storage_path(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    response = download(api, "scratch/missing.bin", prefix=prefix)

    assert response.status_code == 404
    assert response.json() == not_found("No such artifact: 'workspaces/team-a/scratch/missing.bin'")


def test_proxy_get_of_a_directory_is_refused(api: ApiClient, team_a: Workspace) -> None:
    put(api, "scratch/raw.bin", b"x")

    response = download(api, "scratch")

    # differs from reference: FastAPI's {"detail": ...} there; MLflow's error body here.
    assert response.status_code == 400
    assert response.json() == invalid(
        "Artifact path refers to a directory, not a file: 'workspaces/team-a/scratch'"
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_list_of_the_workspace_root_shows_its_folders(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    # spec: examples/artifacts/proxy_raw_operations.json
    run = make_run(team_a)
    put(api, f"{run_key(run)}/hello.txt", b"hello world\n")

    root = listing(api, prefix=prefix)
    folder = listing(api, "5", prefix=prefix)

    assert root.status_code == 200
    assert root.json() == {"files": [{"path": "5", "is_dir": True}]}
    assert folder.json() == {"files": [{"path": run.run_uuid, "is_dir": True}]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_list_gives_basenames_sorted_with_sizes_for_files(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    # spec: examples/artifacts/list_via_proxy.json
    run = make_run(team_a)
    put(api, f"{run_key(run)}/hello.txt", b"hello world\n")
    put(api, f"{run_key(run)}/bundle/hello.txt", b"hello world\n")
    put(api, f"{run_key(run)}/bundle/sub/data.json", b'{"a": 1}\n')

    top = listing(api, run_key(run), prefix=prefix)
    bundle = listing(api, f"{run_key(run)}/bundle", prefix=prefix)

    assert top.json() == {
        "files": [
            {"path": "bundle", "is_dir": True},
            {"path": "hello.txt", "is_dir": False, "file_size": 12},
        ]
    }
    assert bundle.json() == {
        "files": [
            {"path": "hello.txt", "is_dir": False, "file_size": 12},
            {"path": "sub", "is_dir": True},
        ]
    }


def test_proxy_list_accepts_a_trailing_slash(api: ApiClient, team_a: Workspace) -> None:
    put(api, "scratch/raw.bin", b"raw")

    response = listing(api, "scratch/")

    assert response.json() == {"files": [{"path": "raw.bin", "is_dir": False, "file_size": 3}]}


@pytest.mark.parametrize("path", ["scratch/nothing-here", "scratch/raw.bin"])
def test_proxy_list_of_a_missing_folder_or_a_file_is_empty(
    api: ApiClient, team_a: Workspace, path: str
) -> None:
    # spec: examples/artifacts/proxy_raw_operations.json, download_file.json
    put(api, "scratch/raw.bin", b"raw")

    response = listing(api, path)

    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_proxy_delete_removes_a_file(
    api: ApiClient, team_a: Workspace, artifact_root: Path, prefix: str
) -> None:
    put(api, "scratch/raw.bin", b"raw")

    response = api.call("DELETE", f"{prefix}/{PROXY}/scratch/raw.bin", workspace="team-a")

    assert response.status_code == 200
    assert response.json() == {}
    assert listing(api, "scratch").json() == {}
    assert files_under(artifact_root) == set()


def test_proxy_delete_removes_a_whole_tree(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    put(api, "tree/a.txt", b"a")
    put(api, "tree/sub/b.txt", b"b")
    put(api, "keep.txt", b"k")

    response = api.call("DELETE", f"/api/{PROXY}/tree", workspace="team-a")

    assert response.json() == {}
    assert files_under(artifact_root) == {"workspaces/team-a/keep.txt"}


def test_proxy_delete_of_a_missing_path_is_no_error(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("DELETE", f"/api/{PROXY}/nothing/here.txt", workspace="team-a")

    assert response.status_code == 200
    assert response.json() == {}


def test_proxy_put_onto_a_directory_is_refused(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    put(api, "scratch/raw.bin", b"raw")

    response = put(api, "scratch", b"x")

    assert response.status_code == 400
    assert response.json() == invalid(
        "Artifact path refers to a directory, not a file: 'workspaces/team-a/scratch'"
    )
    assert files_under(artifact_root) == {"workspaces/team-a/scratch/raw.bin"}


def test_proxy_put_below_a_file_is_refused(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    put(api, "scratch/raw.bin", b"raw")

    response = put(api, "scratch/raw.bin/inner.txt", b"x")

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert files_under(artifact_root) == {"workspaces/team-a/scratch/raw.bin"}


def test_proxy_methods_other_than_get_put_delete_are_405(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"/api/{PROXY}/scratch/raw.bin", {}, workspace="team-a")

    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"


# --- the rewriting table (workspaces.md §6.2) -------------------------------------------------


def test_proxy_path_with_the_own_workspace_prefix_is_used_verbatim(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    put(api, "workspaces/team-a/scratch/x.txt", b"x")

    response = listing(api, "workspaces/team-a/scratch")

    assert response.json() == {"files": [{"path": "x.txt", "is_dir": False, "file_size": 1}]}
    assert files_under(artifact_root) == {"workspaces/team-a/scratch/x.txt"}


def test_proxy_path_naming_another_workspace_is_refused(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    # spec: examples/artifacts/proxy_workspace_isolation.json
    response = listing(api, "workspaces/team-b/5")

    assert response.status_code == 400
    assert response.json() == invalid(
        "Artifact path targets workspace 'team-b' but the workspace specified in the request "
        "is 'team-a'."
    )


def test_proxy_download_of_a_workspace_path_from_default_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/artifacts/proxy_workspace_isolation.json
    run = make_run(team_a)
    put(api, f"{run_key(run)}/hello.txt", b"hello world\n")

    response = download(api, f"{run_key(run)}/hello.txt", workspace="default")

    assert response.status_code == 400
    assert response.json() == invalid(
        "Artifact path targets workspace 'team-a' but the workspace specified in the request "
        "is 'default'."
    )


@pytest.mark.parametrize("path", ["workspaces", "workspaces/"])
@pytest.mark.parametrize("workspace", ["default", "team-a"])
def test_proxy_listing_the_workspaces_folder_itself_is_refused(
    api: ApiClient, team_a: Workspace, path: str, workspace: str
) -> None:
    response = listing(api, path, workspace=workspace)

    assert response.status_code == 400
    assert response.json() == invalid(
        "Artifact paths prefixed with 'workspaces/' must include a workspace name."
    )


def test_default_workspace_keeps_legacy_paths_at_the_root(
    api: ApiClient, artifact_root: Path
) -> None:
    response = put(api, "0/abc/artifacts/model.pkl", b"legacy", workspace=None)

    assert response.status_code == 200
    assert (artifact_root / "0/abc/artifacts/model.pkl").read_bytes() == b"legacy"
    assert content(download(api, "0/abc/artifacts/model.pkl", workspace="default")) == b"legacy"


def test_default_root_listing_never_names_other_workspaces(
    api: ApiClient, team_a: Workspace
) -> None:
    put(api, "secret/x.txt", b"x")  # team-a's tree exists under workspaces/
    put(api, "legacy.txt", b"l", workspace="default")
    put(api, "workspaces/default/0/r/artifacts/a.txt", b"a", workspace="default")

    root = listing(api, workspace="default")
    own = listing(api, "workspaces/default", workspace="default")

    assert root.json() == {"files": [{"path": "legacy.txt", "is_dir": False, "file_size": 1}]}
    assert own.json() == {"files": [{"path": "0", "is_dir": True}]}


def test_workspace_artifact_root_override_lands_below_the_workspace(
    api: ApiClient, artifact_root: Path
) -> None:
    # spec: examples/workspaces/artifact_root_override.json
    team_c = WorkspaceFactory(name="team-c", default_artifact_root="mlflow-artifacts:/custom-root")
    run = make_run(team_c, "mlflow-artifacts:/custom-root/8")

    uploaded = put(api, f"custom-root/8/{run.run_uuid}/artifacts/f.txt", b"rooted", "team-c")
    listed = api.call(
        "GET", "/api/2.0/mlflow/artifacts/list", workspace="team-c", query={"run_id": run.run_uuid}
    )

    assert uploaded.status_code == 200
    assert files_under(artifact_root) == {
        f"workspaces/team-c/custom-root/8/{run.run_uuid}/artifacts/f.txt"
    }
    assert listed.json() == {
        "root_uri": f"mlflow-artifacts:/custom-root/8/{run.run_uuid}/artifacts",
        "files": [{"path": "f.txt", "is_dir": False, "file_size": 6}],
    }


def test_proxy_paths_are_not_rewritten_without_workspaces(
    api: ApiClient, settings: Any, artifact_root: Path
) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False

    response = put(api, "1/r/artifacts/x.txt", b"x", workspace=None)

    assert response.status_code == 200
    assert files_under(artifact_root) == {"1/r/artifacts/x.txt"}


# --- path checks through the test client (the wire tests repeat them over HTTP) ---------------


@pytest.mark.parametrize(
    "path",
    [
        "../../etc",
        "..",
        "a/../b",
        "./a",
        ".",
        "/etc",
        "//etc",
        "a//b",
        "%2e%2e/etc",
        "%252e%252e/etc",
        "a\\..\\b",
        "a\x00b",
        "a#b",
        "C:\\Windows",
        "C:/Windows",
        "./workspaces",
        "%2e/workspaces",
        "workspaces//",
        "workspaces//team-b",
        ".upload-0123456789abcdef0123456789abcdef.part",
        "x" * 256,
    ],
)
@pytest.mark.parametrize("workspace", ["default", "team-a"])
def test_proxy_list_refuses_unsafe_paths(
    api: ApiClient, team_a: Workspace, path: str, workspace: str
) -> None:
    # spec: examples/artifacts/proxy_path_traversal.json
    response = listing(api, path, workspace=workspace)

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


# --- 2.0/mlflow/artifacts/list ----------------------------------------------------------------


@pytest.fixture
def run_with_files(api: ApiClient, team_a: Workspace) -> Any:
    run = make_run(team_a)
    for name, data in [
        ("hello.txt", b"hello world\n"),
        ("bundle/hello.txt", b"hello world\n"),
        ("bundle/sub/data.json", b'{"a": 1}'),
        ("cfg/config.json", b'{"x": 1}'),
        ("notes/readme.md", b"some text"),
    ]:
        assert put(api, f"{run_key(run)}/{name}", data).status_code == 200
    return run


def list_run(api: ApiClient, prefix: str = "/api", workspace: str = "team-a", **query: Any) -> Any:
    return api.call("GET", f"{prefix}/2.0/mlflow/artifacts/list", workspace=workspace, query=query)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_run_artifact_list_gives_run_relative_paths(
    api: ApiClient, run_with_files: Any, prefix: str
) -> None:
    # spec: examples/artifacts/list_tracking_api.json
    root_uri = run_with_files.artifact_uri

    top = list_run(api, prefix, run_id=run_with_files.run_uuid)
    bundle = list_run(api, prefix, run_id=run_with_files.run_uuid, path="bundle")

    assert top.json() == {
        "root_uri": root_uri,
        "files": [
            {"path": "bundle", "is_dir": True},
            {"path": "cfg", "is_dir": True},
            {"path": "hello.txt", "is_dir": False, "file_size": 12},
            {"path": "notes", "is_dir": True},
        ],
    }
    assert bundle.json() == {
        "root_uri": root_uri,
        "files": [
            {"path": "bundle/hello.txt", "is_dir": False, "file_size": 12},
            {"path": "bundle/sub", "is_dir": True},
        ],
    }


def test_run_artifact_list_accepts_run_uuid(api: ApiClient, run_with_files: Any) -> None:
    response = list_run(api, run_uuid=run_with_files.run_uuid, path="cfg")

    assert response.json()["files"] == [
        {"path": "cfg/config.json", "is_dir": False, "file_size": 8}
    ]


@pytest.mark.parametrize("path", ["hello.txt", "missing"])
def test_run_artifact_list_of_a_file_or_missing_folder_is_only_the_root(
    api: ApiClient, run_with_files: Any, path: str
) -> None:
    response = list_run(api, run_id=run_with_files.run_uuid, path=path)

    assert response.json() == {"root_uri": run_with_files.artifact_uri}


@pytest.mark.parametrize("path", ["../other", "..", "/etc", "a/../../b", "%2e%2e", "./x", "a#b"])
def test_run_artifact_list_refuses_traversal(
    api: ApiClient, run_with_files: Any, path: str
) -> None:
    # spec: examples/artifacts/list_tracking_api.json
    response = list_run(api, run_id=run_with_files.run_uuid, path=path)

    assert response.status_code == 400
    assert response.json() == INVALID_PATH


def test_run_artifact_list_needs_a_run_id(api: ApiClient, team_a: Workspace) -> None:
    response = list_run(api)

    assert response.status_code == 400
    assert response.json() == invalid(
        "Missing value for required parameter 'run_id'. "
        "See the API docs for more information about request parameters."
    )


def test_run_artifact_list_of_another_workspaces_run_is_not_found(
    api: ApiClient, run_with_files: Any, team_b: Workspace
) -> None:
    response = list_run(api, workspace="team-b", run_id=run_with_files.run_uuid)

    assert response.status_code == 404
    assert response.json() == not_found(f"Run with id={run_with_files.run_uuid} not found")


def test_run_artifact_list_of_a_run_whose_root_names_another_workspace_is_refused(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    # a run moved to team-b keeps its URI; the proxy still confines it to team-b's tree
    run = make_run(team_b, "mlflow-artifacts:/workspaces/team-a/5")

    response = list_run(api, workspace="team-b", run_id=run.run_uuid)

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_run_artifact_list_of_a_local_root_is_not_served(api: ApiClient, team_a: Workspace) -> None:
    run = make_run(team_a, "/etc")

    response = list_run(api, run_id=run.run_uuid)

    assert response.status_code == 400
    assert response.json() == invalid(
        f"This server does not serve artifacts stored at '/etc/{run.run_uuid}/artifacts'; "
        "read them from that location directly."
    )


def test_run_artifact_list_queries_do_not_grow_with_files(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any
) -> None:
    one = make_run(team_a)
    three = make_run(team_a)
    put(api, f"{run_key(one)}/a.txt", b"a")
    for name in ("a.txt", "b.txt", "c.txt"):
        put(api, f"{run_key(three)}/{name}", b"x")

    # run
    with django_assert_num_queries(1):
        first = list_run(api, run_id=one.run_uuid)
    with django_assert_num_queries(1):
        second = list_run(api, run_id=three.run_uuid)

    assert (len(first.json()["files"]), len(second.json()["files"])) == (1, 3)


def test_proxy_list_queries_do_not_grow_with_files(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: Any
) -> None:
    put(api, "one/a.txt", b"a")
    for name in ("a.txt", "b.txt", "c.txt"):
        put(api, f"three/{name}", b"x")

    # none: the workspace is remembered from the set-up requests; the proxy never reads runs
    with django_assert_num_queries(0):
        first = listing(api, "one")
    with django_assert_num_queries(0):
        second = listing(api, "three")

    assert (len(first.json()["files"]), len(second.json()["files"])) == (1, 3)


# --- /get-artifact and /model-versions/get-artifact -------------------------------------------


def get_artifact(api: ApiClient, workspace: str = "team-a", **query: Any) -> Any:
    return api.call("GET", "/get-artifact", workspace=workspace, query=query)


def test_get_artifact_streams_a_run_file(api: ApiClient, run_with_files: Any) -> None:
    # spec: examples/artifacts/get_artifact_route.json
    response = get_artifact(api, run_id=run_with_files.run_uuid, path="hello.txt")

    assert response.status_code == 200
    assert content(response) == b"hello world\n"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == "attachment; filename=hello.txt"


def test_get_artifact_accepts_run_uuid_and_nested_paths(
    api: ApiClient, run_with_files: Any
) -> None:
    response = get_artifact(api, run_uuid=run_with_files.run_uuid, path="bundle/sub/data.json")

    assert content(response) == b'{"a": 1}'


def test_get_artifact_of_a_missing_file_is_not_found(api: ApiClient, run_with_files: Any) -> None:
    response = get_artifact(api, run_id=run_with_files.run_uuid, path="nope.txt")

    assert response.status_code == 404
    assert response.json() == not_found(f"No such artifact: '{run_key(run_with_files)}/nope.txt'")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../x", "%2e%2e/x", "a\\b"])
def test_get_artifact_refuses_traversal(api: ApiClient, run_with_files: Any, path: str) -> None:
    response = get_artifact(api, run_id=run_with_files.run_uuid, path=path)

    assert response.status_code == 400
    assert response.json() == INVALID_PATH


def test_get_artifact_of_another_workspaces_run_is_not_found(
    api: ApiClient, run_with_files: Any, team_b: Workspace
) -> None:
    response = get_artifact(api, "team-b", run_id=run_with_files.run_uuid, path="hello.txt")

    assert response.status_code == 404
    assert response.json() == not_found(f"Run with id={run_with_files.run_uuid} not found")


def test_get_artifact_needs_a_path(api: ApiClient, run_with_files: Any) -> None:
    response = get_artifact(api, run_id=run_with_files.run_uuid)

    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing value for required parameter 'path'")


# --- ajax-api/2.0/mlflow/upload-artifact ------------------------------------------------------

UPLOAD = "/ajax-api/2.0/mlflow/upload-artifact"


def ui_upload(
    api: ApiClient, data: bytes, workspace: str = "team-a", url: str = UPLOAD, **query: str
) -> Any:
    from urllib.parse import urlencode

    return api.post(
        f"{url}?{urlencode(query)}",
        data=data,
        content_type="text/plain",
        headers={"X-MLFLOW-WORKSPACE": workspace},
    )


def test_ui_upload_stores_below_the_run_root(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/artifacts/ajax_upload_artifact.json
    run = make_run(team_a)

    response = ui_upload(api, b"from ui", run_uuid=run.run_uuid, path="ui/upload.txt")

    assert response.status_code == 200
    assert response.content == b""
    assert list_run(api, run_id=run.run_uuid, path="ui").json() == {
        "root_uri": run.artifact_uri,
        "files": [{"path": "ui/upload.txt", "is_dir": False, "file_size": 7}],
    }


def test_ui_upload_exists_only_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    run = make_run(team_a)

    response = ui_upload(
        api, b"x", url="/api/2.0/mlflow/upload-artifact", run_uuid=run.run_uuid, path="a.txt"
    )

    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"path": "a.txt"}, "Request must specify run_uuid."),
        ({"run_uuid": "RUN"}, "Request must specify path."),
    ],
)
def test_ui_upload_needs_run_and_path(
    api: ApiClient, team_a: Workspace, query: dict[str, str], message: str
) -> None:
    run = make_run(team_a)
    query = {key: run.run_uuid if value == "RUN" else value for key, value in query.items()}

    response = ui_upload(api, b"x", **query)

    assert response.status_code == 400
    assert response.json() == invalid(message)


def test_ui_upload_needs_data(api: ApiClient, team_a: Workspace) -> None:
    run = make_run(team_a)

    response = ui_upload(api, b"", run_uuid=run.run_uuid, path="a.txt")

    assert response.status_code == 400
    assert response.json() == invalid("Request must specify data.")


def test_ui_upload_refuses_more_than_ten_megabytes(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    run = make_run(team_a)

    response = ui_upload(api, b"x" * (10 * 1024 * 1024 + 1), run_uuid=run.run_uuid, path="a.bin")

    assert response.status_code == 400
    assert response.json() == invalid("Artifact size is too large. Max size is 10MB.")
    assert files_under(artifact_root) == set()


def test_ui_upload_refuses_traversal(
    api: ApiClient, team_a: Workspace, artifact_root: Path
) -> None:
    run = make_run(team_a)

    response = ui_upload(api, b"x", run_uuid=run.run_uuid, path="../../../escape.txt")

    assert response.status_code == 400
    assert response.json() == INVALID_PATH
    assert files_under(artifact_root) == set()


def test_ui_upload_to_another_workspaces_run_is_not_found(
    api: ApiClient, team_a: Workspace, team_b: Workspace, artifact_root: Path
) -> None:
    run = make_run(team_a)

    response = ui_upload(api, b"x", "team-b", run_uuid=run.run_uuid, path="a.txt")

    assert response.status_code == 404
    assert response.json() == not_found(f"Run with id={run.run_uuid} not found")
    assert files_under(artifact_root) == set()


# --- multipart and presigned ------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("stage", "body"),
    [
        ("create", {"path": "big.bin", "num_parts": 2}),
        ("complete", {"path": "big.bin", "upload_id": "u", "parts": [{"part_number": 1}]}),
        ("abort", {"path": "big.bin", "upload_id": "u"}),
    ],
)
def test_multipart_upload_is_not_implemented(
    api: ApiClient, team_a: Workspace, prefix: str, stage: str, body: dict[str, Any]
) -> None:
    # spec: examples/artifacts/multipart_and_presigned_unsupported.json
    response = api.call(
        "POST",
        f"{prefix}/2.0/mlflow-artifacts/mpu/{stage}/scratch/big.bin",
        body,
        workspace="team-a",
    )

    assert response.status_code == 501
    assert response.json() == {
        "error_code": "NOT_IMPLEMENTED",
        "message": "Multipart upload is not supported for the current artifact repository",
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_presigned_download_is_not_implemented(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    # spec: examples/artifacts/multipart_and_presigned_unsupported.json
    response = api.call(
        "GET", f"{prefix}/2.0/mlflow-artifacts/presigned/scratch/raw.bin", workspace="team-a"
    )

    assert response.status_code == 501
    assert response.json() == {
        "error_code": "NOT_IMPLEMENTED",
        "message": "Multipart download is not supported for the current artifact repository",
    }


@pytest.mark.parametrize(
    "route", ["mpu/create/workspaces/team-b/x.bin", "presigned/workspaces/team-b/x.bin"]
)
def test_multipart_and_presigned_paths_are_checked_first(
    api: ApiClient, team_a: Workspace, team_b: Workspace, route: str
) -> None:
    method, body = ("POST", {"path": "x.bin"}) if route.startswith("mpu") else ("GET", None)

    response = api.call(method, f"/api/2.0/mlflow-artifacts/{route}", body, workspace="team-a")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Artifact path targets workspace 'team-b'")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_presigned_upload_url_for_a_proxied_run_is_refused(
    api: ApiClient, team_a: Workspace, prefix: str
) -> None:
    # spec: examples/artifacts/multipart_and_presigned_unsupported.json
    run = make_run(team_a)

    response = api.call(
        "POST",
        f"{prefix}/2.0/mlflow/artifacts/presigned-upload-url",
        {"run_id": run.run_uuid, "path": "x.txt"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid(
        "Presigned upload is not supported for proxied artifact storage (artifact URI scheme: "
        "mlflow-artifacts). This endpoint requires a direct cloud storage artifact URI."
    )


def test_presigned_download_url_for_a_proxied_run_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    run = make_run(team_a)

    response = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-download-url",
        {"run_id": run.run_uuid, "path": "x.txt"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid(
        "Presigned download is not supported for runs with proxied artifact storage (artifact "
        "URI scheme: mlflow-artifacts). This endpoint requires a run with a direct cloud "
        "storage artifact URI."
    )


@pytest.mark.parametrize("body", [{"path": "x"}, {"run_id": "r", "model_id": "m", "path": "x"}])
def test_presigned_upload_url_needs_exactly_one_of_run_and_model(
    api: ApiClient, team_a: Workspace, body: dict[str, str]
) -> None:
    response = api.call(
        "POST", "/api/2.0/mlflow/artifacts/presigned-upload-url", body, workspace="team-a"
    )

    assert response.status_code == 400
    assert response.json() == invalid("Exactly one of run_id and model_id must be provided.")


def test_presigned_download_url_checks_the_expiration(api: ApiClient, team_a: Workspace) -> None:
    run = make_run(team_a)

    response = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-download-url",
        {"run_id": run.run_uuid, "path": "x.txt", "expiration": 0},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == invalid("expiration must be between 1 and 604800 seconds (got 0).")


def test_presigned_urls_of_another_workspaces_run_are_not_found(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    run = make_run(team_a)

    response = api.call(
        "POST",
        "/api/2.0/mlflow/artifacts/presigned-download-url",
        {"run_id": run.run_uuid, "path": "x.txt"},
        workspace="team-b",
    )

    assert response.status_code == 404
    assert response.json() == not_found(f"Run with id={run.run_uuid} not found")


# --- cross-workspace: nothing of team-b is reachable from team-a ------------------------------


def test_two_workspaces_cannot_reach_each_others_artifacts(
    api: ApiClient, team_a: Workspace, team_b: Workspace, artifact_root: Path
) -> None:
    run_b = make_run(team_b)
    put(api, f"{run_key(run_b)}/secret.txt", b"team-b secret", workspace="team-b")
    before = files_under(artifact_root)
    secret = f"{run_key(run_b)}/secret.txt"

    answers = [
        download(api, secret),
        put(api, secret, b"overwritten"),
        api.call("DELETE", f"/api/{PROXY}/{secret}", workspace="team-a"),
        listing(api, run_key(run_b)),
        list_run(api, run_id=run_b.run_uuid),
        get_artifact(api, run_id=run_b.run_uuid, path="secret.txt"),
        ui_upload(api, b"x", run_uuid=run_b.run_uuid, path="secret.txt"),
    ]
    same_names = [download(api, "5/secret.txt"), listing(api, "5"), listing(api)]

    assert [answer.status_code for answer in answers] == [400, 400, 400, 400, 404, 404, 404]
    assert [answer.status_code for answer in same_names] == [404, 200, 200]
    assert listing(api).json() == {}
    assert files_under(artifact_root) == before
    assert (artifact_root / f"{run_key(run_b)}/secret.txt").read_bytes() == b"team-b secret"


def test_a_symlink_leading_out_of_the_root_is_refused(
    api: ApiClient, team_a: Workspace, artifact_root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"outside the root")
    folder = artifact_root / "workspaces/team-a"
    folder.mkdir(parents=True)
    (folder / "link").symlink_to(outside)

    answers = [
        download(api, "link/secret.txt"),
        listing(api, "link"),
        put(api, "link/planted.txt", b"x"),
        api.call("DELETE", f"/api/{PROXY}/link/secret.txt", workspace="team-a"),
    ]

    assert [(answer.status_code, answer.json()) for answer in answers] == [(400, INVALID_PATH)] * 4
    assert sorted(path.name for path in outside.iterdir()) == ["secret.txt"]


def test_artifact_destination_setting_maps_to_a_storage(tmp_path: Path) -> None:
    from config.settings import artifacts_storage

    s3 = artifacts_storage("s3://bucket/some/prefix/", {"endpoint_url": "http://s3.local"})
    local = artifacts_storage(f"file://{tmp_path}", {})

    assert s3 == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": "http://s3.local",
            "bucket_name": "bucket",
            "location": "some/prefix",
        },
    }
    assert local == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "allow_overwrite": True},
    }
