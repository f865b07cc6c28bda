"""Request schemas and response shapes of the webhook endpoints. spec: registry.md §7."""

from __future__ import annotations

from typing import Any

from config import wire
from registry.models import Webhook
from registry.services.webhooks import WebhookTestResult
from registry.webhooks.events import WIRE_ACTIONS, WIRE_ENTITIES, Event, event_from_wire

WIRE_STATUSES = {"ACTIVE": 1, "DISABLED": 2}


class WebhookEventIn(wire.Schema):
    entity = wire.Enum(WIRE_ENTITIES, required=True)
    action = wire.Enum(WIRE_ACTIONS, required=True)


class CreateWebhookIn(wire.Schema):
    name = wire.String(required=True)
    url = wire.String(required=True)
    # Not required here: an empty list gets the reference's own message from the service.
    events = wire.Repeated(wire.Message(WebhookEventIn))
    description = wire.String()
    secret = wire.String()
    status = wire.Enum(WIRE_STATUSES)


class ListWebhooksIn(wire.Schema):
    max_results = wire.Int64()
    page_token = wire.String()


class UpdateWebhookIn(wire.Schema):
    name = wire.String()
    description = wire.String()
    url = wire.String()
    events = wire.Repeated(wire.Message(WebhookEventIn))
    secret = wire.String()
    status = wire.Enum(WIRE_STATUSES)


class TestWebhookIn(wire.Schema):
    event = wire.Message(WebhookEventIn)


def events_in(messages: list[dict[str, Any]]) -> list[Event]:
    """Parsed ``[{entity, action}]`` messages as events; an invalid pair is refused."""
    return [event_from_wire(message["entity"], message["action"]) for message in messages]


class WebhookOut:
    """A webhook as MLflow sends it: ``description`` only when not empty, never the secret."""

    @staticmethod
    def render(webhook: Webhook) -> dict[str, Any]:
        body: dict[str, Any] = {"webhook_id": webhook.webhook_id, "name": webhook.name}
        if webhook.description:
            body["description"] = webhook.description
        body["url"] = webhook.url
        body["events"] = [Event(row.entity, row.action).to_wire() for row in webhook.events.all()]
        body["status"] = webhook.status
        body["creation_timestamp"] = webhook.creation_timestamp
        body["last_updated_timestamp"] = webhook.last_updated_timestamp
        return body


class WebhookTestResultOut:
    """``{success, response_status?, response_body?, error_message?}``."""

    @staticmethod
    def render(result: WebhookTestResult) -> dict[str, Any]:
        body: dict[str, Any] = {"success": result.success}
        if result.response_status is not None:
            body["response_status"] = result.response_status
        if result.response_body is not None:
            body["response_body"] = result.response_body
        if result.error_message is not None:
            body["error_message"] = result.error_message
        return body
