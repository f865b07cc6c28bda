"""The webhook event catalogue: MLflow's entities, actions, valid pairs and example payloads.

Values are MLflow's lower-case ones (``model_version``, ``created``); the wire uses the upper-case
protobuf enum names (``MODEL_VERSION``, ``CREATED``). spec: registry.md §7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from config.errors import InvalidParameterValueError

# Protobuf enum numbers (mlflow/protos/webhooks.proto); *_UNSPECIFIED is never accepted.
WIRE_ENTITIES: Final = {
    "REGISTERED_MODEL": 1,
    "MODEL_VERSION": 2,
    "MODEL_VERSION_TAG": 3,
    "MODEL_VERSION_ALIAS": 4,
    "PROMPT": 5,
    "PROMPT_VERSION": 6,
    "PROMPT_TAG": 7,
    "PROMPT_VERSION_TAG": 8,
    "PROMPT_ALIAS": 9,
    "BUDGET_POLICY": 10,
}
WIRE_ACTIONS: Final = {"CREATED": 1, "UPDATED": 2, "DELETED": 3, "SET": 4, "EXCEEDED": 5}

VALID_ACTIONS: Final[dict[str, frozenset[str]]] = {
    "registered_model": frozenset({"created"}),
    "model_version": frozenset({"created"}),
    "model_version_tag": frozenset({"set", "deleted"}),
    "model_version_alias": frozenset({"created", "deleted"}),
    "prompt": frozenset({"created"}),
    "prompt_version": frozenset({"created"}),
    "prompt_tag": frozenset({"set", "deleted"}),
    "prompt_version_tag": frozenset({"set", "deleted"}),
    "prompt_alias": frozenset({"created", "deleted"}),
    "budget_policy": frozenset({"exceeded"}),
}


@dataclass(frozen=True)
class Event:
    """One ``(entity, action)`` pair, in MLflow's lower-case values."""

    entity: str
    action: str

    def to_wire(self) -> dict[str, str]:
        """``{"entity": "MODEL_VERSION", "action": "CREATED"}``."""
        return {"entity": self.entity.upper(), "action": self.action.upper()}

    def __str__(self) -> str:
        return f"{self.entity}.{self.action}"


def event_from_wire(entity: str, action: str) -> Event:
    """The event named by wire enum names; an invalid pair gets MLflow's message
    (spec: examples/webhooks/errors.json)."""
    event = Event(entity.lower(), action.lower())
    valid = VALID_ACTIONS.get(event.entity, frozenset())
    if event.action not in valid:
        raise InvalidParameterValueError(
            f"Invalid action '{event.action}' for entity '{event.entity}'. "
            f"Valid actions are: {sorted(valid)}"
        )
    return event


REGISTERED_MODEL_CREATED: Final = Event("registered_model", "created")
MODEL_VERSION_CREATED: Final = Event("model_version", "created")
MODEL_VERSION_TAG_SET: Final = Event("model_version_tag", "set")
MODEL_VERSION_TAG_DELETED: Final = Event("model_version_tag", "deleted")
MODEL_VERSION_ALIAS_CREATED: Final = Event("model_version_alias", "created")
MODEL_VERSION_ALIAS_DELETED: Final = Event("model_version_alias", "deleted")
PROMPT_CREATED: Final = Event("prompt", "created")
PROMPT_VERSION_CREATED: Final = Event("prompt_version", "created")
PROMPT_TAG_SET: Final = Event("prompt_tag", "set")
PROMPT_TAG_DELETED: Final = Event("prompt_tag", "deleted")
PROMPT_VERSION_TAG_SET: Final = Event("prompt_version_tag", "set")
PROMPT_VERSION_TAG_DELETED: Final = Event("prompt_version_tag", "deleted")
PROMPT_ALIAS_CREATED: Final = Event("prompt_alias", "created")
PROMPT_ALIAS_DELETED: Final = Event("prompt_alias", "deleted")
BUDGET_POLICY_EXCEEDED: Final = Event("budget_policy", "exceeded")

_MODEL_TAG: Final = {"example_key": "example_value"}

# What ``webhooks/{id}/test`` sends for each event: MLflow's example payloads
# (mlflow/webhooks/types.py), so receivers see the shape of the real event.
EXAMPLE_PAYLOADS: Final[dict[Event, dict[str, Any]]] = {
    REGISTERED_MODEL_CREATED: {
        "name": "example_model",
        "tags": _MODEL_TAG,
        "description": "An example registered model",
    },
    MODEL_VERSION_CREATED: {
        "name": "example_model",
        "version": "1",
        "source": "models:/123",
        "run_id": "abcd1234abcd5678",
        "tags": _MODEL_TAG,
        "description": "An example model version",
    },
    MODEL_VERSION_TAG_SET: {
        "name": "example_model",
        "version": "1",
        "key": "example_key",
        "value": "example_value",
    },
    MODEL_VERSION_TAG_DELETED: {"name": "example_model", "version": "1", "key": "example_key"},
    MODEL_VERSION_ALIAS_CREATED: {
        "name": "example_model",
        "alias": "example_alias",
        "version": "1",
    },
    MODEL_VERSION_ALIAS_DELETED: {"name": "example_model", "alias": "example_alias"},
    PROMPT_CREATED: {
        "name": "example_prompt",
        "tags": _MODEL_TAG,
        "description": "An example prompt",
    },
    PROMPT_VERSION_CREATED: {
        "name": "example_prompt",
        "version": "1",
        "template": "Hello {{name}}!",
        "tags": _MODEL_TAG,
        "description": "An example prompt version",
    },
    PROMPT_TAG_SET: {"name": "example_prompt", "key": "example_key", "value": "example_value"},
    PROMPT_TAG_DELETED: {"name": "example_prompt", "key": "example_key"},
    PROMPT_VERSION_TAG_SET: {
        "name": "example_prompt",
        "version": "1",
        "key": "example_key",
        "value": "example_value",
    },
    PROMPT_VERSION_TAG_DELETED: {"name": "example_prompt", "version": "1", "key": "example_key"},
    PROMPT_ALIAS_CREATED: {"name": "example_prompt", "alias": "example_alias", "version": "1"},
    PROMPT_ALIAS_DELETED: {"name": "example_prompt", "alias": "example_alias"},
    BUDGET_POLICY_EXCEEDED: {
        "budget_policy_id": "bp-abc123",
        "budget_unit": "USD",
        "budget_amount": 100.0,
        "current_spend": 105.5,
        "duration_unit": "MONTHS",
        "duration_value": 1,
        "target_scope": "ENDPOINT",
        "workspace": "default",
        "target_value": "ep-abc123",
        "window_start": 1704067200000,
    },
}
