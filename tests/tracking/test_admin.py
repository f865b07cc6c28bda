"""The tracking admin's logged models: browsed across workspaces, never added, changed or
deleted there (experiments: tests/workspaces/test_moves_admin.py)."""

from __future__ import annotations

from django.test import Client

from tests.conftest import ApiClient
from tests.tracking.test_logged_models_support import create_experiment, create_model
from tracking.models import LoggedModel
from workspaces.context import across_workspaces
from workspaces.models import Workspace

CHANGELIST = "/admin/tracking/loggedmodel/"


def test_logged_models_of_every_workspace_are_listed_with_params_and_tags(
    api: ApiClient, admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    model_a = create_model(
        api,
        create_experiment(api, "exp-a"),
        name="clf-a",
        params=[{"key": "alpha", "value": "0.25"}],
        tags=[{"key": "stage", "value": "candidate"}],
    )
    create_model(api, create_experiment(api, "exp-b", "team-b"), "team-b", name="clf-b")

    listed = admin_client.get(CHANGELIST)
    filtered = admin_client.get(CHANGELIST, {"workspace__id__exact": team_b.pk})
    detail = admin_client.get(f"{CHANGELIST}{model_a['info']['model_id']}/change/")

    assert listed.status_code == 200
    assert {m.name for m in listed.context["cl"].result_list} == {"clf-a", "clf-b"}
    assert [m.name for m in filtered.context["cl"].result_list] == ["clf-b"]
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "alpha" in page
    assert "0.25" in page
    assert "candidate" in page
    assert "deletelink" not in page
    assert "delete_selected" not in listed.content.decode()


def test_logged_models_are_read_only_in_the_admin(
    api: ApiClient, admin_client: Client, team_a: Workspace
) -> None:
    model_id = create_model(api, create_experiment(api, "exp-a"), name="clf-a")["info"]["model_id"]

    add = admin_client.get(f"{CHANGELIST}add/")
    change = admin_client.post(f"{CHANGELIST}{model_id}/change/", {"name": "renamed"})
    delete = admin_client.post(f"{CHANGELIST}{model_id}/delete/", {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    with across_workspaces("test inspection"):
        assert LoggedModel.objects.get(pk=model_id).name == "clf-a"
