"""Registered models, their versions, tags and aliases. Every row carries its workspace.

Prompts are registered models too, marked by the tag ``mlflow.prompt.is_prompt`` (spec:
registry.md §5). Wire timestamps are epoch milliseconds; field names are MLflow's.
"""

from __future__ import annotations

from typing import Final

from django.db import models

from workspaces.fields import NameField
from workspaces.models import WorkspaceOwned

STAGE_NONE: Final = "None"
STAGE_STAGING: Final = "Staging"
STAGE_PRODUCTION: Final = "Production"
STAGE_ARCHIVED: Final = "Archived"
ALL_STAGES: Final = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
STATUS_READY: Final = "READY"

IS_PROMPT_TAG_KEY: Final = "mlflow.prompt.is_prompt"
PROMPT_TEXT_TAG_KEY: Final = "mlflow.prompt.text"
PROMPT_TYPE_TAG_KEY: Final = "_mlflow_prompt_type"

MAX_MODEL_NAME_LENGTH: Final = 256
MAX_ALIAS_LENGTH: Final = 255


class RegisteredModel(WorkspaceOwned):
    """A registered model (or prompt): names are unique per workspace and case-sensitive.

    ``last_version`` is the highest version number ever handed out, so numbers of deleted
    versions are never reused; creating a version locks this row to take the next one.
    """

    name = NameField(max_length=MAX_MODEL_NAME_LENGTH)
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    description = models.TextField(blank=True, default="")
    last_version = models.IntegerField(default=0)

    workspace_table = "registered_models"
    workspace_unique_fields = ("name",)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="registered_model_name_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "last_updated_timestamp"],
                name="registered_model_updated_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RegisteredModelTag(WorkspaceOwned):
    """A key/value tag on a registered model (``mlflow.prompt.is_prompt`` marks prompts)."""

    registered_model = models.ForeignKey(RegisteredModel, models.CASCADE, related_name="tags")
    key = NameField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "registered_model", "key"],
                name="registered_model_tag_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class ModelVersion(WorkspaceOwned):
    """One version of a registered model, numbered 1, 2, 3, ... per model.

    ``source`` is what the client sent (normalised for ``models:/`` copies); ``storage_location``
    is where the artifacts are, which ``get-download-uri`` answers.
    """

    registered_model = models.ForeignKey(RegisteredModel, models.CASCADE, related_name="versions")
    version = models.IntegerField()
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    description = models.TextField(blank=True, default="")
    user_id = models.CharField(max_length=256, blank=True, default="")
    current_stage = models.CharField(max_length=20, default=STAGE_NONE)
    source = models.TextField(blank=True, default="")
    storage_location = models.TextField(blank=True, default="")
    run_id = models.CharField(max_length=32, blank=True, default="")
    run_link = models.TextField(blank=True, default="")
    model_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, default=STATUS_READY)
    status_message = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "registered_model", "version"],
                name="model_version_number_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "registered_model", "current_stage", "version"],
                name="model_version_stage_idx",
            ),
            models.Index(fields=["workspace", "run_id"], name="model_version_run_idx"),
            models.Index(
                fields=["workspace", "last_updated_timestamp"], name="model_version_updated_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model_id} v{self.version}"


class ModelVersionTag(WorkspaceOwned):
    """A key/value tag on a model version (prompt text and type live here for prompts)."""

    model_version = models.ForeignKey(ModelVersion, models.CASCADE, related_name="tags")
    key = NameField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "model_version", "key"],
                name="model_version_tag_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class RegisteredModelAlias(WorkspaceOwned):
    """A named pointer (``champion``) from a registered model to one of its versions.

    Deleting the version deletes its aliases, as the reference does.
    """

    registered_model = models.ForeignKey(RegisteredModel, models.CASCADE, related_name="aliases")
    model_version = models.ForeignKey(ModelVersion, models.CASCADE, related_name="aliases")
    alias = NameField(max_length=MAX_ALIAS_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "registered_model", "alias"],
                name="registered_model_alias_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alias} -> {self.model_version_id}"


# --- Webhooks (spec: registry.md §7) ----------------------------------------------------------

WEBHOOK_STATUS_ACTIVE: Final = "ACTIVE"
WEBHOOK_STATUS_DISABLED: Final = "DISABLED"
MAX_WEBHOOK_URL_LENGTH: Final = 500
MAX_WEBHOOK_DESCRIPTION_LENGTH: Final = 1000


class Webhook(WorkspaceOwned):
    """A subscription: registry events of its workspace are POSTed to ``url``.

    ``secret`` is a shared secret, stored as given because every delivery is signed with it
    (HMAC-SHA256, ``X-MLflow-Signature``); it is never returned by the API. ``""`` means none:
    deliveries are then unsigned. Names are not unique (as in the reference).
    """

    webhook_id = models.CharField(primary_key=True, max_length=36, editable=False)
    name = models.CharField(max_length=63)
    description = models.CharField(
        max_length=MAX_WEBHOOK_DESCRIPTION_LENGTH, blank=True, default=""
    )
    url = models.CharField(max_length=MAX_WEBHOOK_URL_LENGTH)
    status = models.CharField(max_length=20, default=WEBHOOK_STATUS_ACTIVE)
    secret = models.TextField(blank=True, default="")
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()

    workspace_table = "webhooks"

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "creation_timestamp"], name="webhook_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.webhook_id})"


class WebhookEvent(WorkspaceOwned):
    """One ``(entity, action)`` a webhook subscribes to, in MLflow's lower-case values
    (``model_version``, ``created``); rows keep the order the caller gave."""

    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="events")
    entity = models.CharField(max_length=32)
    action = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "webhook", "entity", "action"],
                name="webhook_event_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "entity", "action"], name="webhook_event_lookup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.action}"


class WebhookDelivery(models.Model):
    """A pending POST of one event to one webhook: the outbox the delivery worker drains.

    Not workspace-owned on purpose: it is a queue entry, not data any API serves. The worker
    claims due rows of every workspace, then reads the webhook inside ``workspace_name``'s scope
    (through the scoped manager), so its URL, secret and status are the current ones.
    ``next_attempt_at`` is both the schedule and the lease: claiming a row pushes it past the
    request timeout, so a row whose process died is due again and another worker sends it.
    The row is deleted once delivered or given up. ``body`` is the exact JSON sent on every
    attempt; ``delivery_id`` (``X-MLflow-Delivery-Id``) stays the same across retries, so a
    receiver can drop duplicates (delivery is at least once).
    """

    delivery_id = models.CharField(primary_key=True, max_length=36, editable=False)
    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="+")
    workspace_name = models.CharField(max_length=63)
    entity = models.CharField(max_length=32)
    action = models.CharField(max_length=16)
    body = models.TextField()
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claim_token = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.entity}.{self.action} → {self.webhook_id} ({self.delivery_id})"
