"""Experiments, runs and everything logged to runs. Every row carries its workspace.

Wire timestamps are epoch milliseconds (``BigIntegerField``); field names are MLflow's.
"""

from __future__ import annotations

from django.db import models

from workspaces.fields import NameField
from workspaces.models import Workspace, WorkspaceOwned

ACTIVE = "active"
DELETED = "deleted"
LIFECYCLE_STAGES = [(ACTIVE, ACTIVE), (DELETED, DELETED)]
RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]

# MariaDB and MySQL have no NaN or infinities in DOUBLE: NaN is stored as 0 with ``is_nan`` and
# ±Infinity as ±DBL_MAX, which reads back as ±Infinity.
DOUBLE_MAX = 1.7976931348623157e308


class Experiment(WorkspaceOwned):
    """An MLflow experiment. Ids are global; names are unique per workspace (deleted ones too)."""

    experiment_id = models.BigAutoField(primary_key=True)
    name = NameField(max_length=500)
    artifact_location = models.CharField(max_length=2048, blank=True, default="")
    lifecycle_stage = models.CharField(max_length=32, choices=LIFECYCLE_STAGES, default=ACTIVE)
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()

    workspace_table = "experiments"
    workspace_unique_fields = ("name",)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="experiment_name_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "lifecycle_stage"], name="experiment_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.experiment_id})"


class ExperimentTag(WorkspaceOwned):
    """A key/value tag on an experiment."""

    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="tags")
    key = NameField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "experiment", "key"], name="experiment_tag_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class Run(WorkspaceOwned):
    """An MLflow run: a 32-hex-character id, its status, times and artifact location."""

    run_uuid = models.CharField(max_length=32, primary_key=True)
    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="runs")
    run_name = models.CharField(max_length=250, blank=True, default="")
    user_id = models.CharField(max_length=256, blank=True, default="")
    status = models.CharField(max_length=20, default="RUNNING")
    start_time = models.BigIntegerField(default=0)
    end_time = models.BigIntegerField(null=True, blank=True)
    deleted_time = models.BigIntegerField(null=True, blank=True)
    lifecycle_stage = models.CharField(max_length=32, choices=LIFECYCLE_STAGES, default=ACTIVE)
    artifact_uri = models.CharField(max_length=2048, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "experiment", "lifecycle_stage", "start_time"],
                name="run_experiment_start_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.run_uuid


class Param(WorkspaceOwned):
    """A run parameter; immutable once logged."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="params")
    key = NameField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "run", "key"], name="param_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class RunTag(WorkspaceOwned):
    """A key/value tag on a run (system tags such as ``mlflow.runName`` included)."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="tags")
    key = NameField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "run", "key"], name="run_tag_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class Metric(WorkspaceOwned):
    """One point of a metric's history; identical points are stored once.

    The largest table, written a thousand rows at a time, so it carries one index besides the
    primary key: the unique point identity, led by the run (every read names the run). A
    point's workspace is its run's; the run's own key protects the workspace, so this copy has
    no index or constraint of its own (a workspace's deletion never scans the history).

    Nor does the run have a database constraint: on PostgreSQL its per-row check cost a
    log-batch of a thousand points 5-8 ms at commit, a fifth of the database's whole work. The
    code keeps the guarantee instead: points are written only under the run's row lock
    (``run_get_active_for_update``), so the run exists when they commit, and runs are deleted
    only through the ORM, whose cascade deletes their history
    (``tests/tracking/test_experiment_workspace_deletion.py``).
    """

    workspace = models.ForeignKey(
        Workspace, models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    run = models.ForeignKey(
        Run, models.CASCADE, related_name="metric_history", db_index=False, db_constraint=False
    )
    key = NameField(max_length=250)
    value = models.FloatField()
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    is_nan = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "key", "timestamp", "step", "value", "is_nan"],
                name="metric_point_identity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.step}={self.value}"


class LatestMetric(WorkspaceOwned):
    """Per run and key, the point with the largest ``(step, timestamp, value)``: what
    ``Run.data.metrics`` shows and what metric filters and ordering in search read."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="latest_metrics")
    key = NameField(max_length=250)
    value = models.FloatField()
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    is_nan = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "run", "key"], name="latest_metric_key_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "key", "value"], name="latest_metric_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class Dataset(WorkspaceOwned):
    """A dataset logged to runs of an experiment, de-duplicated by ``(name, digest)``."""

    dataset_uuid = models.CharField(max_length=36, primary_key=True)
    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="datasets")
    name = NameField(max_length=500)
    digest = NameField(max_length=36)
    source_type = models.CharField(max_length=36)
    source = models.TextField()
    # noqa reason: the wire omits an unset schema or profile and echoes an empty one.
    schema = models.TextField(null=True, blank=True)  # noqa: DJ001
    profile = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "experiment", "name", "digest"], name="dataset_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest})"


class RunInput(WorkspaceOwned):
    """A dataset used by a run, with its input tags (``mlflow.data.context`` and others)."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="dataset_inputs")
    dataset = models.ForeignKey(Dataset, models.CASCADE, related_name="run_inputs")
    tags = models.JSONField(default=list)  # [{"key": ..., "value": ...}] as sent

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "run", "dataset"], name="run_input_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} <- {self.dataset_id}"


class RunModelLink(WorkspaceOwned):
    """A logged model used by (``direction=input``) or produced by (``output``) a run."""

    INPUT = "input"
    OUTPUT = "output"

    run = models.ForeignKey(Run, models.CASCADE, related_name="model_links")
    model_id = models.CharField(max_length=36)
    direction = models.CharField(max_length=6, choices=[(INPUT, INPUT), (OUTPUT, OUTPUT)])
    step = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "run", "model_id", "direction"], name="run_model_link_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.direction} {self.model_id}"


# --- Logged models (MLflow 3) -----------------------------------------------------------------

LOGGED_MODEL_STATUSES = {
    "LOGGED_MODEL_STATUS_UNSPECIFIED": 0,
    "LOGGED_MODEL_PENDING": 1,
    "LOGGED_MODEL_READY": 2,
    "LOGGED_MODEL_UPLOAD_FAILED": 3,
}


class LoggedModel(WorkspaceOwned):
    """An MLflow 3 logged model of an experiment: ``m-`` + 32 hex characters, globally unique.

    ``status`` holds MLflow's enum number (``LOGGED_MODEL_STATUSES``), as the reference stores
    it, so status filters compare the same text. Deleting only marks ``lifecycle_stage``.
    """

    model_id = models.CharField(max_length=36, primary_key=True)
    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="logged_models")
    name = NameField(max_length=500)
    artifact_location = models.CharField(max_length=2048)
    creation_timestamp_ms = models.BigIntegerField()
    last_updated_timestamp_ms = models.BigIntegerField()
    status = models.SmallIntegerField(default=LOGGED_MODEL_STATUSES["LOGGED_MODEL_PENDING"])
    lifecycle_stage = models.CharField(max_length=32, choices=LIFECYCLE_STAGES, default=ACTIVE)
    model_type = models.CharField(max_length=500, blank=True, default="")
    source_run_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "experiment", "lifecycle_stage", "creation_timestamp_ms"],
                name="logged_model_experiment_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"


class LoggedModelParam(WorkspaceOwned):
    """A parameter of a logged model; immutable once logged."""

    model = models.ForeignKey(LoggedModel, models.CASCADE, related_name="params")
    key = NameField(max_length=255)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "model", "key"], name="logged_model_param_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class LoggedModelTag(WorkspaceOwned):
    """A key/value tag on a logged model (``mlflow.modelVersions`` included)."""

    model = models.ForeignKey(LoggedModel, models.CASCADE, related_name="tags")
    key = NameField(max_length=255)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "model", "key"], name="logged_model_tag_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class LoggedModelMetric(WorkspaceOwned):
    """A metric point logged by a run with ``model_id`` (and optionally a dataset) set.

    One point per ``(model, key, timestamp, step, run)``, the reference's primary key; NaN and
    ±Infinity are stored as in ``Metric``.
    """

    model = models.ForeignKey(LoggedModel, models.CASCADE, related_name="metrics")
    run = models.ForeignKey(Run, models.CASCADE, related_name="logged_model_metrics")
    key = NameField(max_length=250)
    value = models.FloatField()
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    dataset_name = NameField(max_length=500, blank=True, default="")
    dataset_digest = NameField(max_length=36, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "model", "key", "timestamp", "step", "run"],
                name="logged_model_metric_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.step}={self.value}"
