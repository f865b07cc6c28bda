"""Who is calling: HTTP Basic or bearer-token credentials, checked against Django's users.

spec: auth-workspace-permissions.md §2. Nothing here decides what a user may do (that is
``permissions/access/``); this module reads the ``Authorization`` header, builds the user
query that ``access`` extends with its permission columns (so a request costs one query), and
verifies the password.

Costs, because the benchmark runs with authentication on:

* Django's password hash (PBKDF2, about a third of a second) is checked once per process while
  the password is in use (until ``MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS`` after its last use):
  a successful check is remembered under a salted SHA-256 of (username, password, stored
  hash), never the password itself. Changing the password changes the stored hash, which
  invalidates the entry at once. Failures are never remembered. Threads checking the same
  credentials at once hash once.
* Bearer tokens are 256 random bits stored as SHA-256, so they are matched in the query itself
  (``permissions.selectors.user_with_columns``, which also fetches the permission columns).

Throttling: failed password checks are counted per (username, client address) in the database,
so every process sees the same count. After ``MLFLOW_AUTH_MAX_FAILED_LOGINS`` failures within
``MLFLOW_AUTH_FAILED_LOGIN_WINDOW_SECONDS`` that pair is refused without checking the password
until the window has passed. The answer stays the ordinary 401, not 429: the MLflow client
retries 429 with backoff (more attempts, for minutes) and gives up at once on 401; and the same
401 for a locked and an unknown user does not tell an attacker which usernames exist. Each
lockout is logged at WARNING. Only existing users are counted, so unknown names cannot fill the
table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.http import HttpRequest

from permissions.models import LoginFailure

logger = logging.getLogger(__name__)

# spec: auth-workspace-permissions.md §2, the reference's 401 text.
UNAUTHENTICATED_MESSAGE = (
    "You are not authenticated. Please see "
    "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
    "on how to authenticate."
)
PERMISSION_DENIED_MESSAGE = "Permission denied"
TOKEN_PREFIX = "mlft_"  # noqa: S105 (a label in front of every token, not a secret)


@dataclass(frozen=True)
class BasicCredentials:
    """``Authorization: Basic base64(username:password)``."""

    username: str
    password: str


@dataclass(frozen=True)
class TokenCredentials:
    """``Authorization: Bearer <token>`` (the client's ``MLFLOW_TRACKING_TOKEN``)."""

    token: str


Credentials = BasicCredentials | TokenCredentials


def credentials_from_header(header: str | None) -> Credentials | None:
    """The credentials an ``Authorization`` header carries, or None when it carries none."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "bearer" and value:
        return TokenCredentials(value)
    if scheme != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    if not separator or not username:
        return None
    return BasicCredentials(username, password)


def token_hash(token: str) -> str:
    """How a token is stored and looked up: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_secret() -> str:
    """A fresh token: a recognisable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def client_ip(request: HttpRequest) -> str:
    """The caller's address as the server sees it (a proxy's address behind a proxy)."""
    return str(request.META.get("REMOTE_ADDR") or "")[:45]


class _VerifiedPasswords:
    """Successful password checks of this process, bounded; an entry lives while it is used.

    An entry is kept ``MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS`` after its last use, not after its
    first: its key holds the stored hash, so it proves nothing once the password changes, and
    re-hashing a password still in use (a third of a second of CPU) every minute only stalled
    every request of that moment. Concurrent checks of the same credentials hash once
    (``checking``): the others wait for the first and find its entry.
    """

    def __init__(self, max_entries: int = 4096, stripes: int = 64) -> None:
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()
        self._salt = secrets.token_bytes(32)
        self._max_entries = max_entries
        self._checking = [threading.Lock() for _ in range(stripes)]

    def key(self, username: str, password: str, stored_hash: str) -> bytes:
        material = "\0".join((username, password, stored_hash)).encode("utf-8")
        return hashlib.sha256(self._salt + material).digest()

    def checking(self, key: bytes) -> threading.Lock:
        """The lock to hold while hashing for ``key`` (shared by a few keys; bounded)."""
        return self._checking[key[0] % len(self._checking)]

    def contains(self, key: bytes, seconds: float) -> bool:
        """Whether ``key`` was verified within ``seconds`` of now; if so, for ``seconds`` more."""
        with self._lock:
            expires = self._entries.get(key)
            if expires is None:
                return False
            now = time.monotonic()
            if expires < now:
                del self._entries[key]
                return False
            self._entries[key] = now + seconds
            return True

    def add(self, key: bytes, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._entries[key] = time.monotonic() + seconds
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_passwords = _VerifiedPasswords()


def credentials_verify(
    user: User, credentials: Credentials, ip: str, values: Mapping[str, Any]
) -> bool:
    """Whether the credentials prove ``user``, as fetched by
    ``permissions.selectors.user_with_columns`` with its ``recent_failures``."""
    if isinstance(credentials, TokenCredentials):
        return True  # the query matched the token's hash
    failures = values.get("recent_failures", 0) or 0
    if failures >= settings.MLFLOW_AUTH_MAX_FAILED_LOGINS:
        logger.warning("login refused: %r from %s is locked after %d failures", user, ip, failures)
        return False
    key = verified_passwords.key(credentials.username, credentials.password, user.password)
    seconds = settings.MLFLOW_AUTH_CREDENTIAL_CACHE_SECONDS
    if not verified_passwords.contains(key, seconds):
        with verified_passwords.checking(key):
            if not verified_passwords.contains(key, seconds):  # another thread's check
                # check_password without a setter: no hash upgrade, so no write on a read.
                if not check_password(credentials.password, user.password):
                    _failure_record(credentials.username, ip)
                    return False
                verified_passwords.add(key, seconds)
    if failures:
        LoginFailure.objects.filter(username=credentials.username, client_ip=ip).delete()
    return True


def _failure_record(username: str, ip: str) -> None:
    """Count one failed password check for (username, address), starting a window if needed."""
    from permissions.services import login_failure_record  # services import this module

    login_failure_record(username=username, client_ip=ip)


_bootstrap_lock = threading.Lock()
_bootstrap_done = False


def ensure_bootstrap_admin() -> None:
    """Create the configured admin once per process, on the first authenticated request.

    ``db_upgrade`` (through ``migrate``'s post_migrate signal) creates it too; this covers a
    server whose database was migrated before the admin was configured.
    """
    global _bootstrap_done
    if _bootstrap_done:
        return
    with _bootstrap_lock:
        if _bootstrap_done:
            return
        from permissions.services import user_bootstrap_admin  # services import this module

        user_bootstrap_admin()
        _bootstrap_done = True


def reset_bootstrap_state() -> None:
    """Forget that the admin was ensured (tests that change the configured admin)."""
    global _bootstrap_done
    _bootstrap_done = False
