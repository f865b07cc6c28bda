"""The workspace endpoints over the wire. spec: workspaces.md §4-5, examples/workspaces/."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient
from workspaces.models import Workspace

WS = "/api/3.0/mlflow/workspaces"
PATTERN_MESSAGE = (
    "Workspace name '{}' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ "
    "(lowercase alphanumeric with optional internal hyphens)."
)


def error(code: str, message: str) -> dict[str, str]:
    sqlstate, error_class = {
        "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
        "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
        "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
        "INVALID_STATE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
        "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
        "FEATURE_DISABLED": ("KAM00", "FEATURE_DISABLED"),
    }[code]
    return {
        "error_code": code,
        "message": message,
        "sqlstate": sqlstate,
        "error_class": error_class,
    }


def test_create_workspace_answers_201_with_the_workspace(api: ApiClient) -> None:
    body = {
        "name": "team-b",
        "description": "Team B",
        "default_artifact_root": "s3://bucket/team-b",
    }

    response = api.call("POST", WS, body)

    assert response.status_code == 201
    assert response.json() == {"workspace": body}
    assert Workspace.objects.filter(name="team-b").exists()


def test_create_workspace_omits_unset_fields(api: ApiClient) -> None:
    response = api.call("POST", WS, {"name": "team-e"})

    assert (response.status_code, response.json()) == (201, {"workspace": {"name": "team-e"}})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Team_B", PATTERN_MESSAGE.format("Team_B")),
        ("team-", PATTERN_MESSAGE.format("team-")),
        ("-team", PATTERN_MESSAGE.format("-team")),
        ("a", "Workspace name 'a' must be between 2 and 63 characters."),
        ("a" * 64, f"Workspace name '{'a' * 64}' must be between 2 and 63 characters."),
        ("api", "Workspace name 'api' is reserved and cannot be used."),
        ("ajax-api", "Workspace name 'ajax-api' is reserved and cannot be used."),
        ("workspaces", "Workspace name 'workspaces' is reserved and cannot be used."),
        ("static-files", "Workspace name 'static-files' is reserved and cannot be used."),
        ("default", "The 'default' workspace is reserved and cannot be created"),
        ("a--b", "Workspace name 'a--b' must not contain consecutive hyphens ('--')."),
        ("team--a-b", "Workspace name 'team--a-b' must not contain consecutive hyphens ('--')."),
    ],
)
def test_create_workspace_refuses_invalid_names(api: ApiClient, name: str, message: str) -> None:
    response = api.call("POST", WS, {"name": name})

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", message)
    assert list(Workspace.objects.values_list("name", flat=True)) == ["default"]


def test_create_workspace_accepts_single_hyphens_and_digits(api: ApiClient) -> None:
    response = api.call("POST", WS, {"name": "0-team-a-9"})

    assert response.status_code == 201


def test_create_workspace_requires_a_name(api: ApiClient) -> None:
    response = api.call("POST", WS, {"description": "x"})

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'name'. See the API docs for more information "
        "about request parameters.",
    )


def test_create_workspace_refuses_a_name_of_the_wrong_type(api: ApiClient) -> None:
    response = api.call("POST", WS, {"name": 123})

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'. "
        "See the API docs for more information about request parameters.",
    )


def test_create_duplicate_workspace_is_resource_already_exists(
    api: ApiClient, team_a: Workspace
) -> None:
    response = api.call("POST", WS, {"name": "team-a"})

    assert response.status_code == 400
    assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert response.json()["message"].startswith("Workspace 'team-a' already exists. Error: ")


@pytest.mark.parametrize(
    ("root", "message"),
    [
        (
            "relative/path",
            "Invalid value for 'default_artifact_root'. Expected a URI (for example "
            "'s3://bucket/prefix' or 'mlflow-artifacts:/prefix') or an absolute path, got "
            "'relative/path'.",
        ),
        (
            "runs:/abc/artifacts",
            "Invalid value for 'default_artifact_root'. A 'runs:' URI cannot be an artifact "
            "root, got 'runs:/abc/artifacts'.",
        ),
        (
            "s3://bucket/x#frag",
            "Invalid value for 'default_artifact_root'. URL fragments and ';' parameters are "
            "not allowed, got 's3://bucket/x#frag'.",
        ),
    ],
)
def test_create_workspace_refuses_bad_artifact_roots(
    api: ApiClient, root: str, message: str
) -> None:
    response = api.call("POST", WS, {"name": "team-c", "default_artifact_root": root})

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", message)


def test_create_workspace_refuses_an_overlong_artifact_root(api: ApiClient) -> None:
    response = api.call("POST", WS, {"name": "team-c", "default_artifact_root": "/" + "a" * 2048})

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_create_workspace_stores_absolute_paths_and_trims(api: ApiClient) -> None:
    response = api.call("POST", WS, {"name": "team-c", "default_artifact_root": "  /srv/art  "})

    assert response.json() == {"workspace": {"name": "team-c", "default_artifact_root": "/srv/art"}}


def test_create_workspace_with_trace_archival_config(api: ApiClient) -> None:
    config = {"location": "s3://bucket/traces", "retention": "30d"}

    response = api.call("POST", WS, {"name": "team-t", "trace_archival_config": config})

    assert response.status_code == 201
    assert response.json() == {"workspace": {"name": "team-t", "trace_archival_config": config}}
    fetched = api.call("GET", f"{WS}/team-t").json()
    assert fetched["workspace"]["trace_archival_config"] == config


@pytest.mark.parametrize(
    "config",
    [{"location": "mlflow-artifacts:/traces"}, {"retention": "30"}, {"retention": "0d"}],
)
def test_create_workspace_refuses_bad_trace_archival_config(
    api: ApiClient, config: dict[str, str]
) -> None:
    response = api.call("POST", WS, {"name": "team-t", "trace_archival_config": config})

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_list_workspaces_is_sorted_by_name(
    api: ApiClient, team_b: Workspace, team_a: Workspace
) -> None:
    response = api.call("GET", WS)

    assert response.status_code == 200
    assert response.json() == {
        "workspaces": [
            {"name": "default", "description": "Default workspace for legacy resources"},
            {"name": "team-a", "description": "Team A workspace"},
            {"name": "team-b", "description": "Team B workspace"},
        ]
    }


def test_list_workspaces_query_count_is_constant(
    api: ApiClient, team_a: Workspace, django_assert_num_queries: object
) -> None:
    for name in ("team-x", "team-y"):
        Workspace.objects.create(name=name)

    with django_assert_num_queries(2):  # type: ignore[operator]  # header lookup + list
        response = api.call("GET", WS)

    assert len(response.json()["workspaces"]) == 4


def test_get_workspace(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", f"{WS}/team-a")

    assert response.status_code == 200
    assert response.json() == {"workspace": {"name": "team-a", "description": "Team A workspace"}}


def test_get_default_workspace(api: ApiClient) -> None:
    response = api.call("GET", f"{WS}/default")

    assert response.json() == {
        "workspace": {"name": "default", "description": "Default workspace for legacy resources"}
    }


def test_get_missing_workspace_is_404(api: ApiClient) -> None:
    response = api.call("GET", f"{WS}/nope-ws")

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", "Workspace 'nope-ws' not found")


def test_get_workspace_with_invalid_name_is_400(api: ApiClient) -> None:
    response = api.call("GET", f"{WS}/Bad_Name")

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", PATTERN_MESSAGE.format("Bad_Name"))


def test_update_workspace_applies_only_present_keys(api: ApiClient) -> None:
    api.call(
        "POST", WS, {"name": "team-b", "description": "Team B", "default_artifact_root": "s3://b/x"}
    )

    described = api.call("PATCH", f"{WS}/team-b", {"description": "Team B v2"})
    cleared = api.call("PATCH", f"{WS}/team-b", {"default_artifact_root": ""})
    rooted = api.call("PATCH", f"{WS}/team-b", {"default_artifact_root": "mlflow-artifacts:/r"})

    assert described.json() == {
        "workspace": {
            "name": "team-b",
            "description": "Team B v2",
            "default_artifact_root": "s3://b/x",
        }
    }
    assert cleared.json() == {"workspace": {"name": "team-b", "description": "Team B v2"}}
    assert rooted.json() == {
        "workspace": {
            "name": "team-b",
            "description": "Team B v2",
            "default_artifact_root": "mlflow-artifacts:/r",
        }
    }


def test_update_default_workspace_description(api: ApiClient) -> None:
    response = api.call("PATCH", f"{WS}/default", {"description": "Default ws"})

    assert response.json() == {"workspace": {"name": "default", "description": "Default ws"}}


def test_update_workspace_needs_a_key(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("PATCH", f"{WS}/team-a", {})

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", "Workspace update must have at least one key"
    )


def test_update_missing_workspace_is_404(api: ApiClient) -> None:
    response = api.call("PATCH", f"{WS}/nope-ws", {"description": "x"})

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", "Workspace 'nope-ws' not found")


def test_delete_empty_workspace_answers_204_without_body(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("DELETE", f"{WS}/team-a")

    assert response.status_code == 204
    assert response.content == b""
    assert not Workspace.objects.filter(name="team-a").exists()


@pytest.mark.parametrize("mode", ["RESTRICT", "CASCADE", "SET_DEFAULT"])
def test_delete_empty_workspace_in_every_mode(api: ApiClient, team_a: Workspace, mode: str) -> None:
    response = api.call("DELETE", f"{WS}/team-a", query={"mode": mode})

    assert response.status_code == 204
    assert not Workspace.objects.filter(name="team-a").exists()


def test_delete_default_workspace_is_refused(api: ApiClient) -> None:
    response = api.call("DELETE", f"{WS}/default")

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", "The 'default' workspace is reserved and cannot be deleted"
    )


def test_delete_workspace_with_unknown_mode_is_400(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("DELETE", f"{WS}/team-a", query={"mode": "BOGUS"})

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid deletion mode 'BOGUS'. Must be one of: SET_DEFAULT, CASCADE, RESTRICT",
    )
    assert Workspace.objects.filter(name="team-a").exists()


def test_delete_missing_workspace_is_404(api: ApiClient) -> None:
    response = api.call("DELETE", f"{WS}/nope-ws")

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", "Workspace 'nope-ws' not found")


def test_workspace_routes_exist_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", "/ajax-api/3.0/mlflow/workspaces/team-a")

    assert response.status_code == 200
    assert response.json()["workspace"]["name"] == "team-a"


def test_workspace_routes_resolve_the_header_too(api: ApiClient) -> None:
    response = api.call("GET", WS, workspace="does-not-exist")

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", "Workspace 'does-not-exist' not found"
    )


def test_workspace_endpoints_refuse_with_404_json_when_workspaces_are_off(
    api: ApiClient, settings: object
) -> None:
    settings.MLFLOW_ENABLE_WORKSPACES = False  # type: ignore[attr-defined]

    listed = api.call("GET", WS)
    created = api.call("POST", WS, {"name": "team-a"})

    assert (listed.status_code, created.status_code) == (404, 404)
    assert listed.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert not Workspace.objects.filter(name="team-a").exists()
