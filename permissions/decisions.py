"""Recent positive authorization decisions of this process, so a repeated request costs no query.

``permissions.access.authorize`` resolves a request with one query (user, password hash,
workspace row, resource rows). Clients repeat the same request shape many times a second
(``log-metric`` to one run, ``runs/create`` in one experiment), so the outcome is remembered for
``MLFLOW_AUTH_DECISION_CACHE_SECONDS``, keyed by everything the decision read from the request:
a keyed hash of the ``Authorization`` header (never the secret itself), the client address,
the workspace's id, the requirement and the resource the request names.

What is remembered, and why it stays exact:

* Only grants. A refusal (401 or 403) is decided from the database every time, so a new
  password, grant or user works at once everywhere.
* A write through ``permissions.services`` (passwords, admin flag, users, permission rows, a
  failed login) and every POST to the admin site (tokens, users, rows, moves) forget
  everything here at once, and again when its
  transaction commits, so no thread keeps an answer it computed from pre-commit rows
  (``generation`` makes a decision computed before a ``forget`` unstorable).
* Other processes (more workers, more hosts) see a revocation, a deleted user or a changed
  password within the bound: that is the documented revocation delay. Likewise, within the
  bound, a resource deleted or moved to another workspace by another process may be answered
  with the view's 404 where a fresh check would refuse with 403.
* A creator's MANAGE row (after-request hook) forgets nothing: MANAGE allows everything, so it
  cannot turn a remembered grant into a refusal.
* Admins are remembered per credentials alone: their answer does not depend on the resource.
* A grant also answers what it implies where the rule is monotone in the level (an experiment
  or run granted for EDIT is granted for READ and USE), and a successful create tells what the
  one query would find next (``permissions.access.remember_created_experiment`` and
  ``remember_created_run``): such derived grants never outlive the grant they came from, so
  the bound holds.

The cache holds at most ``max_entries`` decisions (oldest first out) and no passwords; entries
carry the user's column values, and each hit builds a fresh ``User`` from them, so no model
instance is shared between threads.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

_USER_FIELDS = tuple(field.attname for field in User._meta.concrete_fields)


class Decisions:
    """Positive decisions: key → (deadline, the user's field values), bounded, thread-safe.

    Deadlines are ``time.monotonic()`` values. Reads take no lock.
    """

    def __init__(self, max_entries: int = 8192) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, tuple[Any, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        self._salt = secrets.token_bytes(32)
        self._max_entries = max_entries
        self.generation = 0

    def credentials_key(self, header: str) -> bytes:
        """A keyed digest of the ``Authorization`` header: no secret is kept in memory."""
        return hashlib.blake2b(header.encode("utf-8"), key=self._salt, digest_size=20).digest()

    def get(self, key: Hashable) -> tuple[User, float] | None:
        """The user of a remembered, unexpired grant under ``key`` and its deadline."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, entry[1]), entry[0]

    def deadline(self, until: datetime | None = None) -> float:
        """When a grant decided now expires: after the configured time, and never after
        ``until`` (when the bearer token that proved the caller expires)."""
        seconds: float = settings.MLFLOW_AUTH_DECISION_CACHE_SECONDS
        if until is not None:
            seconds = min(seconds, (until - timezone.now()).total_seconds())
        return time.monotonic() + seconds

    def put(self, key: Hashable, user: User, generation: int, deadline: float) -> None:
        """Remember a grant until ``deadline``, decided from data read at ``generation``;
        not if something was forgotten since, which may have changed the answer."""
        if deadline <= time.monotonic():
            return
        values = tuple(getattr(user, name) for name in _USER_FIELDS)
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = (deadline, values)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every decision now (and make decisions being computed unstorable)."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


decisions = Decisions()


def decisions_forget() -> None:
    """Forget every remembered decision: now, and again when the current transaction commits.

    Called by every write that can take a permission away. The second pass covers a request in
    another thread that read the old rows between now and the commit.
    """
    decisions.clear()
    transaction.on_commit(decisions.clear)
