"""Webhook machinery: the event catalogue, target URL rules, signing, and the delivery worker.

spec: registry.md §7; delivery format as MLflow 3.17 (``mlflow/webhooks/delivery.py``).

How an event reaches a receiver:

1. A registry service (``registry/services/registered_models.py``, ``model_versions.py``) calls
   one ``webhook_notify_*`` function of ``registry/services/webhooks.py`` per event. It only
   registers a ``transaction.on_commit`` callback, robust to errors, so nothing is sent for a
   write that rolls back and nothing it does can fail or slow the write.
2. After the commit the callback looks up the active webhooks of the workspace subscribed to the
   event (one query; model or prompt is decided from the ``mlflow.prompt.is_prompt`` tag only
   when such a webhook exists) and inserts one ``WebhookDelivery`` row per webhook: a
   database-backed outbox. Then it wakes this process's worker (``worker.py``).
3. The worker thread claims due rows (a conditional UPDATE, safe across processes) and hands
   them to a small thread pool that POSTs them (``targets.py``), signed (``signing.py``); the
   steps are in ``registry/services/webhook_deliveries.py``.
   Failures are retried with exponential backoff by rescheduling the row; delivered or
   abandoned rows are deleted.

A stopped process loses nothing: its rows stay in the table and any process's worker sends them
once their lease has run out (at least once; the delivery id is stable across attempts).
"""
