"""``manage.py move_resources``: move chosen resources, with everything that belongs to them,
from one workspace to another (MLflow's ``mlflow db move-resources``; spec: workspaces.md
§9.2). The move is ``workspaces.moves.resources_move``: one transaction, all or nothing."""

from __future__ import annotations

from argparse import BooleanOptionalAction
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from config.errors import MlflowError
from workspaces.management.commands._progress import Error, Progress, confirm
from workspaces.moves import (
    ARTIFACT_POLICIES,
    ARTIFACTS_MOVE,
    NAMES_SHOWN,
    MoveResult,
    ensure_workspaces_enabled,
    format_truncated_list,
    parse_tag,
    resource_types,
    resources_move,
)


class Command(BaseCommand):
    help = (
        "Move resources of one type (experiments, registered_models, ...) with everything "
        "that belongs to them from one workspace to another, in one transaction; by name "
        "(--name, repeatable), by tags (--tag key=value, repeatable, all must match) or all. "
        "Aborts with nothing changed if a name is taken in the target. Take a backup first."
    )
    # ``stdin`` and ``progress`` let tests answer the prompt and interrupt the move.
    stealth_options = ("stdin", "progress")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # MLflow's -v means --verbose; Django's -v (--verbosity) gives way to it.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, help="Source workspace.")
        parser.add_argument("--to", dest="target", required=True, help="Target workspace.")
        parser.add_argument(
            "--resource-type",
            required=True,
            help="Table name of the resource type: experiments, registered_models, ...",
        )
        parser.add_argument(
            "--name", action="append", default=[], help="A resource name to move. Repeatable."
        )
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            help="key=value; repeatable, resources must match every tag (experiments and "
            "registered_models). Excludes --name.",
        )
        parser.add_argument(
            "--dry-run",
            action=BooleanOptionalAction,
            default=False,
            help="Show what would be moved without making changes.",
        )
        parser.add_argument(
            "--artifact-policy",
            choices=ARTIFACT_POLICIES,
            default=ARTIFACTS_MOVE,
            help="'move' (default) rewrites the moved rows' mlflow-artifacts: URIs to the "
            "target workspace and moves the stored files, so artifacts stay readable; "
            "'preserve' changes no URI or file; 'retarget' (experiments) repoints each "
            "experiment's artifact_location under the target's root, as the reference does.",
        )
        parser.add_argument(
            "--default-artifact-root",
            default=None,
            help="Server artifact root used by 'retarget' when the target workspace has none.",
        )
        parser.add_argument(
            "-v", "--verbose", action="store_true", help="List every name and conflict."
        )
        parser.add_argument(
            "-y", "--yes", action="store_true", help="Skip the confirmation prompt."
        )

    def _move(self, options: dict[str, Any], *, dry_run: bool, progress: Any = None) -> MoveResult:
        return resources_move(
            source=options["source"],
            target=options["target"],
            resource_type=options["resource_type"],
            names=options["name"],
            tags=[parse_tag(text) for text in options["tag"]],
            dry_run=dry_run,
            verbose=options["verbose"],
            artifact_policy=options["artifact_policy"],
            default_artifact_root=options["default_artifact_root"],
            progress=progress,
        )

    def _describe(self, result: MoveResult, options: dict[str, Any]) -> str:
        names = format_truncated_list(
            result.names, max_rows=None if options["verbose"] else NAMES_SHOWN
        )
        return (
            f"{result.row_count} {result.resource_type} row(s) {{verb}} from "
            f"{result.source!r} to {result.target!r}:{names}"
        )

    def _write_details(self, result: MoveResult) -> None:
        if result.row_count > len(result.names):
            self.stdout.write(
                f"Note: {result.row_count} rows match {len(result.names)} distinct name(s). "
                "All rows with a matching name will be moved."
            )
        if result.retarget_root:
            self.stdout.write(f"Artifact roots would be repointed under {result.retarget_root}.")
        self.stdout.write("Rows per table:")
        for table, count in result.rows_by_table.items():
            self.stdout.write(f"  {table}: {count}")

    def handle(self, *args: Any, **options: Any) -> None:
        resource_type = options["resource_type"]
        try:
            types = resource_types()
            if resource_type not in types:
                raise Error(
                    f"Unknown resource type {resource_type!r}. "
                    f"Valid types: {', '.join(sorted(types))}"
                )
            ensure_workspaces_enabled()
            preview = self._move(options, dry_run=True)
            if not preview.names:
                self.stdout.write(f"No {resource_type} to move.")
                return
            if options["dry_run"]:
                verb = "would be moved"
                self.stdout.write(
                    "Dry run completed. " + self._describe(preview, options).format(verb=verb)
                )
                self._write_details(preview)
                return
            if not options["yes"]:
                self.stdout.write(self._describe(preview, options).format(verb="to move"))
                self._write_details(preview)
                confirm(self, "Proceed with move?", options)
            progress = options.get("progress") or Progress(
                self.stderr, label=f"Moving {resource_type}"
            )
            result = self._move(options, dry_run=False, progress=progress)
        except MlflowError as error:
            raise Error(error.message) from None
        self._report(result)

    def _report(self, result: MoveResult) -> None:
        if not result.names:
            self.stdout.write(f"No {result.resource_type} to move.")
            return
        self.stdout.write(
            f"Moved {result.row_count} {result.resource_type} row(s) "
            f"from {result.source!r} to {result.target!r}."
        )
        if result.retarget_root:
            self.stdout.write(
                f"Repointed {result.row_count} experiment artifact root(s) "
                f"under {result.retarget_root}."
            )
        report = result.artifacts
        if report is not None and (report.uris_rewritten or report.files_copied):
            self.stdout.write(
                f"Rewrote {report.uris_rewritten} artifact URI(s) and copied "
                f"{report.files_copied} artifact file(s) to workspace {result.target!r}."
            )
        if report is not None and report.folders_kept:
            self.stdout.write(
                f"Kept {report.folders_kept} old artifact folder(s) that rows left in "
                f"{result.source!r} still point at."
            )
        for failure in report.cleanup_failures if report is not None else []:
            self.stderr.write(f"Warning: could not delete old artifacts {failure}")
