"""The webhook endpoints: create, list, get, update, delete and test. spec: registry.md §7.

Admin only when authentication is on (spec: auth.md, "webhooks (all) | admin only"): a webhook
sends a workspace's registry events, and its secret, to a URL of the caller's choosing.
"""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from registry.selectors.webhooks import webhook_get, webhook_list
from registry.serializers_webhooks import (
    CreateWebhookIn,
    ListWebhooksIn,
    TestWebhookIn,
    UpdateWebhookIn,
    WebhookOut,
    WebhookTestResultOut,
    events_in,
)
from registry.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_test,
    webhook_update,
)
from registry.webhooks.events import event_from_wire
from workspaces.api import WorkspaceViewSet, json_response


class WebhookViewSet(WorkspaceViewSet):
    """Webhooks of the request's workspace."""

    required_permission = {
        "create": "admin",
        "list_webhooks": "admin",
        "get_webhook": "admin",
        "update_webhook": "admin",
        "delete_webhook": "admin",
        "test_webhook": "admin",
    }

    def create(self, request: Request) -> HttpResponse:
        data = self.parse(CreateWebhookIn, request)
        webhook = webhook_create(
            name=data["name"],
            url=data["url"],
            events=events_in(data.get("events", [])),
            description=data.get("description", ""),
            secret=data.get("secret", ""),
            status=data.get("status") or "ACTIVE",
        )
        return json_response({"webhook": WebhookOut.render(webhook)})

    def list_webhooks(self, request: Request) -> HttpResponse:
        data = self.parse(ListWebhooksIn, request)
        page = webhook_list(max_results=data.get("max_results"), page_token=data.get("page_token"))
        body: dict[str, object] = {}
        if page.items:
            body["webhooks"] = [WebhookOut.render(webhook) for webhook in page.items]
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return json_response(body)

    def get_webhook(self, request: Request, webhook_id: str) -> HttpResponse:
        return json_response({"webhook": WebhookOut.render(webhook_get(webhook_id))})

    def update_webhook(self, request: Request, webhook_id: str) -> HttpResponse:
        data = self.parse(UpdateWebhookIn, request)
        webhook = webhook_update(
            webhook_id=webhook_id,
            # An empty name or URL means "unchanged", as in the reference.
            name=data.get("name") or None,
            description=data.get("description"),
            url=data.get("url") or None,
            events=events_in(data.get("events", [])),
            secret=data.get("secret"),
            status=data.get("status"),
        )
        return json_response({"webhook": WebhookOut.render(webhook)})

    def delete_webhook(self, request: Request, webhook_id: str) -> HttpResponse:
        webhook_delete(webhook_id=webhook_id)
        return json_response({})

    def test_webhook(self, request: Request, webhook_id: str) -> HttpResponse:
        data = self.parse(TestWebhookIn, request)
        message = data.get("event")
        event = event_from_wire(message["entity"], message["action"]) if message else None
        result = webhook_test(webhook_id=webhook_id, event=event)
        return json_response({"result": WebhookTestResultOut.render(result)})
