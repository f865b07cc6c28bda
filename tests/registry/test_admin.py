"""The registry admin: browse across workspaces, filter by workspace, no adding or editing; a
webhook's secret is never shown."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from registry.models import Webhook, WebhookDelivery, WebhookEvent
from tests.factories import (
    ModelVersionFactory,
    ModelVersionTagFactory,
    RegisteredModelAliasFactory,
    RegisteredModelTagFactory,
)
from workspaces.context import in_workspace
from workspaces.models import Workspace

ADMIN = "/admin/registry"


def test_registered_models_of_every_workspace_are_listed(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    version_a = ModelVersionFactory(registered_model__workspace=team_a)
    ModelVersionFactory(registered_model__workspace=team_b)
    RegisteredModelTagFactory(registered_model=version_a.registered_model)
    RegisteredModelAliasFactory(model_version=version_a)
    ModelVersionTagFactory(model_version=version_a)

    listed = admin_client.get(f"{ADMIN}/registeredmodel/")
    filtered = admin_client.get(f"{ADMIN}/registeredmodel/", {"workspace__id__exact": team_a.pk})
    detail = admin_client.get(f"{ADMIN}/registeredmodel/{version_a.registered_model_id}/change/")
    versions = admin_client.get(f"{ADMIN}/modelversion/")
    version_detail = admin_client.get(f"{ADMIN}/modelversion/{version_a.pk}/change/")

    assert listed.status_code == 200
    assert len(listed.context["cl"].result_list) == 2
    assert [m.workspace for m in filtered.context["cl"].result_list] == [team_a]
    assert detail.status_code == 200
    assert versions.status_code == 200
    assert len(versions.context["cl"].result_list) == 2
    assert version_detail.status_code == 200


def test_registry_rows_cannot_be_added_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get(f"{ADMIN}/registeredmodel/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/modelversion/add/").status_code == 403


def make_webhook(workspace: Workspace, name: str, secret: str) -> Webhook:
    """A webhook with one event and one delivery that keeps failing (loopback target)."""
    with in_workspace(workspace):
        webhook = Webhook.objects.create(
            workspace=workspace,
            webhook_id=f"{name}-0000-0000-0000-000000000000"[:36],
            name=name,
            url=f"https://127.0.0.1:5151/{name}",
            secret=secret,
            creation_timestamp=1,
            last_updated_timestamp=1,
        )
        WebhookEvent.objects.create(
            workspace=workspace, webhook=webhook, entity="model_version", action="created"
        )
    WebhookDelivery.objects.create(
        delivery_id=f"{name}-delivery",
        webhook=webhook,
        workspace_name=workspace.name,
        entity="model_version",
        action="created",
        body="{}",
        attempts=2,
        next_attempt_at=timezone.now() + timedelta(minutes=1),
        created_at=timezone.now(),
        last_error="HTTP 503 from the target",
    )
    return webhook


def test_webhooks_of_every_workspace_are_listed_without_their_secret(
    admin_client: Client, team_a: Workspace, team_b: Workspace
) -> None:
    hook_a = make_webhook(team_a, "deploy-a", secret="secret-of-team-a")
    make_webhook(team_b, "deploy-b", secret="secret-of-team-b")

    listed = admin_client.get(f"{ADMIN}/webhook/")
    filtered = admin_client.get(f"{ADMIN}/webhook/", {"workspace__id__exact": team_a.pk})
    detail = admin_client.get(f"{ADMIN}/webhook/{hook_a.pk}/change/")

    assert listed.status_code == 200
    assert {w.name for w in listed.context["cl"].result_list} == {"deploy-a", "deploy-b"}
    assert [w.name for w in filtered.context["cl"].result_list] == ["deploy-a"]
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "https://127.0.0.1:5151/deploy-a" in page
    assert "HTTP 503 from the target" in page  # the pending delivery and why it is pending
    for response in (listed, detail):
        assert "secret-of-team" not in response.content.decode()
    assert "move_to_workspace" in listed.content.decode()


def test_webhooks_cannot_be_added_or_changed_in_the_admin(
    admin_client: Client, team_a: Workspace
) -> None:
    webhook = make_webhook(team_a, "deploy-a", secret="s")

    add = admin_client.get(f"{ADMIN}/webhook/add/")
    change = admin_client.post(
        f"{ADMIN}/webhook/{webhook.pk}/change/", {"url": "https://127.0.0.1:5152/other"}
    )

    assert (add.status_code, change.status_code) == (403, 403)
    with in_workspace(team_a):
        assert Webhook.objects.get().url == "https://127.0.0.1:5151/deploy-a"
