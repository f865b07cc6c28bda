"""The workspace admin: counts, the API's validation, delete only when empty, default kept."""

from __future__ import annotations

from django.test import Client

from tests.factories import ExperimentFactory
from workspaces.models import Workspace

ADMIN = "/admin/workspaces/workspace/"


def test_changelist_shows_experiment_counts(admin_client: Client, team_a: Workspace) -> None:
    ExperimentFactory(workspace=team_a)
    ExperimentFactory(workspace=team_a)

    response = admin_client.get(ADMIN)

    assert response.status_code == 200
    rows = {ws.name: ws for ws in response.context["cl"].result_list}
    assert rows["team-a"].count_experiments == 2
    assert rows["default"].count_experiments == 1  # the Default experiment


def test_changelist_query_count_does_not_grow_with_workspaces(
    admin_client: Client, django_assert_max_num_queries: object
) -> None:
    for index in range(5):
        ExperimentFactory(workspace=Workspace.objects.create(name=f"team-{index}"))

    with django_assert_max_num_queries(12):  # type: ignore[operator]
        response = admin_client.get(ADMIN)

    assert len(response.context["cl"].result_list) == 6


def test_changelist_search(admin_client: Client, team_a: Workspace, team_b: Workspace) -> None:
    response = admin_client.get(ADMIN, {"q": "team-b"})

    assert [ws.name for ws in response.context["cl"].result_list] == ["team-b"]


def test_add_workspace_uses_the_api_rules(admin_client: Client) -> None:
    response = admin_client.post(f"{ADMIN}add/", {"name": "a--b", "description": ""})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "Workspace name 'a--b' must not contain consecutive hyphens ('--')."
    ]
    assert not Workspace.objects.filter(name="a--b").exists()


def test_add_workspace_refuses_relative_artifact_root(admin_client: Client) -> None:
    response = admin_client.post(
        f"{ADMIN}add/", {"name": "team-r", "default_artifact_root": "relative/path"}
    )

    assert "default_artifact_root" in response.context["adminform"].form.errors
    assert not Workspace.objects.filter(name="team-r").exists()


def test_add_workspace(admin_client: Client) -> None:
    response = admin_client.post(
        f"{ADMIN}add/", {"name": "team-new", "description": "New", "default_artifact_root": ""}
    )

    assert response.status_code == 302
    created = Workspace.objects.get(name="team-new")
    assert (created.description, created.default_artifact_root) == ("New", "")


def test_add_default_workspace_is_refused(admin_client: Client) -> None:
    response = admin_client.post(f"{ADMIN}add/", {"name": "default"})

    assert response.context["adminform"].form.errors["name"]


def test_edit_workspace_keeps_its_name(admin_client: Client, team_a: Workspace) -> None:
    response = admin_client.post(
        f"{ADMIN}{team_a.pk}/change/", {"name": "renamed", "description": "Edited"}
    )

    assert response.status_code == 302
    team_a.refresh_from_db()
    assert (team_a.name, team_a.description) == ("team-a", "Edited")


def test_delete_empty_workspace(admin_client: Client, team_a: Workspace) -> None:
    response = admin_client.post(f"{ADMIN}{team_a.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Workspace.objects.filter(name="team-a").exists()


def test_delete_nonempty_workspace_is_refused_with_a_clear_message(
    admin_client: Client, team_a: Workspace
) -> None:
    ExperimentFactory(workspace=team_a)

    page = admin_client.get(f"{ADMIN}{team_a.pk}/delete/")
    posted = admin_client.post(f"{ADMIN}{team_a.pk}/delete/", {"post": "yes"})

    assert "table &#x27;experiments&#x27; still contains 1 resource(s)" in page.content.decode()
    assert posted.status_code == 200
    assert Workspace.objects.filter(name="team-a").exists()


def test_default_workspace_cannot_be_deleted(
    admin_client: Client, default_workspace: Workspace
) -> None:
    response = admin_client.post(f"{ADMIN}{default_workspace.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Workspace.objects.filter(name="default").exists()


def test_bulk_delete_action_deletes_only_empty_workspaces(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    ExperimentFactory(workspace=team_b)

    response = admin_client.post(
        ADMIN,
        {"action": "delete_empty_workspaces", "_selected_action": [team_a.pk, team_b.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert sorted(Workspace.objects.values_list("name", flat=True)) == ["default", "team-b"]
    messages = [str(message) for message in response.context["messages"]]
    assert any("team-b" in message and "experiments" in message for message in messages)
