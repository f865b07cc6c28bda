"""Rules for usernames, passwords and permission levels, with MLflow's messages.

Shared by the API, the Django admin and the commands, so each says the same thing.
"""

from __future__ import annotations

from config.errors import InvalidParameterValueError
from permissions.models import LEVEL_NAMES

PASSWORD_MIN_LENGTH = 12
USERNAME_MAX_LENGTH = 150  # Django's auth.User.username


def validate_level(permission: str) -> str:
    """A permission level exactly as MLflow spells it (case-sensitive, spec §3)."""
    if permission not in LEVEL_NAMES:
        raise InvalidParameterValueError(
            f"Invalid permission '{permission}'. Valid permissions are: {LEVEL_NAMES}"
        )
    return permission


def validate_password(password: str) -> str:
    """At least 12 characters (the reference's message says "longer than", 12 is accepted)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidParameterValueError(
            f"Password must be a string longer than {PASSWORD_MIN_LENGTH} characters."
        )
    return password


def validate_username(username: str) -> str:
    """A username that fits Django's user table."""
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidParameterValueError(
            f"Username must be at most {USERNAME_MAX_LENGTH} characters long."
        )
    return username
