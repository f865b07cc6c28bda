"""Isolation over the whole route table (STYLE.md §2): team-b's resources, addressed from
team-a through every API route, are never found, never written and never listed.

Every route under ``api/`` must appear in ``CASES`` or in ``EXEMPT`` with a reason; a new
route without either fails ``test_every_api_route_has_an_isolation_case``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import ApiClient
from tracking.models import Metric, Param, RunTag
from workspaces.context import in_workspace
from workspaces.models import Workspace

A, B = "team-a", "team-b"
SECRET_NAMES = ("secret-exp-b", "secret-model-b", "secret-run-b", "secret-hook-b")


@dataclass(frozen=True)
class Case:
    """A request from team-a naming team-b's resources, and what must come back."""

    route: str
    method: str
    build: Callable[[dict[str, str]], dict[str, Any]]
    # "missing": 404 RESOURCE_DOES_NOT_EXIST; "refused": a 4xx naming no resource of team-b;
    # "listed": 200 without any of team-b's identifiers.
    expect: str = "missing"
    prefix: str = "api"  # UI-only routes answer under ajax-api/ alone


def q(**values: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda ctx: {"query": {key: value.format(**ctx) for key, value in values.items()}}


def body(**values: Any) -> Callable[[dict[str, str]], dict[str, Any]]:
    def fill(ctx: dict[str, str]) -> dict[str, Any]:
        text = json.dumps(values)
        for key, value in ctx.items():
            text = text.replace("{" + key + "}", value)
        return {"body": json.loads(text)}

    return fill


def path(template: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda ctx: {"path": template.format(**ctx)}


def both(
    *parts: Callable[[dict[str, str]], dict[str, Any]],
) -> Callable[[dict[str, str]], dict[str, Any]]:
    def build(ctx: dict[str, str]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part(ctx))
        return merged

    return build


M = "2.0/mlflow"
CASES = [
    Case(f"{M}/experiments/get", "GET", q(experiment_id="{exp}")),
    Case(f"{M}/experiments/get-by-name", "GET", q(experiment_name="secret-exp-b")),
    Case(f"{M}/experiments/update", "POST", body(experiment_id="{exp}", new_name="stolen")),
    Case(f"{M}/experiments/delete", "POST", body(experiment_id="{exp}")),
    Case(f"{M}/experiments/restore", "POST", body(experiment_id="{exp}")),
    Case(
        f"{M}/experiments/set-experiment-tag",
        "POST",
        body(experiment_id="{exp}", key="k", value="v"),
    ),
    Case(f"{M}/experiments/delete-experiment-tag", "POST", body(experiment_id="{exp}", key="team")),
    Case(f"{M}/experiments/search", "POST", body(max_results=100), "listed"),
    Case(f"{M}/runs/create", "POST", body(experiment_id="{exp}")),
    Case(f"{M}/runs/get", "GET", q(run_id="{run}")),
    Case(f"{M}/runs/update", "POST", body(run_id="{run}", status="KILLED")),
    Case(f"{M}/runs/delete", "POST", body(run_id="{run}")),
    Case(f"{M}/runs/restore", "POST", body(run_id="{run}")),
    Case(f"{M}/runs/log-parameter", "POST", body(run_id="{run}", key="p2", value="x")),
    Case(f"{M}/runs/log-metric", "POST", body(run_id="{run}", key="m2", value=1.0, timestamp=1)),
    Case(f"{M}/runs/set-tag", "POST", body(run_id="{run}", key="t2", value="x")),
    Case(f"{M}/runs/delete-tag", "POST", body(run_id="{run}", key="t")),
    Case(f"{M}/runs/log-batch", "POST", body(run_id="{run}", params=[{"key": "p3", "value": "x"}])),
    Case(f"{M}/runs/log-inputs", "POST", body(run_id="{run}", datasets=[])),
    Case(
        f"{M}/runs/outputs",
        "POST",
        body(run_id="{run}", models=[{"model_id": "{model}", "step": 0}]),
    ),
    Case(
        f"{M}/runs/log-model",
        "POST",
        body(
            run_id="{run}",
            model_json=json.dumps(
                {"artifact_path": "m", "flavors": {}, "run_id": "{run}", "utc_time_created": "x"}
            ),
        ),
    ),
    Case(f"{M}/runs/search", "POST", body(experiment_ids=["{exp}"]), "listed"),
    Case(f"{M}/metrics/get-history", "GET", q(run_id="{run}", metric_key="m")),
    Case(f"{M}/metrics/get-history-bulk-interval", "GET", q(run_ids="{run}", metric_key="m")),
    Case(f"{M}/metrics/get-history-bulk", "GET", q(run_id="{run}", metric_key="m"), "listed"),
    Case("2.0/mlflow-artifacts/artifacts", "GET", q(path="workspaces/team-b"), "refused"),
    Case(
        "2.0/mlflow-artifacts/artifacts/<artifact_path:artifact_path>",
        "GET",
        path("2.0/mlflow-artifacts/artifacts/workspaces/team-b/{exp}/{run}/artifacts/f.txt"),
        "refused",
    ),
    Case(
        "2.0/mlflow-artifacts/mpu/create/<artifact_path:artifact_path>",
        "POST",
        both(path("2.0/mlflow-artifacts/mpu/create/workspaces/team-b/x.bin"), body(path="x.bin")),
        "refused",
    ),
    Case(
        "2.0/mlflow-artifacts/mpu/complete/<artifact_path:artifact_path>",
        "POST",
        both(path("2.0/mlflow-artifacts/mpu/complete/workspaces/team-b/x.bin"), body(path="x")),
        "refused",
    ),
    Case(
        "2.0/mlflow-artifacts/mpu/abort/<artifact_path:artifact_path>",
        "POST",
        both(path("2.0/mlflow-artifacts/mpu/abort/workspaces/team-b/x.bin"), body(path="x")),
        "refused",
    ),
    Case(
        "2.0/mlflow-artifacts/presigned/<artifact_path:artifact_path>",
        "GET",
        path("2.0/mlflow-artifacts/presigned/workspaces/team-b/{exp}/{run}/artifacts/f.txt"),
        "refused",
    ),
    Case(f"{M}/artifacts/list", "GET", q(run_id="{run}")),
    Case(f"{M}/artifacts/presigned-upload-url", "POST", body(run_id="{run}", path="x.txt")),
    Case(f"{M}/artifacts/presigned-download-url", "POST", body(run_id="{run}", path="f.txt")),
    Case(f"{M}/upload-artifact", "POST", q(run_uuid="{run}", path="x.txt"), prefix="ajax-api"),
    Case(f"{M}/logged-models", "POST", body(experiment_id="{exp}")),
    Case(f"{M}/logged-models/search", "POST", body(experiment_ids=["{exp}"]), "listed"),
    Case(f"{M}/logged-models/<str:model_id>", "GET", path(f"{M}/logged-models/{{model}}")),
    Case(
        f"{M}/logged-models/<str:model_id>/params",
        "POST",
        both(
            path(f"{M}/logged-models/{{model}}/params"),
            body(model_id="{model}", params=[{"key": "a", "value": "b"}]),
        ),
    ),
    Case(
        f"{M}/logged-models/<str:model_id>/tags",
        "PATCH",
        both(path(f"{M}/logged-models/{{model}}/tags"), body(tags=[{"key": "a", "value": "b"}])),
    ),
    Case(
        f"{M}/logged-models/<str:model_id>/tags/<path:tag_key>",
        "DELETE",
        path(f"{M}/logged-models/{{model}}/tags/a"),
    ),
    Case(
        f"{M}/logged-models/<str:model_id>/artifacts/directories",
        "GET",
        path(f"{M}/logged-models/{{model}}/artifacts/directories"),
    ),
    Case(
        f"{M}/logged-models/<str:model_id>/artifacts/files",
        "GET",
        both(path(f"{M}/logged-models/{{model}}/artifacts/files"), q(artifact_file_path="MLmodel")),
        prefix="ajax-api",
    ),
    Case(f"{M}/registered-models/get", "GET", q(name="secret-model-b")),
    Case(f"{M}/registered-models/update", "PATCH", body(name="secret-model-b", description="x")),
    Case(f"{M}/registered-models/rename", "POST", body(name="secret-model-b", new_name="stolen")),
    Case(f"{M}/registered-models/delete", "DELETE", body(name="secret-model-b")),
    Case(f"{M}/registered-models/search", "GET", q(max_results="100"), "listed"),
    Case(f"{M}/registered-models/get-latest-versions", "POST", body(name="secret-model-b")),
    Case(f"{M}/registered-models/set-tag", "POST", body(name="secret-model-b", key="k", value="v")),
    Case(f"{M}/registered-models/delete-tag", "DELETE", body(name="secret-model-b", key="team")),
    Case(f"{M}/registered-models/alias", "GET", q(name="secret-model-b", alias="champ")),
    Case(f"{M}/model-versions/create", "POST", body(name="secret-model-b", source="runs:/{run}/m")),
    Case(f"{M}/model-versions/get", "GET", q(name="secret-model-b", version="1")),
    Case(
        f"{M}/model-versions/update",
        "PATCH",
        body(name="secret-model-b", version="1", description="x"),
    ),
    Case(
        f"{M}/model-versions/transition-stage",
        "POST",
        body(
            name="secret-model-b", version="1", stage="Production", archive_existing_versions=False
        ),
    ),
    Case(f"{M}/model-versions/delete", "DELETE", body(name="secret-model-b", version="1")),
    Case(f"{M}/model-versions/search", "GET", q(max_results="100"), "listed"),
    Case(f"{M}/model-versions/get-download-uri", "GET", q(name="secret-model-b", version="1")),
    Case(
        f"{M}/model-versions/set-tag",
        "POST",
        body(name="secret-model-b", version="1", key="k", value="v"),
    ),
    Case(
        f"{M}/model-versions/delete-tag",
        "DELETE",
        body(name="secret-model-b", version="1", key="t"),
    ),
    Case(f"{M}/webhooks", "GET", q(max_results="100"), "listed"),
    Case(f"{M}/webhooks/<str:webhook_id>", "GET", path(f"{M}/webhooks/{{webhook}}")),
    Case(
        f"{M}/webhooks/<str:webhook_id>/test",
        "POST",
        both(path(f"{M}/webhooks/{{webhook}}/test"), body()),
    ),
    Case(f"{M}/experiments/permissions/get", "GET", q(experiment_id="{exp}", username="nobody")),
    Case(
        f"{M}/registered-models/permissions/get", "GET", q(name="secret-model-b", username="nobody")
    ),
]

# Routes with no workspace-owned resource to leak, or whose cross-workspace case is covered by
# a case above on the same route (a second method of one route).
EXEMPT = {
    "3.0/mlflow/server-info": "reports the server's features, no workspace data",
    "3.0/mlflow/workspaces": "the workspace list itself; filtered per user under auth",
    "3.0/mlflow/workspaces/<str:workspace_name>": "workspaces are global objects",
    f"{M}/experiments/create": "creates in the request workspace; names are per workspace",
    f"{M}/registered-models/create": "creates in the request workspace; names are per workspace",
    f"{M}/users/create": "users are global (auth)",
    f"{M}/users/get": "users are global (auth)",
    f"{M}/users/list": "users are global (auth)",
    f"{M}/users/update-password": "users are global (auth)",
    f"{M}/users/update-admin": "users are global (auth)",
    f"{M}/users/delete": "users are global (auth)",
    f"{M}/experiments/permissions/create": "covered by experiments/permissions/get",
    f"{M}/experiments/permissions/update": "covered by experiments/permissions/get",
    f"{M}/experiments/permissions/delete": "covered by experiments/permissions/get",
    f"{M}/registered-models/permissions/create": "covered by registered-models/permissions/get",
    f"{M}/registered-models/permissions/update": "covered by registered-models/permissions/get",
    f"{M}/registered-models/permissions/delete": "covered by registered-models/permissions/get",
    "3.0/mlflow/workspaces/<str:workspace_name>/permissions": "names its workspace in the path",
    "3.0/mlflow/workspace-permissions": "a user's grants across workspaces (admin or self)",
}


def api_routes() -> set[str]:
    def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
        routes: set[str] = set()
        for entry in patterns:
            if isinstance(entry, URLResolver):
                routes |= walk(entry.url_patterns, prefix + str(entry.pattern))
            else:
                routes.add(prefix + str(entry.pattern))
        return routes

    return {
        r.removeprefix("api/") for r in walk(get_resolver().url_patterns) if r.startswith("api/")
    }


def test_every_api_route_has_an_isolation_case() -> None:
    covered = {case.route for case in CASES} | set(EXEMPT)

    assert sorted(api_routes() - covered) == []
    assert sorted(covered - api_routes()) == []


@pytest.fixture
def secrets_of_team_b(
    api: ApiClient, team_a: Workspace, team_b: Workspace, settings: Any
) -> dict[str, str]:
    """team-b's experiment, run (param, metric, tag, artifact), logged model and registered
    model (version 1, alias, tag), created through the API as team-b's users would."""

    def call(method: str, route: str, payload: Any = None, **kwargs: Any) -> Any:
        response = api.call(method, f"/api/{route}", payload, workspace=B, **kwargs)
        assert response.status_code == 200, (route, response.content)
        return response.json() if response.content else {}

    exp = call("POST", f"{M}/experiments/create", {"name": "secret-exp-b"})["experiment_id"]
    call(
        "POST",
        f"{M}/experiments/set-experiment-tag",
        {"experiment_id": exp, "key": "team", "value": "b"},
    )
    run = call("POST", f"{M}/runs/create", {"experiment_id": exp, "run_name": "secret-run-b"})
    run_id = run["run"]["info"]["run_id"]
    call(
        "POST",
        f"{M}/runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
            "params": [{"key": "p", "value": "v"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    )
    uploaded = api.put(
        f"/api/2.0/mlflow-artifacts/artifacts/workspaces/team-b/{exp}/{run_id}/artifacts/f.txt",
        data=b"secret",
        content_type="text/plain",
        headers={"X-MLFLOW-WORKSPACE": B},
    )
    assert uploaded.status_code == 200
    model = call("POST", f"{M}/logged-models", {"experiment_id": exp, "name": "secret-lm"})
    call("POST", f"{M}/registered-models/create", {"name": "secret-model-b"})
    call(
        "POST",
        f"{M}/registered-models/set-tag",
        {"name": "secret-model-b", "key": "team", "value": "b"},
    )
    call(
        "POST",
        f"{M}/model-versions/create",
        {"name": "secret-model-b", "source": f"runs:/{run_id}/m", "run_id": run_id},
    )
    call(
        "POST",
        f"{M}/model-versions/set-tag",
        {"name": "secret-model-b", "version": "1", "key": "t", "value": "v"},
    )
    call(
        "POST",
        f"{M}/registered-models/alias",
        {"name": "secret-model-b", "alias": "champ", "version": "1"},
    )
    settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS = True  # a loopback target, never delivered to
    hook = call(
        "POST",
        f"{M}/webhooks",
        {
            "name": "secret-hook-b",
            "url": "https://127.0.0.1:9/hook",
            "events": [{"entity": "PROMPT", "action": "CREATED"}],
        },
    )
    return {
        "exp": exp,
        "run": run_id,
        "model": model["model"]["info"]["model_id"],
        "webhook": hook["webhook"]["webhook_id"],
    }


def _state_of(workspace: Workspace) -> tuple[int, int, int]:
    with in_workspace(workspace):
        return Param.objects.count(), Metric.objects.count(), RunTag.objects.count()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.method} {case.route}")
def test_team_b_is_invisible_from_team_a(
    api: ApiClient, secrets_of_team_b: dict[str, str], team_b: Workspace, case: Case
) -> None:
    request = case.build(secrets_of_team_b)
    route = request.get("path", case.route)
    before = _state_of(team_b)

    response = api.call(
        case.method,
        f"/{case.prefix}/{route}",
        request.get("body"),
        workspace=A,
        query=request.get("query"),
    )

    text = response.content.decode(errors="replace")
    leaked = [
        secret
        for secret in (
            *SECRET_NAMES,
            secrets_of_team_b["run"],
            secrets_of_team_b["model"],
            secrets_of_team_b["webhook"],
        )
        if secret in text and case.expect == "listed"
    ]
    if case.expect == "missing":
        assert response.status_code == 404, text
        assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", text
    elif case.expect == "refused":
        assert 400 <= response.status_code < 500, text
        assert "secret" not in text
    else:
        assert response.status_code in (200, 404), text
        assert leaked == []
    assert _state_of(team_b) == before
