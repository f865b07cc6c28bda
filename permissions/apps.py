"""The permissions app: users, tokens and permission rows, and who may do what."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_migrate


def _bootstrap_admin_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    """``migrate`` (and so ``db_upgrade``) creates the configured admin when auth is on."""
    from permissions.services import user_bootstrap_admin

    if kwargs.get("using", "default") == "default":
        user_bootstrap_admin()


def _forget_decisions_on_setting_change(sender: Any, setting: str, **kwargs: Any) -> None:
    """Remembered decisions depend on the auth and workspace settings; tests change them."""
    if setting.startswith("MLFLOW_AUTH_") or setting == "MLFLOW_ENABLE_WORKSPACES":
        from permissions.decisions import decisions

        decisions.clear()


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions"

    def ready(self) -> None:
        # Connecting runs no query; the handler runs after migrations, never at import.
        post_migrate.connect(_bootstrap_admin_after_migrate, sender=self)
        setting_changed.connect(_forget_decisions_on_setting_change)
