"""``manage.py db_upgrade``: bring the schema up to date (MLflow's ``mlflow db upgrade``)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tracking.services.experiments import experiment_ensure_default
from workspaces.models import DEFAULT_WORKSPACE, Workspace


class Command(BaseCommand):
    help = (
        "Apply pending migrations and make sure the 'default' workspace and its 'Default' "
        "experiment exist. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            self.stdout.write(f"Applying {len(plan)} migration(s)...")
            call_command("migrate", interactive=False, verbosity=0)
            for migration, _backwards in plan:
                self.stdout.write(f"  applied {migration.app_label}.{migration.name}")
        else:
            self.stdout.write("Database schema is up to date.")
        _workspace, created = Workspace.objects.get_or_create(
            name=DEFAULT_WORKSPACE,
            defaults={"description": "Default workspace for legacy resources"},
        )
        if created:
            self.stdout.write("Created the 'default' workspace.")
        else:
            self.stdout.write("The 'default' workspace exists.")
        if experiment_ensure_default() is not None:
            self.stdout.write("Created the 'Default' experiment (id 0).")
