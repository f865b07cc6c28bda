"""The background worker of one process: drains the ``WebhookDelivery`` outbox.

One daemon thread claims due deliveries (as many as there are free senders) and hands them to a
thread pool of ``MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS`` senders; it sleeps until the next
delivery is due, at most ``MLFLOW_WEBHOOK_POLL_SECONDS``, or until ``wake()``. It starts on
the first ``wake()`` of the process (after a fork too), so a process that never sees an event
runs no thread. Every unit of work closes this thread's database connections afterwards, so an
idle worker holds none.

What it claims and how a delivery is attempted are passed in
(``registry/services/webhook_deliveries.py`` builds the one instance), so this module knows
threads, not tables.

When the process stops, pending rows stay in the database; claimed rows become due again when
their lease ends and any process's worker sends them. Senders finish the POST in progress at
interpreter exit (bounded by ``MLFLOW_WEBHOOK_REQUEST_TIMEOUT``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

ClaimFunction = Callable[[int], list[tuple[str, str]]]
"""Claims up to n due deliveries; returns their (delivery id, claim token)."""
AttemptFunction = Callable[[str, str], None]
"""Attempts one claimed delivery: (delivery id, claim token)."""
NextDueFunction = Callable[[], datetime | None]
"""When the next delivery is due (None: none pending)."""


class DeliveryWorker:
    """Claims due deliveries and sends them on a thread pool; see the module docstring."""

    def __init__(
        self, *, claim: ClaimFunction, attempt: AttemptFunction, next_due: NextDueFunction
    ) -> None:
        self._claim = claim
        self._attempt = attempt
        self._next_due = next_due
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._in_flight = 0
        self._senders = 1

    def wake(self) -> None:
        """Start the worker if needed and have it look for due deliveries now."""
        self._ensure_running()
        self._wake.set()

    @property
    def is_running(self) -> bool:
        """Whether this process's worker thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop and wait for the deliveries in progress (tests, shutdown hooks)."""
        with self._lock:
            thread, pool = self._thread, self._pool
            self._thread, self._pool = None, None
            self._stopping.set()
        self._wake.set()
        if thread is not None and thread.is_alive():
            thread.join(timeout)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _ensure_running(self) -> None:
        with self._lock:
            if self.is_running:
                return
            # Also after a fork: the parent's threads do not exist in the child.
            self._pid = os.getpid()
            self._stopping = threading.Event()
            self._in_flight = 0
            self._senders = settings.MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS
            self._pool = ThreadPoolExecutor(
                max_workers=self._senders, thread_name_prefix="webhook-delivery"
            )
            self._thread = threading.Thread(
                target=self._run,
                args=(self._stopping, self._pool),
                name="webhook-worker",
                daemon=True,
            )
            self._thread.start()

    def _run(self, stopping: threading.Event, pool: ThreadPoolExecutor) -> None:
        """The loop: claim what is due and free to send, then sleep until the next is due."""
        while not stopping.is_set():
            self._wake.clear()  # before looking, so a wake during the look is not lost
            delay = float(settings.MLFLOW_WEBHOOK_POLL_SECONDS)
            try:
                with self._lock:
                    free = self._senders - self._in_flight
                if free > 0:
                    for delivery_id, token in self._claim(free):
                        with self._lock:
                            self._in_flight += 1
                        pool.submit(self._send, delivery_id, token)
                next_due = self._next_due()
                if next_due is not None:
                    wait = (next_due - timezone.now()).total_seconds()
                    delay = min(delay, max(wait, 0.0))
            except Exception:  # the database may be away for a while: look again later
                logger.exception("Webhook worker could not read the delivery queue")
            finally:
                connections.close_all()
            self._wake.wait(delay)

    def _send(self, delivery_id: str, token: str) -> None:
        """One attempt on a sender thread; frees its slot and wakes the loop afterwards."""
        try:
            self._attempt(delivery_id, token)
        except Exception:
            logger.exception("Webhook delivery %s failed unexpectedly", delivery_id)
        finally:
            connections.close_all()
            with self._lock:
                self._in_flight -= 1
            self._wake.set()
