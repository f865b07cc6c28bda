"""``manage.py migrate_to_default_workspace``: move every workspace's resources into
``default`` (MLflow's ``mlflow db migrate-to-default-workspace``; spec: workspaces.md §9.1)."""

from __future__ import annotations

from argparse import BooleanOptionalAction
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from config.errors import MlflowError
from workspaces.management.commands._progress import Error, Progress, confirm
from workspaces.moves import MergeResult, workspaces_merge_into_default


class Command(BaseCommand):
    help = (
        "Move every workspace-scoped row of every workspace into the 'default' workspace, in "
        "one transaction (workspaces themselves stay). Aborts with nothing changed if names "
        "would collide. Take a database backup first."
    )
    # ``stdin`` and ``progress`` let tests answer the prompt and interrupt the move.
    stealth_options = ("stdin", "progress")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # MLflow's -v means --verbose; Django's -v (--verbosity) gives way to it.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action=BooleanOptionalAction,
            default=False,
            help="Check for conflicts and report how many rows would be moved.",
        )
        parser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="List all conflicts instead of the first 5.",
        )
        parser.add_argument(
            "-y", "--yes", action="store_true", help="Skip the confirmation prompt."
        )

    def _write_counts(self, result: MergeResult) -> None:
        for table, count in result.rows_by_table.items():
            self.stdout.write(f"  {table}: {count}")
        self.stdout.write(f"Total rows: {result.total_rows}")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            preview = workspaces_merge_into_default(dry_run=True, verbose=options["verbose"])
            if options["dry_run"]:
                self.stdout.write(
                    "Dry run completed. Rows that would be moved to the default workspace:"
                )
                self._write_counts(preview)
                return
            if preview.total_rows == 0:
                self.stdout.write("No rows need to be moved.")
                return
            self.stdout.write("Rows to be moved to the default workspace:")
            self._write_counts(preview)
            if not options["yes"]:
                confirm(self, "Proceed with migration?", options)
            progress = options.get("progress") or Progress(
                self.stderr, label="Moving rows to 'default'"
            )
            result = workspaces_merge_into_default(
                dry_run=False, verbose=options["verbose"], progress=progress
            )
        except MlflowError as error:
            raise Error(error.message) from None
        self.stdout.write(f"Moved {result.total_rows} rows to the default workspace.")
