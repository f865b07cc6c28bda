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
