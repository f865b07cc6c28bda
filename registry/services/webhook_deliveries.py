"""The delivery worker's steps: claim due deliveries of every workspace, attempt one (signed
now with the webhook's current secret), then delete it or schedule the next attempt. spec:
registry.md §7; the worker's threads are ``registry.webhooks.worker``.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from django.conf import settings
from django.utils import timezone

from registry.models import (
    WEBHOOK_STATUS_ACTIVE,
    Webhook,
    WebhookDelivery,
)
from registry.selectors.webhooks import (
    webhook_delivery_next_due,
    webhook_for_delivery,
)
from registry.webhooks.signing import delivery_headers
from registry.webhooks.targets import (
    ForbiddenTargetError,
    TargetResponse,
    UnresolvableHostError,
    post,
)
from registry.webhooks.worker import DeliveryWorker

logger = logging.getLogger(__name__)

# Answers worth another attempt (as MLflow's urllib3 retry list, plus 408).
RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


def _lease() -> timedelta:
    """How long a claimed delivery is left to its worker: longer than any attempt can take."""
    return timedelta(seconds=3 * settings.MLFLOW_WEBHOOK_REQUEST_TIMEOUT + 60)


def webhook_deliveries_claim(limit: int) -> list[tuple[str, str]]:
    """Claim up to ``limit`` due deliveries of every workspace for this worker; returns their
    (delivery id, claim token). One conditional UPDATE decides between competing workers (in
    any process): a claimed row is not due again before its lease ends."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return []
    token = uuid.uuid4().hex
    WebhookDelivery.objects.filter(pk__in=due, next_attempt_at__lte=now).update(
        claim_token=token, next_attempt_at=now + _lease()
    )
    claimed = WebhookDelivery.objects.filter(pk__in=due, claim_token=token)
    return [(delivery_id, token) for delivery_id in claimed.values_list("pk", flat=True)]


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    retry: bool
    error: str = ""
    retry_after_seconds: float | None = None


def _send(webhook: Webhook, delivery: WebhookDelivery) -> _Outcome:
    """One POST of the delivery's body, signed now with the webhook's current secret."""
    headers = delivery_headers(
        delivery_id=delivery.delivery_id,
        body=delivery.body,
        secret=webhook.secret,
        now=time.time(),
    )
    try:
        response: TargetResponse = post(
            webhook.url,
            body=delivery.body,
            headers=headers,
            timeout=settings.MLFLOW_WEBHOOK_REQUEST_TIMEOUT,
        )
    except UnresolvableHostError as error:
        return _Outcome(delivered=False, retry=True, error=str(error))
    except ForbiddenTargetError as error:
        return _Outcome(delivered=False, retry=False, error=str(error))
    except OSError as error:
        return _Outcome(delivered=False, retry=True, error=repr(error))
    except Exception as error:  # a bug or an unforeseen input: trying again would not help
        logger.exception("Webhook %s delivery failed unexpectedly", webhook.webhook_id)
        return _Outcome(delivered=False, retry=False, error=repr(error))
    if 200 <= response.status < 300:
        return _Outcome(delivered=True, retry=False)
    return _Outcome(
        delivered=False,
        retry=response.status in RETRY_STATUSES,
        error=f"HTTP {response.status}: {response.body[:200]}",
        retry_after_seconds=response.retry_after_seconds,
    )


def _backoff(attempts: int, retry_after_seconds: float | None) -> timedelta:
    """MLFLOW_WEBHOOK_RETRY_BACKOFF_MS doubled per attempt so far, or the receiver's
    Retry-After if longer; both capped at MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS."""
    cap = settings.MLFLOW_WEBHOOK_RETRY_BACKOFF_MAX_MS
    delay = min(settings.MLFLOW_WEBHOOK_RETRY_BACKOFF_MS * 2 ** (attempts - 1), cap)
    if retry_after_seconds is not None:
        delay = max(delay, min(retry_after_seconds * 1000, cap))
    return timedelta(milliseconds=delay)


def webhook_delivery_attempt(delivery_id: str, claim_token: str) -> None:
    """Send one claimed delivery: delete it when delivered, when its webhook is gone or
    disabled, or when it failed for good; otherwise schedule the next attempt."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, claim_token=claim_token).first()
    if delivery is None:
        return  # its lease ran out and another worker has it now
    mine = WebhookDelivery.objects.filter(pk=delivery_id, claim_token=claim_token)
    webhook = webhook_for_delivery(delivery)
    if webhook is None or webhook.status != WEBHOOK_STATUS_ACTIVE:
        mine.delete()
        return
    outcome = _send(webhook, delivery)
    if outcome.delivered:
        mine.delete()
        return
    attempts = delivery.attempts + 1
    if outcome.retry and attempts <= settings.MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES:
        logger.info(
            "Webhook %s delivery %s failed (attempt %d), retrying: %s",
            webhook.webhook_id,
            delivery_id,
            attempts,
            outcome.error,
        )
        mine.update(
            attempts=attempts,
            claim_token="",
            last_error=outcome.error,
            next_attempt_at=timezone.now() + _backoff(attempts, outcome.retry_after_seconds),
        )
        return
    logger.warning(
        "Webhook %s delivery %s of %s.%s given up after %d attempt(s): %s",
        webhook.webhook_id,
        delivery_id,
        delivery.entity,
        delivery.action,
        attempts,
        outcome.error,
    )
    mine.delete()


_worker = DeliveryWorker(
    claim=webhook_deliveries_claim,
    attempt=webhook_delivery_attempt,
    next_due=webhook_delivery_next_due,
)


def delivery_worker() -> DeliveryWorker:
    """This process's delivery worker."""
    return _worker
