"""MLflow's registry rules for names, versions, stages, tags and aliases, with its messages.

Mirrors ``mlflow.utils.validation`` and ``model_version_stages`` of MLflow 3.17.
spec: registry.md §2-3.
"""

from __future__ import annotations

import re
from typing import Final

from config import wire
from config.errors import InvalidParameterValueError
from registry.models import ALL_STAGES, MAX_ALIAS_LENGTH, MAX_MODEL_NAME_LENGTH, PROMPT_TEXT_TAG_KEY
from tracking.validators import (
    bad_path_message,
    invalid_value_message,
    is_path_not_unique,
    validate_key,
    validate_length,
)

MAX_TAG_KEY_LENGTH: Final = 250
MAX_TAG_VALUE_LENGTH: Final = 100_000
ALIAS_PATTERN: Final = re.compile(r"^[\w\-]*$")
VERSION_ALIAS_PATTERN: Final = re.compile(r"^[vV]\d+$")
LATEST_ALIAS: Final = "latest"
ACTIVE_STAGES: Final = ("Staging", "Production")
_CANONICAL_STAGES: Final = {stage.lower(): stage for stage in ALL_STAGES}


def validate_model_name(name: str, parameter: str = "name") -> None:
    """A registered model name: not blank, no ``/`` or ``:``, not path-like, ≤ 256 chars."""
    if not name.strip():
        raise wire.missing_value(parameter)
    if "/" in name or ":" in name:
        raise InvalidParameterValueError(
            f"Invalid model name '{name}'. Names cannot contain '/' or ':'."
        )
    if is_path_not_unique(name):
        raise InvalidParameterValueError(
            invalid_value_message(parameter, name, bad_path_message(name))
        )
    # differs from reference: a longer name fails there in the database (HTTP 500).
    validate_length(parameter, MAX_MODEL_NAME_LENGTH, name)


def parse_version(version: str | int) -> int:
    """A version number given as a string: ``Parameter 'version' must be an integer, ...``."""
    try:
        return int(version)
    except ValueError:
        raise InvalidParameterValueError(
            f"Parameter 'version' must be an integer, got '{version}'."
        ) from None


def canonical_stage(stage: str) -> str:
    """``production`` → ``Production``; anything but the four stages is refused."""
    canonical = _CANONICAL_STAGES.get(stage.lower())
    if canonical is None:
        raise InvalidParameterValueError(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
        )
    return canonical


def validate_registered_model_tag(key: str, value: str) -> None:
    """A registered model tag: key as run tags (≤ 250), value ≤ 100000 characters."""
    validate_key(key)
    validate_length("key", MAX_TAG_KEY_LENGTH, key)
    validate_length("value", MAX_TAG_VALUE_LENGTH, value)


def validate_model_version_tag(key: str, value: str) -> None:
    """A model version tag; a too long prompt text gets its own message."""
    validate_key(key)
    validate_length("key", MAX_TAG_KEY_LENGTH, key)
    if key == PROMPT_TEXT_TAG_KEY and len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterValueError(
            f"Prompt text exceeds max length of {MAX_TAG_VALUE_LENGTH} characters."
        )
    validate_length("value", MAX_TAG_VALUE_LENGTH, value)


def validate_alias_name(alias: str) -> None:
    """An alias: letters, digits, ``_`` and ``-``, at most 255 characters."""
    if not alias:
        raise InvalidParameterValueError("Registered model alias name cannot be empty.")
    if not ALIAS_PATTERN.match(alias):
        raise InvalidParameterValueError(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    validate_length("Registered model alias name", MAX_ALIAS_LENGTH, alias)


def validate_alias_not_reserved(alias: str) -> None:
    """``latest`` (any case) and ``v<digits>`` name versions themselves, so no alias may."""
    if alias.lower() == LATEST_ALIAS:
        raise InvalidParameterValueError("'latest' alias name (case insensitive) is reserved.")
    if VERSION_ALIAS_PATTERN.match(alias):
        raise InvalidParameterValueError(f"Version alias name '{alias}' is reserved.")
