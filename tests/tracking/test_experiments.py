"""The experiment endpoints over the wire. spec: tracking.md §1-2, workspaces.md §6-7,
examples/experiments/ and examples/workspaces/."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import ApiClient
from tests.factories import ExperimentFactory, RunFactory, WorkspaceFactory
from tracking.models import Experiment, ExperimentTag, Run
from workspaces.context import across_workspaces, in_workspace
from workspaces.models import Workspace

API = "/api/2.0/mlflow/experiments"
AJAX = "/ajax-api/2.0/mlflow/experiments"
MISSING_HINT = "See the API docs for more information about request parameters."


def error(code: str, message: str) -> dict[str, str]:
    sqlstate, error_class = {
        "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
        "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
        "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
        "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
        "INVALID_STATE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    }[code]
    return {
        "error_code": code,
        "message": message,
        "sqlstate": sqlstate,
        "error_class": error_class,
    }


def create(api: ApiClient, name: str, workspace: str = "team-a", **fields: Any) -> str:
    response = api.call("POST", f"{API}/create", {"name": name, **fields}, workspace=workspace)
    assert response.status_code == 200, response.json()
    return str(response.json()["experiment_id"])


def get(api: ApiClient, experiment_id: str, workspace: str = "team-a") -> Any:
    return api.call(
        "GET", f"{API}/get", workspace=workspace, query={"experiment_id": experiment_id}
    )


def stored(experiment_id: str) -> Experiment:
    with across_workspaces("test inspection"):
        return Experiment.objects.get(experiment_id=int(experiment_id))


def update_rows(model: Any, filters: dict[str, Any], **values: Any) -> None:
    with across_workspaces("test data"):
        model.objects.filter(**filters).update(**values)


def runs_of(experiment_id: str) -> dict[str, tuple[str, int | None]]:
    with across_workspaces("test inspection"):
        return {
            run.run_uuid: (run.lifecycle_stage, run.deleted_time)
            for run in Run.objects.filter(experiment_id=int(experiment_id))
        }


# --- create -------------------------------------------------------------------------------


def test_create_experiment_returns_the_id_as_a_string(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/create.json
    response = api.call(
        "POST",
        f"{API}/create",
        {"name": "tracking-exp", "tags": [{"key": "owner", "value": "alice"}]},
        workspace="team-a",
    )

    assert response.status_code == 200
    experiment_id = response.json()["experiment_id"]
    assert response.json() == {"experiment_id": experiment_id}
    assert isinstance(experiment_id, str)
    experiment = stored(experiment_id)
    assert (experiment.name, experiment.workspace_id) == ("tracking-exp", team_a.pk)


def test_create_experiment_then_get_renders_the_experiment(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/experiments/get.json
    experiment_id = create(api, "tracking-exp", tags=[{"key": "owner", "value": "alice"}])

    response = get(api, experiment_id)

    assert response.status_code == 200
    experiment = stored(experiment_id)
    assert response.json() == {
        "experiment": {
            "experiment_id": experiment_id,
            "name": "tracking-exp",
            "artifact_location": f"mlflow-artifacts:/workspaces/team-a/{experiment_id}",
            "lifecycle_stage": "active",
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "tags": [{"key": "owner", "value": "alice"}],
            "workspace": "team-a",
        }
    }
    assert experiment.creation_time == experiment.last_update_time


def test_create_experiment_in_default_workspace_uses_the_workspaces_segment(
    api: ApiClient,
) -> None:
    experiment_id = create(api, "in-default", workspace="default")

    assert stored(experiment_id).artifact_location == (
        f"mlflow-artifacts:/workspaces/default/{experiment_id}"
    )


def test_create_experiment_without_header_lands_in_default(api: ApiClient) -> None:
    response = api.call("POST", f"{API}/create", {"name": "no-header"})

    assert response.status_code == 200
    assert stored(response.json()["experiment_id"]).workspace.name == "default"


def test_create_experiment_uses_the_workspace_artifact_root(api: ApiClient) -> None:
    # spec: examples/workspaces/artifact_root_override.json
    WorkspaceFactory(name="team-c", default_artifact_root="mlflow-artifacts:/custom-root")
    WorkspaceFactory(name="team-s3", default_artifact_root="s3://my-bucket/team-s3")

    rooted = create(api, "rooted", workspace="team-c")
    s3exp = create(api, "s3exp", workspace="team-s3")

    assert get(api, rooted, "team-c").json()["experiment"]["artifact_location"] == (
        f"mlflow-artifacts:/custom-root/{rooted}"
    )
    assert get(api, s3exp, "team-s3").json()["experiment"]["artifact_location"] == (
        f"s3://my-bucket/team-s3/{s3exp}"
    )


def test_create_experiment_omits_tags_when_none(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "no-tags")

    body = get(api, experiment_id).json()["experiment"]

    assert "tags" not in body
    assert body["workspace"] == "team-a"


def test_create_experiment_without_name_is_refused(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/errors.json
    response = api.call("POST", f"{API}/create", {}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", f"Missing value for required parameter 'name'. {MISSING_HINT}"
    )


def test_create_experiment_with_empty_name_is_refused(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"{API}/create", {"name": ""}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", f"Missing value for required parameter 'name'. {MISSING_HINT}"
    )


def test_create_experiment_with_non_string_name_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    response = api.call("POST", f"{API}/create", {"name": 5}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. "
        + MISSING_HINT,
    )


def test_create_experiment_with_long_name_is_refused(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/errors.json
    response = api.call("POST", f"{API}/create", {"name": "x" * 501}, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", "'name' exceeds the maximum length of 500 characters"
    )


def test_create_experiment_accepts_a_500_character_name(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "x" * 500)

    assert stored(experiment_id).name == "x" * 500


def test_create_experiment_with_taken_name_is_refused(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/errors.json (the database text after "Error: " varies)
    create(api, "tracking-exp-renamed")

    response = api.call(
        "POST", f"{API}/create", {"name": "tracking-exp-renamed"}, workspace="team-a"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert body["message"].startswith(
        "Experiment(name=tracking-exp-renamed) already exists. Error: "
    )
    assert (body["sqlstate"], body["error_class"]) == ("KAM00", "RESOURCE_ALREADY_EXISTS")
    with in_workspace(team_a):
        assert Experiment.objects.filter(name="tracking-exp-renamed").count() == 1


def test_create_experiment_with_name_of_a_deleted_one_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/experiments/lifecycle_rules.json
    experiment_id = create(api, "dup-del")
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = api.call("POST", f"{API}/create", {"name": "dup-del"}, workspace="team-a")

    assert response.status_code == 400
    assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert response.json()["message"].startswith("Experiment(name=dup-del) already exists. ")


def test_create_experiment_names_are_unique_per_workspace(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/workspaces/name_uniqueness_per_workspace.json
    in_default = create(api, "demo-exp", workspace="default")

    in_team_a = create(api, "demo-exp", workspace="team-a")
    again = api.call("POST", f"{API}/create", {"name": "demo-exp"}, workspace="team-a")

    assert int(in_team_a) > int(in_default)
    assert again.status_code == 400
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"


def test_create_experiment_names_are_case_sensitive(api: ApiClient, team_a: Workspace) -> None:
    upper = create(api, "Exp")

    lower = create(api, "exp")

    by_name = api.call(
        "GET", f"{API}/get-by-name", workspace="team-a", query={"experiment_name": "exp"}
    )
    assert upper != lower
    assert by_name.json()["experiment"]["experiment_id"] == lower


def test_create_experiment_ids_are_global(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    first = create(api, "one", workspace="team-a")

    second = create(api, "two", workspace="team-b")

    assert int(second) == int(first) + 1


def test_create_experiment_refuses_artifact_location_with_workspaces(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/workspaces/experiment_artifact_location_rejected.json
    response = api.call(
        "POST",
        f"{API}/create",
        {"name": "with-loc", "artifact_location": "s3://x/y"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "artifact_location cannot be specified when workspaces are enabled",
    )
    with in_workspace(team_a):
        assert not Experiment.objects.exists()


def test_create_experiment_ignores_empty_artifact_location_with_workspaces(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "empty-loc", artifact_location="")

    assert stored(experiment_id).artifact_location.startswith("mlflow-artifacts:/workspaces/")


@override_settings(MLFLOW_ENABLE_WORKSPACES=False)
def test_create_experiment_honours_artifact_location_without_workspaces(api: ApiClient) -> None:
    # spec: examples/workspaces/experiment_artifact_location_allowed_without_workspaces.json
    with_loc = api.call(
        "POST", f"{API}/create", {"name": "with-loc", "artifact_location": "s3://bucket/x"}
    )
    no_loc = api.call("POST", f"{API}/create", {"name": "no-loc"})

    with_loc_id = with_loc.json()["experiment_id"]
    no_loc_id = no_loc.json()["experiment_id"]
    got_with = api.call("GET", f"{API}/get-by-name", query={"experiment_name": "with-loc"})
    got_without = api.call("GET", f"{API}/get-by-name", query={"experiment_name": "no-loc"})
    assert got_with.json() == {
        "experiment": {
            "experiment_id": with_loc_id,
            "name": "with-loc",
            "artifact_location": "s3://bucket/x",
            "lifecycle_stage": "active",
            "last_update_time": stored(with_loc_id).last_update_time,
            "creation_time": stored(with_loc_id).creation_time,
            "workspace": "default",
        }
    }
    assert got_without.json()["experiment"]["artifact_location"] == f"mlflow-artifacts:/{no_loc_id}"
    assert got_without.json()["experiment"]["workspace"] == "default"


@override_settings(MLFLOW_ENABLE_WORKSPACES=False)
@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("runs:/abc/x", "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/x'"),
        ("s3://bucket/x#frag", "'artifact_location' URL can't include fragments or params."),
        ("/data/x;p=1", "'artifact_location' URL can't include fragments or params."),
        ("s3://bucket/x?a=../b", "Invalid query string"),
        (
            "s3://bucket/" + "x" * 2048,
            "Invalid artifact path length. The length of the artifact path cannot be greater "
            "than 2048 characters. To configure this limit, please set the "
            "MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable.",
        ),
        (
            "http://elsewhere.example/x",
            "'artifact_location' cannot use the 'http' scheme: the 'http' scheme addresses a host "
            "other than the tracking server's configured artifact storage, so the server would "
            "connect to the host named in the URI. Set the "
            "MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server "
            "to allow it.",
        ),
    ],
)
def test_create_experiment_validates_artifact_location_without_workspaces(
    api: ApiClient, location: str, message: str
) -> None:
    response = api.call("POST", f"{API}/create", {"name": "bad-loc", "artifact_location": location})

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", message)


def test_create_experiment_validates_tags(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST",
        f"{API}/create",
        {"name": "bad-tags", "tags": [{"key": "bad$key", "value": "v"}]},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid value \"bad$key\" for parameter 'key' supplied: Names may only contain "
        "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
        "slashes (/).",
    )
    with in_workspace(team_a):
        assert not Experiment.objects.exists()


def test_create_experiment_keeps_the_last_value_of_a_repeated_tag(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(
        api, "dup-tags", tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]
    )

    assert get(api, experiment_id).json()["experiment"]["tags"] == [{"key": "k", "value": "2"}]


def test_create_experiment_refuses_more_than_50_custom_views(
    api: ApiClient, team_a: Workspace
) -> None:
    tags = [{"key": f"mlflow.customView.view.v1.{n}", "value": "{}"} for n in range(51)]

    response = api.call(
        "POST", f"{API}/create", {"name": "views", "tags": tags}, workspace="team-a"
    )

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Unable to create another custom view; the maximum number of custom views per "
        "experiment is 50. Delete an existing custom view before creating a new one.",
    )


def test_create_experiment_refuses_get(api: ApiClient) -> None:
    response = api.call("GET", f"{API}/create", query={"name": "x"})

    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_create_experiment_works_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"{AJAX}/create", {"name": "ajax-exp"}, workspace="team-a")

    assert response.status_code == 200
    assert stored(response.json()["experiment_id"]).name == "ajax-exp"


# --- get, get-by-name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        (
            {"experiment_id": "999999"},
            404,
            error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999999 exists"),
        ),
        (
            {"experiment_id": "abc"},
            400,
            error(
                "INVALID_PARAMETER_VALUE",
                "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.",
            ),
        ),
        (
            {},
            400,
            error(
                "INVALID_PARAMETER_VALUE",
                f"Missing value for required parameter 'experiment_id'. {MISSING_HINT}",
            ),
        ),
    ],
)
def test_get_experiment_errors(
    api: ApiClient, team_a: Workspace, query: dict[str, str], status: int, body: dict[str, str]
) -> None:
    # spec: examples/experiments/errors.json
    response = api.call("GET", f"{API}/get", workspace="team-a", query=query)

    assert (response.status_code, response.json()) == (status, body)


def test_get_experiment_returns_a_deleted_one(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/lifecycle_rules.json
    experiment_id = create(api, "dup-del")
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = get(api, experiment_id)

    experiment = stored(experiment_id)
    assert response.status_code == 200
    assert response.json() == {
        "experiment": {
            "experiment_id": experiment_id,
            "name": "dup-del",
            "artifact_location": f"mlflow-artifacts:/workspaces/team-a/{experiment_id}",
            "lifecycle_stage": "deleted",
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "workspace": "team-a",
        }
    }


def test_get_experiment_works_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "ajax-get")

    response = api.call(
        "GET", f"{AJAX}/get", workspace="team-a", query={"experiment_id": experiment_id}
    )

    assert response.status_code == 200
    assert response.json()["experiment"]["name"] == "ajax-get"


def test_get_experiment_refuses_post(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("POST", f"{API}/get", {"experiment_id": "1"}, workspace="team-a")

    assert response.status_code == 405


def test_get_experiment_by_name_finds_it(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/get_by_name.json
    experiment_id = create(api, "tracking-exp", tags=[{"key": "owner", "value": "alice"}])

    response = api.call(
        "GET", f"{API}/get-by-name", workspace="team-a", query={"experiment_name": "tracking-exp"}
    )

    assert response.status_code == 200
    assert response.json() == get(api, experiment_id).json()


def test_get_experiment_by_name_unknown_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/get_by_name.json
    response = api.call(
        "GET", f"{API}/get-by-name", workspace="team-a", query={"experiment_name": "no-such-exp"}
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'no-such-exp'"
    )


def test_get_experiment_by_name_requires_the_name(api: ApiClient, team_a: Workspace) -> None:
    response = api.call("GET", f"{API}/get-by-name", workspace="team-a", query={})

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        f"Missing value for required parameter 'experiment_name'. {MISSING_HINT}",
    )


def test_get_experiment_by_name_works_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    create(api, "ajax-by-name")

    response = api.call(
        "GET", f"{AJAX}/get-by-name", workspace="team-a", query={"experiment_name": "ajax-by-name"}
    )

    assert response.status_code == 200


def test_new_workspace_has_no_default_experiment(api: ApiClient) -> None:
    # spec: examples/workspaces/no_default_experiment_in_new_workspace.json
    WorkspaceFactory(name="team-c")

    by_id = get(api, "0", "team-c")
    by_name = api.call(
        "GET", f"{API}/get-by-name", workspace="team-c", query={"experiment_name": "Default"}
    )

    assert (by_id.status_code, by_id.json()) == (
        404,
        error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=0 exists"),
    )
    assert (by_name.status_code, by_name.json()) == (
        404,
        error("RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'Default'"),
    )


def test_default_experiment_is_in_the_default_workspace(api: ApiClient) -> None:
    response = get(api, "0", "default")

    assert response.status_code == 200
    body = response.json()["experiment"]
    assert (body["experiment_id"], body["name"], body["workspace"]) == ("0", "Default", "default")
    assert body["artifact_location"] == "mlflow-artifacts:/workspaces/default/0"


def test_get_experiment_queries_do_not_grow_with_tags(api: ApiClient, team_a: Workspace) -> None:
    one = create(api, "one-tag", tags=[{"key": "a", "value": "1"}])
    three = create(api, "three-tags", tags=[{"key": k, "value": k} for k in ("a", "b", "c")])

    with CaptureQueriesContext(connection) as first_queries:
        first = get(api, one)
    with CaptureQueriesContext(connection) as second_queries:
        second = get(api, three)

    # at most: the workspace lookup, the experiment with its workspace, its tags
    assert len(first_queries) == len(second_queries) <= 3
    assert len(first.json()["experiment"]["tags"]) == 1
    assert len(second.json()["experiment"]["tags"]) == 3


# --- update (rename) ----------------------------------------------------------------------


def test_update_experiment_renames_it(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/update_rename.json
    experiment_id = create(api, "tracking-exp")
    before = stored(experiment_id)
    update_rows(Experiment, {"pk": before.pk}, last_update_time=1)

    response = api.call(
        "POST",
        f"{API}/update",
        {"experiment_id": experiment_id, "new_name": "tracking-exp-renamed"},
        workspace="team-a",
    )

    assert (response.status_code, response.json()) == (200, {})
    after = stored(experiment_id)
    assert after.name == "tracking-exp-renamed"
    assert after.last_update_time > 1
    assert after.creation_time == before.creation_time


def test_update_experiment_to_a_taken_name_is_bad_request(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/experiments/errors.json (the message is the database's own text)
    create(api, "demo-exp")
    experiment_id = create(api, "other")

    response = api.call(
        "POST",
        f"{API}/update",
        {"experiment_id": experiment_id, "new_name": "demo-exp"},
        workspace="team-a",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "BAD_REQUEST"
    assert body["message"]
    assert (body["sqlstate"], body["error_class"]) == ("KAM00", "INVALID_PARAMETER_VALUE")
    assert stored(experiment_id).name == "other"


def test_update_experiment_to_a_name_taken_in_another_workspace_works(
    api: ApiClient, team_a: Workspace, team_b: Workspace
) -> None:
    create(api, "shared", workspace="team-b")
    experiment_id = create(api, "mine")

    response = api.call(
        "POST",
        f"{API}/update",
        {"experiment_id": experiment_id, "new_name": "shared"},
        workspace="team-a",
    )

    assert response.status_code == 200


def test_update_deleted_experiment_is_invalid_state(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/lifecycle_rules.json (500 there; 400 here, README §3.2)
    experiment_id = create(api, "dup-del")
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = api.call(
        "POST",
        f"{API}/update",
        {"experiment_id": experiment_id, "new_name": "x"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == error("INVALID_STATE", "Cannot rename a non-active experiment.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"experiment_id": "1"},
            f"Missing value for required parameter 'new_name'. {MISSING_HINT}",
        ),
        (
            {"experiment_id": "1", "new_name": ""},
            f"Missing value for required parameter 'new_name'. {MISSING_HINT}",
        ),
        (
            {"new_name": "x"},
            f"Missing value for required parameter 'experiment_id'. {MISSING_HINT}",
        ),
        (
            {"experiment_id": "1", "new_name": "x" * 501},
            "'name' exceeds the maximum length of 500 characters",
        ),
    ],
)
def test_update_experiment_validates_the_request(
    api: ApiClient, team_a: Workspace, body: dict[str, str], message: str
) -> None:
    response = api.call("POST", f"{API}/update", body, workspace="team-a")

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", message)


def test_update_unknown_experiment_is_404(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST", f"{API}/update", {"experiment_id": "999999", "new_name": "x"}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999999 exists"
    )


# --- delete, restore ----------------------------------------------------------------------


def test_delete_and_restore_experiment(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/delete_restore.json
    experiment_id = create(api, "to-delete")

    deleted = api.call(
        "POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a"
    )
    stage_after_delete = stored(experiment_id).lifecycle_stage
    restored = api.call(
        "POST", f"{API}/restore", {"experiment_id": experiment_id}, workspace="team-a"
    )

    assert (deleted.status_code, deleted.json()) == (200, {})
    assert stage_after_delete == "deleted"
    assert (restored.status_code, restored.json()) == (200, {})
    assert stored(experiment_id).lifecycle_stage == "active"


def test_delete_experiment_changes_last_update_time(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "timed")
    update_rows(Experiment, {"pk": int(experiment_id)}, last_update_time=1)

    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")
    after_delete = stored(experiment_id).last_update_time
    update_rows(Experiment, {"pk": int(experiment_id)}, last_update_time=2)
    update_rows(Run, {"experiment_id": int(experiment_id)}, deleted_time=2)
    api.call("POST", f"{API}/restore", {"experiment_id": experiment_id}, workspace="team-a")

    assert after_delete > 1
    assert stored(experiment_id).last_update_time > 2


def test_delete_experiment_deletes_its_runs(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "with-runs")
    experiment = stored(experiment_id)
    first = RunFactory(experiment=experiment)
    second = RunFactory(experiment=experiment)

    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    deleted_time = stored(experiment_id).last_update_time
    assert runs_of(experiment_id) == {
        first.run_uuid: ("deleted", deleted_time),
        second.run_uuid: ("deleted", deleted_time),
    }


def test_restore_experiment_restores_only_the_runs_deleted_with_it(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "with-runs")
    experiment = stored(experiment_id)
    kept = RunFactory(experiment=experiment)
    deleted_before = RunFactory(
        experiment=experiment, lifecycle_stage="deleted", deleted_time=experiment.creation_time - 5
    )
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    api.call("POST", f"{API}/restore", {"experiment_id": experiment_id}, workspace="team-a")

    assert runs_of(experiment_id) == {
        kept.run_uuid: ("active", None),
        deleted_before.run_uuid: ("deleted", experiment.creation_time - 5),
    }


def test_delete_experiment_keeps_its_time_after_runs_deleted_in_the_same_millisecond(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "same-ms")
    experiment = stored(experiment_id)
    future = experiment.creation_time + 60_000
    early = RunFactory(experiment=experiment, lifecycle_stage="deleted", deleted_time=future)
    RunFactory(experiment=experiment)

    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")
    api.call("POST", f"{API}/restore", {"experiment_id": experiment_id}, workspace="team-a")

    assert runs_of(experiment_id)[early.run_uuid] == ("deleted", future)
    assert sorted(stage for stage, _ in runs_of(experiment_id).values()) == ["active", "deleted"]


def test_delete_deleted_experiment_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/lifecycle_rules.json
    experiment_id = create(api, "dup-del")
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = api.call(
        "POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists"
    )


def test_restore_active_experiment_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/lifecycle_rules.json
    experiment_id = create(api, "active")

    response = api.call(
        "POST", f"{API}/restore", {"experiment_id": experiment_id}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists"
    )


def test_delete_unknown_experiment_is_404(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/errors.json
    response = api.call("POST", f"{API}/delete", {"experiment_id": "999"}, workspace="team-a")

    assert response.status_code == 404
    assert response.json() == error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999 exists")


@pytest.mark.parametrize("operation", ["delete", "restore"])
def test_delete_and_restore_validate_the_id(
    api: ApiClient, team_a: Workspace, operation: str
) -> None:
    missing = api.call("POST", f"{API}/{operation}", {}, workspace="team-a")
    not_integer = api.call(
        "POST", f"{API}/{operation}", {"experiment_id": "x1"}, workspace="team-a"
    )
    not_string = api.call("POST", f"{API}/{operation}", {"experiment_id": 1}, workspace="team-a")

    assert missing.json() == error(
        "INVALID_PARAMETER_VALUE",
        f"Missing value for required parameter 'experiment_id'. {MISSING_HINT}",
    )
    assert not_integer.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid experiment ID 'x1'. Experiment ID must be a valid integer.",
    )
    assert not_string.json() == error(
        "INVALID_PARAMETER_VALUE",
        "Invalid value 1 for parameter 'experiment_id' supplied:  Hint: Value was of type 'int'. "
        + MISSING_HINT,
    )


def test_default_experiment_can_be_deleted(api: ApiClient) -> None:
    # spec: tracking.md §2, the SQL backend allows deleting experiment 0.
    response = api.call("POST", f"{API}/delete", {"experiment_id": "0"}, workspace="default")

    assert (response.status_code, response.json()) == (200, {})
    assert stored("0").lifecycle_stage == "deleted"


def test_delete_experiment_works_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "ajax-del")

    response = api.call(
        "POST", f"{AJAX}/delete", {"experiment_id": experiment_id}, workspace="team-a"
    )
    restored = api.call(
        "POST", f"{AJAX}/restore", {"experiment_id": experiment_id}, workspace="team-a"
    )

    assert (response.status_code, restored.status_code) == (200, 200)


# --- tags ---------------------------------------------------------------------------------


def tags_of(api: ApiClient, experiment_id: str) -> list[dict[str, str]]:
    return get(api, experiment_id).json()["experiment"].get("tags", [])


def test_set_and_delete_experiment_tag(api: ApiClient, team_a: Workspace) -> None:
    # spec: examples/experiments/set_delete_tag.json
    experiment_id = create(api, "tagged")

    set_response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "note", "value": "hello"},
        workspace="team-a",
    )
    tags_after_set = tags_of(api, experiment_id)
    delete_response = api.call(
        "POST",
        f"{API}/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "note"},
        workspace="team-a",
    )

    assert (set_response.status_code, set_response.json()) == (200, {})
    assert tags_after_set == [{"key": "note", "value": "hello"}]
    assert (delete_response.status_code, delete_response.json()) == (200, {})
    assert tags_of(api, experiment_id) == []


def test_set_experiment_tag_overwrites_and_keeps_last_update_time(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "tagged", tags=[{"key": "a", "value": "1"}])
    update_rows(Experiment, {"pk": int(experiment_id)}, last_update_time=7)

    for key, value in [("b", "2"), ("a", "3")]:
        api.call(
            "POST",
            f"{API}/set-experiment-tag",
            {"experiment_id": experiment_id, "key": key, "value": value},
            workspace="team-a",
        )
    api.call(
        "POST",
        f"{API}/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "b"},
        workspace="team-a",
    )

    assert tags_of(api, experiment_id) == [{"key": "a", "value": "3"}]
    assert stored(experiment_id).last_update_time == 7


def test_set_experiment_tag_without_value_stores_empty(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "tagged")

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "flag"},
        workspace="team-a",
    )

    assert response.status_code == 200
    assert tags_of(api, experiment_id) == [{"key": "flag", "value": ""}]


def test_set_experiment_tag_accepts_20000_characters(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "tagged")

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "k" * 250, "value": "v" * 20000},
        workspace="team-a",
    )

    assert response.status_code == 200
    assert tags_of(api, experiment_id) == [{"key": "k" * 250, "value": "v" * 20000}]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "bad$key",
            "v",
            "Invalid value \"bad$key\" for parameter 'key' supplied: Names may only contain "
            "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
            "slashes (/).",
        ),
        (
            "../etc",
            "v",
            "Invalid value \"../etc\" for parameter 'key' supplied: Names may be treated as files "
            "in certain cases, and must not resolve to other names when treated as such. This "
            "name would resolve to '../etc'",
        ),
        (
            "a//b",
            "v",
            "Invalid value \"a//b\" for parameter 'key' supplied: Names may be treated as files "
            "in certain cases, and must not resolve to other names when treated as such. This "
            "name would resolve to 'a/b'",
        ),
        ("k" * 251, "v", "'key' exceeds the maximum length of 250 characters"),
        ("k", "v" * 20001, "'value' exceeds the maximum length of 20000 characters"),
        (
            "mlflow.trace.archivalRetention",
            '{"type": "duration", "value": "30x"}',
            "Trace archival retention must be in the form `<int><unit>`, where unit is one of "
            "'m', 'h', or 'd'.",
        ),
        (
            "mlflow.trace.archivalRetention",
            "not json",
            "Trace archival config must be encoded as a JSON object.",
        ),
    ],
)
def test_set_experiment_tag_validates_key_and_value(
    api: ApiClient, team_a: Workspace, key: str, value: str, message: str
) -> None:
    experiment_id = create(api, "tagged")

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": key, "value": value},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == error("INVALID_PARAMETER_VALUE", message)
    assert tags_of(api, experiment_id) == []


def test_set_experiment_tag_accepts_a_valid_archival_retention(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "tagged")

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {
            "experiment_id": experiment_id,
            "key": "mlflow.trace.archivalRetention",
            "value": '{"type": "duration", "value": "30d"}',
        },
        workspace="team-a",
    )

    assert response.status_code == 200


def test_set_experiment_tag_requires_key(api: ApiClient, team_a: Workspace) -> None:
    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": "1", "value": "v"},
        workspace="team-a",
    )

    assert response.json() == error(
        "INVALID_PARAMETER_VALUE", f"Missing value for required parameter 'key'. {MISSING_HINT}"
    )


def test_set_experiment_tag_on_deleted_experiment_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    # spec: examples/experiments/lifecycle_rules.json
    experiment_id = create(api, "dup-del")
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "a", "value": "b"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json() == error(
        "INVALID_PARAMETER_VALUE",
        f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted.",
    )


def test_delete_experiment_tag_on_deleted_experiment_is_refused(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "dup-del", tags=[{"key": "a", "value": "b"}])
    api.call("POST", f"{API}/delete", {"experiment_id": experiment_id}, workspace="team-a")

    response = api.call(
        "POST",
        f"{API}/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "a"},
        workspace="team-a",
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
    )


def test_delete_missing_experiment_tag_is_404(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "tagged")

    response = api.call(
        "POST",
        f"{API}/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "nope"},
        workspace="team-a",
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No tag with name: nope in experiment with id {experiment_id}"
    )


@pytest.mark.parametrize("path", ["set-experiment-tag", "delete-experiment-tag"])
def test_experiment_tag_on_unknown_experiment_is_404(
    api: ApiClient, team_a: Workspace, path: str
) -> None:
    response = api.call(
        "POST",
        f"{API}/{path}",
        {"experiment_id": "999999", "key": "k", "value": "v"},
        workspace="team-a",
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999999 exists"
    )


def test_set_experiment_tag_caps_custom_views_at_50(api: ApiClient, team_a: Workspace) -> None:
    prefix = "mlflow.customView.view.v1."
    tags = [{"key": f"{prefix}{n}", "value": "{}"} for n in range(50)]
    experiment_id = create(api, "views", tags=tags)

    overwrite = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": f"{prefix}0", "value": "new"},
        workspace="team-a",
    )
    other_tag = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "plain", "value": "x"},
        workspace="team-a",
    )
    fifty_first = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": f"{prefix}50", "value": "{}"},
        workspace="team-a",
    )

    assert (overwrite.status_code, other_tag.status_code) == (200, 200)
    assert fifty_first.status_code == 400
    assert fifty_first.json() == error(
        "INVALID_PARAMETER_VALUE",
        f"Unable to create another custom view for experiment {experiment_id}; the maximum "
        "number of custom views per experiment is 50. Delete an existing custom view before "
        "creating a new one.",
    )


def test_set_experiment_tag_custom_view_prefix_is_case_sensitive(
    api: ApiClient, team_a: Workspace
) -> None:
    tags = [{"key": f"mlflow.customview.view.v1.{n}", "value": "{}"} for n in range(50)]
    experiment_id = create(api, "lookalikes", tags=tags)

    response = api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "mlflow.customView.view.v1.0", "value": "{}"},
        workspace="team-a",
    )

    assert response.status_code == 200


def test_experiment_tags_work_under_ajax_api(api: ApiClient, team_a: Workspace) -> None:
    experiment_id = create(api, "ajax-tags")

    set_response = api.call(
        "POST",
        f"{AJAX}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "k", "value": "v"},
        workspace="team-a",
    )
    delete_response = api.call(
        "POST",
        f"{AJAX}/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "k"},
        workspace="team-a",
    )

    assert (set_response.status_code, delete_response.status_code) == (200, 200)


def test_experiment_tag_rows_carry_the_experiment_workspace(
    api: ApiClient, team_a: Workspace
) -> None:
    experiment_id = create(api, "ws-tags", tags=[{"key": "a", "value": "1"}])
    api.call(
        "POST",
        f"{API}/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "b", "value": "2"},
        workspace="team-a",
    )

    with across_workspaces("test inspection"):
        workspaces = set(
            ExperimentTag.objects.filter(experiment_id=int(experiment_id)).values_list(
                "workspace__name", flat=True
            )
        )
    assert workspaces == {"team-a"}


# --- cross-workspace isolation ------------------------------------------------------------


@pytest.fixture
def foreign(team_a: Workspace, team_b: Workspace) -> Experiment:
    """An experiment of team-b with a tag: data that could leak into team-a."""
    experiment = ExperimentFactory(workspace=team_b, name="secret")
    with across_workspaces("test data"):
        ExperimentTag.objects.create(workspace=team_b, experiment=experiment, key="k", value="v")
    return experiment


def test_get_foreign_experiment_is_404(api: ApiClient, foreign: Experiment) -> None:
    response = get(api, str(foreign.experiment_id), "team-a")

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={foreign.experiment_id} exists"
    )


def test_get_foreign_experiment_by_name_is_404(api: ApiClient, foreign: Experiment) -> None:
    response = api.call(
        "GET", f"{API}/get-by-name", workspace="team-a", query={"experiment_name": "secret"}
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'secret'"
    )


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("update", {"new_name": "stolen"}),
        ("delete", {}),
        ("set-experiment-tag", {"key": "k", "value": "changed"}),
        ("delete-experiment-tag", {"key": "k"}),
    ],
)
def test_writes_to_foreign_experiment_are_404(
    api: ApiClient, foreign: Experiment, path: str, extra: dict[str, str]
) -> None:
    experiment_id = str(foreign.experiment_id)

    response = api.call(
        "POST", f"{API}/{path}", {"experiment_id": experiment_id, **extra}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists"
    )
    after = get(api, experiment_id, "team-b").json()["experiment"]
    assert (after["name"], after["lifecycle_stage"], after["tags"]) == (
        "secret",
        "active",
        [{"key": "k", "value": "v"}],
    )


def test_restore_foreign_experiment_is_404(api: ApiClient, foreign: Experiment) -> None:
    update_rows(Experiment, {"pk": foreign.pk}, lifecycle_stage="deleted")

    response = api.call(
        "POST", f"{API}/restore", {"experiment_id": str(foreign.experiment_id)}, workspace="team-a"
    )

    assert response.status_code == 404
    assert response.json() == error(
        "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={foreign.experiment_id} exists"
    )
    assert stored(str(foreign.experiment_id)).lifecycle_stage == "deleted"


def test_delete_experiment_leaves_other_workspaces_alone(
    api: ApiClient, foreign: Experiment
) -> None:
    foreign_run = RunFactory(experiment=foreign)
    mine = create(api, "mine", workspace="team-a")

    api.call("POST", f"{API}/delete", {"experiment_id": mine}, workspace="team-a")

    assert stored(str(foreign.experiment_id)).lifecycle_stage == "active"
    assert runs_of(str(foreign.experiment_id)) == {foreign_run.run_uuid: ("active", None)}
