"""The admin's move action: an intermediate page picks the target, the move service runs
with the command's checks, conflicts are shown as errors and change nothing."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from registry.admin import RegisteredModelAdmin
from registry.models import RegisteredModel
from tests.workspaces.test_moves_support import (
    make_experiment,
    make_registered_model,
    rows_by_model,
    snapshot,
)
from tracking.models import Experiment
from workspaces.context import across_workspaces
from workspaces.models import Workspace
from workspaces.moves import MOVE_TEMPLATE, move_action

CHANGELIST = "/admin/tracking/experiment/"


def messages_of(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_changelist_shows_experiments_of_every_workspace(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=0)
    make_experiment(team_b, "b-exp", runs=0)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    names = {experiment.name for experiment in response.context["cl"].result_list}
    assert {"a-exp", "b-exp", "Default"} <= names


def test_experiments_are_read_only_in_the_admin(admin_client: Client, team_a: Workspace) -> None:
    experiment = make_experiment(team_a, "a-exp", runs=0)

    add = admin_client.get(f"{CHANGELIST}add/")
    delete = admin_client.get(f"{CHANGELIST}{experiment.pk}/delete/")
    change = admin_client.post(f"{CHANGELIST}{experiment.pk}/change/", {"name": "renamed"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    with across_workspaces("test assertions"):
        assert Experiment.objects.get(pk=experiment.pk).name == "a-exp"


def test_experiment_page_is_a_view_without_a_delete_link(
    admin_client: Client, team_a: Workspace
) -> None:
    experiment = make_experiment(team_a, "a-exp", runs=0)

    response = admin_client.get(f"{CHANGELIST}{experiment.pk}/change/")
    listing = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "deletelink" not in response.content.decode()
    assert "delete_selected" not in listing.content.decode()


def test_move_action_asks_for_the_target(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    experiment = make_experiment(team_a, "a-exp", runs=1)

    response = admin_client.post(
        CHANGELIST, {"action": "move_to_workspace", "_selected_action": [experiment.pk]}
    )

    assert response.status_code == 200
    assert [template.name for template in response.templates][0] == MOVE_TEMPLATE
    choices = [name for name, _ in response.context["form"].fields["target"].choices if name]
    assert choices == ["default", "team-b"]  # never the source
    assert rows_by_model(team_a)["Run"] == 1


def test_move_action_moves_everything(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    experiment = make_experiment(team_a, "a-exp", runs=2)
    make_experiment(team_a, "stays", runs=0)

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "move_to_workspace",
            "_selected_action": [experiment.pk],
            "apply": "yes",
            "target": "team-b",
            "artifact_policy": "move",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        "Moved 1 experiments row(s) from 'team-a' to 'team-b' (19 rows with everything that "
        "belongs to them)."
    ]
    assert rows_by_model(team_b)["Run"] == 2
    assert rows_by_model(team_a) == {"Experiment": 1, "ExperimentTag": 1, "Dataset": 1}


def test_move_action_conflict_is_an_error_and_changes_nothing(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    experiment = make_experiment(team_a, "demo-exp", runs=1)
    make_experiment(team_b, "demo-exp", runs=0)
    before = snapshot()

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "move_to_workspace",
            "_selected_action": [experiment.pk],
            "apply": "yes",
            "target": "team-b",
            "artifact_policy": "move",
        },
        follow=True,
    )

    assert messages_of(response) == [
        "Move aborted: the following experiments already exist in workspace 'team-b' and "
        "would conflict: \n  'demo-exp'\nRename or remove the conflicting resources in the "
        "target workspace, then retry."
    ]
    assert snapshot() == before


def test_move_action_refuses_a_selection_spanning_workspaces(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    mine = make_experiment(team_a, "a-exp", runs=0)
    theirs = make_experiment(team_b, "b-exp", runs=0)

    response = admin_client.post(
        CHANGELIST,
        {"action": "move_to_workspace", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )

    assert messages_of(response) == ["Select resources of one workspace at a time."]


def test_move_action_needs_the_change_permission(
    db: None, default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    staff = User.objects.create_user("viewer", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    client = Client()
    client.force_login(staff)
    experiment = make_experiment(team_a, "a-exp", runs=0)

    response = client.post(
        CHANGELIST,
        {
            "action": "move_to_workspace",
            "_selected_action": [experiment.pk],
            "apply": "yes",
            "target": "team-b",
            "artifact_policy": "move",
        },
        follow=True,
    )

    assert messages_of(response) == ["You may not move these resources."]
    assert rows_by_model(team_a)["Experiment"] == 1


def test_move_action_for_registered_models(
    admin_user: User, team_a: Workspace, team_b: Workspace
) -> None:
    # How registry/admin.py hooks it in: ``actions = [move_action("registered_models")]``.
    make_registered_model(team_a, "clf", versions=2)
    request = RequestFactory().post(
        "/admin/registry/registeredmodel/",
        {"apply": "yes", "target": "team-b", "artifact_policy": "move"},
    )
    request.user = admin_user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    model_admin = RegisteredModelAdmin(RegisteredModel, admin.site)

    with across_workspaces("the admin spans workspaces"):
        queryset = RegisteredModel.objects.filter(name="clf")
        response = move_action("registered_models")(model_admin, request, queryset)

    assert response is None
    assert [str(m) for m in get_messages(request)] == [
        "Moved 1 registered_models row(s) from 'team-a' to 'team-b' (7 rows with everything "
        "that belongs to them)."
    ]
    assert rows_by_model(team_b)["ModelVersion"] == 2


def test_registered_model_admin_offers_the_move_action(admin_user: User) -> None:
    request = RequestFactory().get("/admin/registry/registeredmodel/")
    request.user = admin_user
    model_admin = RegisteredModelAdmin(RegisteredModel, admin.site)

    actions = model_admin.get_actions(request)

    assert any(name.startswith("move") for name in actions)
