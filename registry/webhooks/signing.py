"""What a delivery looks like on the wire: the JSON envelope, headers and HMAC signature.

Facts from MLflow 3.17 (``mlflow/webhooks/delivery.py``, ``constants.py``), following the
Standard Webhooks conventions:

* body: ``{"entity", "action", "timestamp" (ISO 8601, UTC), "data", "workspace"}`` (``workspace``
  only with workspaces enabled), serialised with ``json.dumps`` defaults;
* ``X-MLflow-Delivery-Id``: a UUID; ``X-MLflow-Timestamp``: Unix seconds of the attempt;
* ``X-MLflow-Signature`` (only when the webhook has a secret): ``v1,`` + base64 of
  HMAC-SHA256(secret, ``"<delivery id>.<timestamp>.<body>"``). Receivers recompute it and
  should refuse stale timestamps (replay protection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, Final

from django.conf import settings

from registry.webhooks.events import Event

SIGNATURE_HEADER: Final = "X-MLflow-Signature"
TIMESTAMP_HEADER: Final = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER: Final = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION: Final = "v1"


def delivery_body(*, event: Event, data: dict[str, Any], workspace_name: str) -> str:
    """The JSON body of a delivery, built once: every attempt sends these exact bytes."""
    envelope: dict[str, Any] = {
        "entity": event.entity,
        "action": event.action,
        "timestamp": datetime.now(UTC).isoformat(),
        "data": data,
    }
    if settings.MLFLOW_ENABLE_WORKSPACES:
        envelope["workspace"] = workspace_name
    return json.dumps(envelope)


def signature(*, secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``<delivery id>.<timestamp>.<body>``."""
    signed = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def delivery_headers(*, delivery_id: str, body: str, secret: str, now: float) -> dict[str, str]:
    """The headers of one attempt at ``now`` (Unix seconds); signed when there is a secret."""
    timestamp = str(int(now))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"MLflow/{settings.MLFLOW_VERSION}",
        DELIVERY_ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature(
            secret=secret, delivery_id=delivery_id, timestamp=timestamp, body=body
        )
    return headers
