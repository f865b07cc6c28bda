"""Reads of webhooks in the active workspace, and of what a delivery needs. spec: registry.md §7.

Another workspace's webhook is reported exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Final

from django.db.models import Min, Prefetch, Q, QuerySet

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from registry.models import WEBHOOK_STATUS_ACTIVE, Webhook, WebhookDelivery, WebhookEvent
from registry.webhooks.events import Event
from tracking.search.paging import SearchPage, decode_page_token, page_from_rows
from workspaces.context import in_workspace
from workspaces.models import Workspace

WEBHOOKS_MAX_RESULTS_DEFAULT: Final = 100
WEBHOOKS_MAX_RESULTS_LIMIT: Final = 1000


def webhook_not_found(webhook_id: str) -> ResourceDoesNotExistError:
    """``Webhook with ID <id> not found.`` (spec: examples/webhooks/crud.json)."""
    return ResourceDoesNotExistError(f"Webhook with ID {webhook_id} not found.")


def _with_events(webhooks: QuerySet[Webhook]) -> QuerySet[Webhook]:
    """Webhooks with their events loaded in one more query, in the order they were given."""
    return webhooks.prefetch_related(
        Prefetch("events", queryset=WebhookEvent.objects.order_by("pk"))
    )


def webhook_get(webhook_id: str) -> Webhook:
    """The webhook ``webhook_id`` of the active workspace, with its events (two queries)."""
    webhook = _with_events(Webhook.objects.filter(pk=webhook_id)).first()
    if webhook is None:
        raise webhook_not_found(webhook_id)
    return webhook


def webhook_list(*, max_results: int | None, page_token: str | None) -> SearchPage[Webhook]:
    """One page of the workspace's webhooks, newest first, with their events (two queries).

    ``max_results`` 0 or absent means 100, as in the reference."""
    limit = max_results or WEBHOOKS_MAX_RESULTS_DEFAULT
    if not 1 <= limit <= WEBHOOKS_MAX_RESULTS_LIMIT:
        raise InvalidParameterValueError(
            f"max_results must be between 1 and {WEBHOOKS_MAX_RESULTS_LIMIT}."
        )
    offset = decode_page_token(page_token)
    webhooks = _with_events(Webhook.objects.order_by("-creation_timestamp", "webhook_id"))
    return page_from_rows(
        list(webhooks[offset : offset + limit + 1]), offset=offset, max_results=limit
    )


def webhook_subscribers(events: Sequence[Event]) -> dict[Event, list[str]]:
    """The ids of the workspace's active webhooks subscribed to each of ``events``, oldest
    subscription first; events nobody subscribes to are left out (one query)."""
    condition = reduce(or_, (Q(entity=event.entity, action=event.action) for event in events))
    rows = (
        WebhookEvent.objects.filter(condition, webhook__status=WEBHOOK_STATUS_ACTIVE)
        .order_by("pk")
        .values_list("entity", "action", "webhook_id")
    )
    subscribers: dict[Event, list[str]] = {}
    for entity, action, webhook_id in rows:
        subscribers.setdefault(Event(entity, action), []).append(webhook_id)
    return subscribers


def webhook_for_delivery(delivery: WebhookDelivery) -> Webhook | None:
    """The webhook a delivery is for, read inside the workspace the event happened in, or None
    when that workspace or the webhook in it is gone (deleted, or moved elsewhere since)."""
    workspace = Workspace.objects.filter(name=delivery.workspace_name).first()
    if workspace is None:
        return None
    with in_workspace(workspace):
        return Webhook.objects.filter(pk=delivery.webhook_id).first()


def webhook_delivery_next_due() -> datetime | None:
    """When the earliest pending delivery of any workspace is due (claimed ones included:
    their lease end), or None when nothing is pending. Deliveries are a queue, not
    workspace-owned data."""
    return WebhookDelivery.objects.aggregate(due=Min("next_attempt_at"))["due"]
