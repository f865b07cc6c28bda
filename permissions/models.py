"""Who may do what: bearer tokens, and per-user permissions on workspaces and resources.

Users are Django's ``auth.User``; ``is_superuser`` is MLflow's ``is_admin``. The permission
rows follow MLflow 3.10's ``basic-auth`` tables (auth-workspace-permissions.md §4): one level
per (user, workspace), per (user, experiment) and per (user, workspace, registered model name).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from workspaces.fields import NameField


class Level(models.TextChoices):
    """A permission level. Names are MLflow's, case-sensitive (spec §3)."""

    READ = "READ"
    USE = "USE"
    EDIT = "EDIT"
    MANAGE = "MANAGE"
    NO_PERMISSIONS = "NO_PERMISSIONS"


# The order MLflow lists the levels in its "Invalid permission" message.
LEVEL_NAMES: tuple[str, ...] = ("READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS")
LEVEL_MAX_LENGTH = 16


class WorkspacePermission(models.Model):
    """A user's level on every resource of one workspace (spec §8).

    The workspace is named ``for_workspace``, not ``workspace``: these rows are addressed by the
    workspace in the URL, not by the request's workspace header, so they are not scoped rows.
    Deleting the workspace deletes them (spec §13).
    """

    for_workspace = models.ForeignKey(
        "workspaces.Workspace", models.CASCADE, related_name="user_permissions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="workspace_permissions"
    )
    permission = models.CharField(max_length=LEVEL_MAX_LENGTH, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["for_workspace", "user"], name="workspace_permission_unique"
            )
        ]
        indexes = [models.Index(fields=["user", "for_workspace"], name="workspace_perm_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission} on workspace {self.for_workspace_id}"


class ExperimentPermission(models.Model):
    """A user's level on one experiment; it replaces the workspace level for it (spec §7).

    Experiment ids are global, so the row is not tied to a workspace. It is deleted with its
    experiment, so a stale grant never applies to a later experiment (spec §16.3).
    """

    experiment = models.ForeignKey(
        "tracking.Experiment", models.CASCADE, related_name="user_permissions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="experiment_permissions"
    )
    permission = models.CharField(max_length=LEVEL_MAX_LENGTH, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "experiment"], name="experiment_permission_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission} on experiment {self.experiment_id}"


class RegisteredModelPermission(models.Model):
    """A user's level on one registered model or prompt, keyed by (workspace, name) (spec §6.2).

    The workspace is the request's when the row is written. Registry renames move the rows and
    deletes remove them (``permissions.services``); deleting the workspace deletes them.
    """

    for_workspace = models.ForeignKey(
        "workspaces.Workspace", models.CASCADE, related_name="registered_model_permissions"
    )
    name = NameField(max_length=256)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="registered_model_permissions"
    )
    permission = models.CharField(max_length=LEVEL_MAX_LENGTH, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["for_workspace", "name", "user"],
                name="registered_model_permission_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "for_workspace", "name"], name="registered_model_perm_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission} on registered model {self.name}"


class Token(models.Model):
    """A bearer token (the client's ``MLFLOW_TRACKING_TOKEN``), stored only as its SHA-256.

    Tokens are 256 random bits, so a fast hash is enough: nobody can guess one from its hash.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="auth_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so a person can tell their tokens apart.
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'token'})"


class LoginFailure(models.Model):
    """Failed password checks per (username, client address) in the current window.

    Kept in the database, not the per-process cache, so every server process sees the same
    count (auth throttling, see ``permissions/authentication.py``).
    """

    username = models.CharField(max_length=150)
    client_ip = models.CharField(max_length=45)
    count = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "client_ip"], name="login_failure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.client_ip}: {self.count}"
