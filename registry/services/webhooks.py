"""Writes to webhooks in the active workspace, and registry events turned into deliveries.
spec: registry.md §7; design in ``registry/webhooks/__init__.py``. The background worker's
delivery attempts are in ``registry.services.webhook_deliveries``.

The registry services call one ``webhook_notify_*`` function per event. Each only registers a
``transaction.on_commit`` callback that catches every error: a write that rolls back notifies
nobody, and nothing here can fail, or wait on a receiver for, the write that caused the event.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import InvalidParameterValueError
from registry.models import (
    IS_PROMPT_TAG_KEY,
    MAX_WEBHOOK_DESCRIPTION_LENGTH,
    MAX_WEBHOOK_URL_LENGTH,
    PROMPT_TEXT_TAG_KEY,
    PROMPT_TYPE_TAG_KEY,
    WEBHOOK_STATUS_ACTIVE,
    ModelVersion,
    RegisteredModel,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from registry.selectors.lookups import registered_model_is_prompt, tags_mark_prompt
from registry.selectors.webhooks import (
    webhook_get,
    webhook_not_found,
    webhook_subscribers,
)
from registry.services.webhook_deliveries import delivery_worker
from registry.webhooks import events as ev
from registry.webhooks.events import EXAMPLE_PAYLOADS, Event
from registry.webhooks.signing import delivery_body, delivery_headers
from registry.webhooks.targets import (
    post,
    validate_webhook_url,
)
from tracking.clock import now_ms
from workspaces.context import NoActiveWorkspace, current_workspace, in_workspace
from workspaces.models import Workspace
from workspaces.selectors import current_workspace_checked

logger = logging.getLogger(__name__)

# spec: registry.md §7 (MLflow's _WEBHOOK_NAME_REGEX).
WEBHOOK_NAME_PATTERN: Final = re.compile(
    r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE
)


# --- CRUD ------------------------------------------------------------------------------------


def _validate_name(name: str) -> None:
    if not WEBHOOK_NAME_PATTERN.fullmatch(name):
        raise InvalidParameterValueError(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, "
            "be less than 63 characters long, and contain only letters, digits, dots (.), "
            "underscores (_), and hyphens (-)."
        )


def _validate_url(url: str) -> None:
    if len(url) > MAX_WEBHOOK_URL_LENGTH:
        # differs from reference: a database error (500) on PostgreSQL and MariaDB there.
        raise InvalidParameterValueError(
            f"Webhook URL must be at most {MAX_WEBHOOK_URL_LENGTH} characters long, got {len(url)}."
        )
    validate_webhook_url(url)


def _validate_description(description: str) -> None:
    if len(description) > MAX_WEBHOOK_DESCRIPTION_LENGTH:
        raise InvalidParameterValueError(
            f"Webhook description must be at most {MAX_WEBHOOK_DESCRIPTION_LENGTH} characters "
            f"long, got {len(description)}."
        )


def _clean_events(events: Sequence[Event]) -> list[Event]:
    """The events once each, in the order given; at least one."""
    if not events:
        raise InvalidParameterValueError(
            "Webhook events must be a non-empty list of WebhookEvent objects: []."
        )
    # differs from reference: a repeated event is a primary-key violation (500) there.
    return list(dict.fromkeys(events))


def _subscribe(webhook: Webhook, events: Iterable[Event]) -> None:
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            workspace=webhook.workspace, webhook=webhook, entity=event.entity, action=event.action
        )
        for event in events
    )


def webhook_create(
    *,
    name: str,
    url: str,
    events: Sequence[Event],
    description: str = "",
    secret: str = "",
    status: str = WEBHOOK_STATUS_ACTIVE,
) -> Webhook:
    """Create a webhook in the active workspace; checked in the reference's order (name, URL,
    events). ``secret`` is kept for signing deliveries and never shown again."""
    _validate_name(name)
    _validate_url(url)
    unique_events = _clean_events(events)
    _validate_description(description)
    now = now_ms()
    with transaction.atomic():
        webhook = Webhook.objects.create(
            workspace=current_workspace_checked(),
            webhook_id=str(uuid.uuid4()),
            name=name,
            url=url,
            description=description,
            secret=secret,
            status=status,
            creation_timestamp=now,
            last_updated_timestamp=now,
        )
        _subscribe(webhook, unique_events)
    return webhook_get(webhook.webhook_id)


def webhook_update(
    *,
    webhook_id: str,
    name: str | None = None,
    description: str | None = None,
    url: str | None = None,
    events: Sequence[Event] | None = None,
    secret: str | None = None,
    status: str | None = None,
) -> Webhook:
    """Apply the given fields (None: keep). An empty ``events`` list keeps the events, as in
    the reference; ``secret=""`` removes the secret (deliveries are then unsigned)."""
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if webhook is None:
            raise webhook_not_found(webhook_id)
        if name is not None:
            _validate_name(name)
            webhook.name = name
        if url is not None:
            _validate_url(url)
            webhook.url = url
        if events:
            unique_events = _clean_events(events)
            WebhookEvent.objects.filter(webhook=webhook).delete()
            _subscribe(webhook, unique_events)
        if description is not None:
            _validate_description(description)
            webhook.description = description
        if secret is not None:
            webhook.secret = secret
        if status is not None:
            webhook.status = status
        webhook.last_updated_timestamp = now_ms()
        webhook.save()
    return webhook_get(webhook_id)


@transaction.atomic
def webhook_delete(*, webhook_id: str) -> None:
    """Delete a webhook with its events and its pending deliveries."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        raise webhook_not_found(webhook_id)
    webhook.delete()


@dataclass(frozen=True)
class WebhookTestResult:
    """The outcome of ``webhooks/{id}/test``."""

    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None


def webhook_test(*, webhook_id: str, event: Event | None = None) -> WebhookTestResult:
    """Send MLflow's example payload of ``event`` (default: the webhook's first event) to the
    webhook now, once, signed like a real delivery, and report what happened.

    differs from reference: one attempt, no retries (the caller is waiting), and redirects are
    not followed, so only a 2xx answer is a success.
    """
    webhook = webhook_get(webhook_id)
    chosen = event or next(Event(row.entity, row.action) for row in webhook.events.all())
    body = delivery_body(
        event=chosen, data=EXAMPLE_PAYLOADS[chosen], workspace_name=current_workspace().name
    )
    headers = delivery_headers(
        delivery_id=str(uuid.uuid4()), body=body, secret=webhook.secret, now=time.time()
    )
    try:
        response = post(
            webhook.url, body=body, headers=headers, timeout=settings.MLFLOW_WEBHOOK_REQUEST_TIMEOUT
        )
    except (InvalidParameterValueError, OSError) as error:
        return WebhookTestResult(success=False, error_message=f"Failed to test webhook: {error!r}")
    return WebhookTestResult(
        success=200 <= response.status < 300,
        response_status=response.status,
        response_body=response.body,
    )


# --- Registry events → deliveries --------------------------------------------------------------


def webhook_deliveries_enqueue(
    *,
    workspace: Workspace,
    candidates: Sequence[Event],
    decide: Callable[[], Event | None],
    data: dict[str, Any],
) -> int:
    """Queue one delivery per active webhook subscribed to the event that happened; returns
    how many. ``candidates`` are the events it may be (model and prompt variant); ``decide``
    picks the actual one and runs only when some webhook subscribes to a candidate."""
    subscribers = webhook_subscribers(candidates)
    if not subscribers:
        return 0
    event = decide()
    if event is None or event not in subscribers:
        return 0
    webhook_ids = subscribers[event]
    body = delivery_body(event=event, data=data, workspace_name=workspace.name)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            delivery_id=str(uuid.uuid4()),
            webhook_id=webhook_id,
            workspace_name=workspace.name,
            entity=event.entity,
            action=event.action,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for webhook_id in webhook_ids
    )
    delivery_worker().wake()
    return len(webhook_ids)


def _notify(
    *,
    workspace_id: int,
    candidates: Sequence[Event],
    decide: Callable[[], Event | None],
    data: dict[str, Any],
) -> None:
    """After the current transaction commits, queue the deliveries of one event that happened
    in workspace ``workspace_id`` (the active one, unless a caller works across workspaces)."""
    active = _active_workspace()

    def enqueue() -> None:
        try:
            workspace = (
                active
                if active is not None and active.pk == workspace_id
                else Workspace.objects.get(pk=workspace_id)
            )
            with in_workspace(workspace):
                webhook_deliveries_enqueue(
                    workspace=workspace, candidates=candidates, decide=decide, data=data
                )
        except Exception:  # the write has committed; a lost notification must not fail it
            logger.exception("Could not queue webhook deliveries for %s", list(candidates))

    transaction.on_commit(enqueue, robust=True)


def _active_workspace() -> Workspace | None:
    try:
        return current_workspace()
    except NoActiveWorkspace:
        return None


def _prompt_or_model(
    model: RegisteredModel, *, prompt_event: Event, model_event: Event | None
) -> Callable[[], Event | None]:
    """Decide from the model's ``mlflow.prompt.is_prompt`` tag, read after the commit (as
    the reference reads it after its write)."""

    def decide() -> Event | None:
        return prompt_event if registered_model_is_prompt(model) else model_event

    return decide


def _fixed(event: Event) -> Callable[[], Event | None]:
    return lambda: event


def _without_prompt_keys(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if k not in (IS_PROMPT_TAG_KEY, PROMPT_TYPE_TAG_KEY)}


def webhook_notify_registered_model_created(
    *, model: RegisteredModel, tags: Sequence[tuple[str, str]]
) -> None:
    """``registered_model.created``, or ``prompt.created`` when the request's tags mark a
    prompt (without the prompt marker tags)."""
    tag_map = dict(tags)
    if tags_mark_prompt(tag_map):
        event, shown = ev.PROMPT_CREATED, _without_prompt_keys(tag_map)
    else:
        event, shown = ev.REGISTERED_MODEL_CREATED, tag_map
    data = {"name": model.name, "tags": shown, "description": model.description}
    _notify(workspace_id=model.workspace_id, candidates=(event,), decide=_fixed(event), data=data)


def model_version_created_event(tags: Sequence[tuple[str, str]]) -> Event:
    """``prompt_version.created`` when a new version's tags mark a prompt, else
    ``model_version.created``."""
    return ev.PROMPT_VERSION_CREATED if tags_mark_prompt(dict(tags)) else ev.MODEL_VERSION_CREATED


def webhook_notify_model_version_created(
    *,
    version: ModelVersion,
    name: str,
    tags: Sequence[tuple[str, str]],
    subscribed: bool | None = None,
) -> None:
    """``model_version.created``, or ``prompt_version.created`` (with the template taken out of
    the tags) when the request's tags mark a prompt.

    ``subscribed``: whether an active webhook subscribed to ``model_version_created_event(tags)``,
    as read inside the creating transaction (``registry.version_rows.model_lock``). False
    queues nothing and saves the lookup after the commit; None (not known) looks then.
    """
    if subscribed is False:
        return
    tag_map = dict(tags)
    data: dict[str, Any]
    if tags_mark_prompt(tag_map):
        event = ev.PROMPT_VERSION_CREATED
        shown = _without_prompt_keys(tag_map)
        template = shown.pop(PROMPT_TEXT_TAG_KEY, None)
        data = {
            "name": name,
            "version": str(version.version),
            "template": template,
            "tags": shown,
            "description": version.description or None,
        }
    else:
        event = ev.MODEL_VERSION_CREATED
        data = {
            "name": name,
            "version": str(version.version),
            "source": version.source,
            "run_id": version.run_id or None,
            "tags": tag_map,
            "description": version.description or None,
        }
    _notify(workspace_id=version.workspace_id, candidates=(event,), decide=_fixed(event), data=data)


def webhook_notify_registered_model_tag_set(
    *, model: RegisteredModel, key: str, value: str
) -> None:
    """``prompt_tag.set`` when the model is a prompt (models have no such event)."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.PROMPT_TAG_SET,),
        decide=_prompt_or_model(model, prompt_event=ev.PROMPT_TAG_SET, model_event=None),
        data={"name": model.name, "key": key, "value": value},
    )


def webhook_notify_registered_model_tag_deleted(*, model: RegisteredModel, key: str) -> None:
    """``prompt_tag.deleted`` when the model is a prompt."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.PROMPT_TAG_DELETED,),
        decide=_prompt_or_model(model, prompt_event=ev.PROMPT_TAG_DELETED, model_event=None),
        data={"name": model.name, "key": key},
    )


def webhook_notify_model_version_tag_set(
    *, model: RegisteredModel, version: str, key: str, value: str
) -> None:
    """``model_version_tag.set`` or ``prompt_version_tag.set``; ``version`` as requested."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.MODEL_VERSION_TAG_SET, ev.PROMPT_VERSION_TAG_SET),
        decide=_prompt_or_model(
            model, prompt_event=ev.PROMPT_VERSION_TAG_SET, model_event=ev.MODEL_VERSION_TAG_SET
        ),
        data={"name": model.name, "version": version, "key": key, "value": value},
    )


def webhook_notify_model_version_tag_deleted(
    *, model: RegisteredModel, version: str, key: str
) -> None:
    """``model_version_tag.deleted`` or ``prompt_version_tag.deleted``."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.MODEL_VERSION_TAG_DELETED, ev.PROMPT_VERSION_TAG_DELETED),
        decide=_prompt_or_model(
            model,
            prompt_event=ev.PROMPT_VERSION_TAG_DELETED,
            model_event=ev.MODEL_VERSION_TAG_DELETED,
        ),
        data={"name": model.name, "version": version, "key": key},
    )


def webhook_notify_alias_created(*, model: RegisteredModel, alias: str, version: str) -> None:
    """``model_version_alias.created`` or ``prompt_alias.created`` (also when an alias moves)."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.MODEL_VERSION_ALIAS_CREATED, ev.PROMPT_ALIAS_CREATED),
        decide=_prompt_or_model(
            model,
            prompt_event=ev.PROMPT_ALIAS_CREATED,
            model_event=ev.MODEL_VERSION_ALIAS_CREATED,
        ),
        data={"name": model.name, "alias": alias, "version": version},
    )


def webhook_notify_alias_deleted(*, model: RegisteredModel, alias: str) -> None:
    """``model_version_alias.deleted`` or ``prompt_alias.deleted``."""
    _notify(
        workspace_id=model.workspace_id,
        candidates=(ev.MODEL_VERSION_ALIAS_DELETED, ev.PROMPT_ALIAS_DELETED),
        decide=_prompt_or_model(
            model,
            prompt_event=ev.PROMPT_ALIAS_DELETED,
            model_event=ev.MODEL_VERSION_ALIAS_DELETED,
        ),
        data={"name": model.name, "alias": alias},
    )
