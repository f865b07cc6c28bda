"""``manage.py migrate_to_default_workspace`` and ``manage.py move_resources``: outputs as the
reference prints them (spec: workspaces.md §9), confirmation, and all-or-nothing runs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper

from tests.workspaces.test_moves_support import (
    make_experiment,
    make_registered_model,
    rows_by_model,
    snapshot,
)
from workspaces.management.commands._progress import Progress
from workspaces.models import Workspace
from workspaces.moves import NOT_ENABLED

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    """A stdin that says it is a terminal and answers with its text."""

    def isatty(self) -> bool:
        return True


def run(name: str, *args: str, **options: Any) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def move(*args: str, **options: Any) -> tuple[str, str]:
    return run("move_resources", "--from", "team-a", "--to", "team-b", *args, **options)


# --- migrate_to_default_workspace ---------------------------------------------------------


def test_migrate_dry_run_prints_rows_per_table_and_changes_nothing(
    default_workspace: Workspace, team_a: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=1)
    before = snapshot()

    out, _ = run("migrate_to_default_workspace", "--dry-run")

    lines = out.splitlines()
    assert lines[0] == "Dry run completed. Rows that would be moved to the default workspace:"
    assert "  experiments: 1" in lines
    assert "  registered_models: 0" in lines
    assert "  tracking_run: 1" in lines
    assert lines[-1] == "Total rows: 11"
    assert snapshot() == before


def test_migrate_with_nothing_to_move(default_workspace: Workspace) -> None:
    out, _ = run("migrate_to_default_workspace", "-y")

    assert out == "No rows need to be moved.\n"


def test_migrate_with_yes_moves_everything(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=1)
    make_registered_model(team_b, "b-model")

    out, _ = run("migrate_to_default_workspace", "-y")

    lines = out.splitlines()
    assert lines[0] == "Rows to be moved to the default workspace:"
    assert lines[-2] == "Total rows: 16"
    assert lines[-1] == "Moved 16 rows to the default workspace."
    assert rows_by_model(team_a) == rows_by_model(team_b) == {}


def test_migrate_asks_and_proceeds_on_yes(default_workspace: Workspace, team_a: Workspace) -> None:
    make_experiment(team_a, "a-exp", runs=0)

    out, _ = run("migrate_to_default_workspace", stdin=Terminal("y\n"))

    assert "Proceed with migration? [y/N]: Moved 3 rows to the default workspace.\n" in out
    assert rows_by_model(team_a) == {}


def test_migrate_declined_changes_nothing(default_workspace: Workspace, team_a: Workspace) -> None:
    make_experiment(team_a, "a-exp", runs=0)
    before = snapshot()

    with pytest.raises(CommandError, match="nothing was changed"):
        run("migrate_to_default_workspace", stdin=Terminal("n\n"))

    assert snapshot() == before


def test_migrate_without_yes_on_a_pipe_aborts_safely(
    default_workspace: Workspace, team_a: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=0)
    before = snapshot()

    with pytest.raises(CommandError) as error:
        run("migrate_to_default_workspace", stdin=io.StringIO("y\n"))

    assert type(error.value).__name__ == "Aborted"
    assert "standard input is not a terminal" in str(error.value)
    assert snapshot() == before


def test_migrate_conflict_is_an_error_and_changes_nothing(
    default_workspace: Workspace, team_a: Workspace
) -> None:
    mine = make_experiment(default_workspace, "demo-exp", runs=0)
    theirs = make_experiment(team_a, "demo-exp", runs=0)
    before = snapshot()

    with pytest.raises(CommandError) as error:
        run("migrate_to_default_workspace", "-y", "--verbose")

    assert type(error.value).__name__ == "Error"  # printed as "Error: <message>", exit 1
    assert str(error.value).endswith(
        f"\n  name='demo-exp', workspace='default', experiment_id={mine.pk}"
        f"\n  name='demo-exp', workspace='team-a', experiment_id={theirs.pk}"
    )
    assert snapshot() == before


def test_migrate_dry_run_reports_conflicts(default_workspace: Workspace, team_a: Workspace) -> None:
    make_experiment(default_workspace, "demo-exp", runs=0)
    make_experiment(team_a, "demo-exp", runs=0)

    with pytest.raises(CommandError, match="merging workspaces would create duplicate"):
        run("migrate_to_default_workspace", "--dry-run")


def test_migrate_interrupted_changes_nothing(
    default_workspace: Workspace, team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "a-exp", runs=2)
    make_registered_model(team_b, "b-model")
    before = snapshot()
    calls: list[int] = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run("migrate_to_default_workspace", "-y", progress=interrupt)

    assert calls[-1] > 0
    assert snapshot() == before


# --- move_resources -----------------------------------------------------------------------


def test_move_dry_run_output(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "tracking-exp-renamed", runs=1)
    before = snapshot()

    out, _ = move("--resource-type", "experiments", "--dry-run")

    assert out.startswith(
        "Dry run completed. 1 experiments row(s) would be moved from 'team-a' to 'team-b':"
        "\n  tracking-exp-renamed\nRows per table:\n  experiments: 1\n"
    )
    assert "  tracking_metric: 2\n" in out
    assert snapshot() == before


def test_move_with_yes(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=1)

    out, _ = move("--resource-type", "experiments", "--name", "exp-1", "-y")

    assert out.splitlines()[0] == "Moved 1 experiments row(s) from 'team-a' to 'team-b'."
    assert rows_by_model(team_a) == {}
    assert rows_by_model(team_b)["Run"] == 1


def test_move_asks_and_proceeds_on_yes(team_a: Workspace, team_b: Workspace) -> None:
    make_registered_model(team_a, "clf")

    out, _ = move("--resource-type", "registered_models", stdin=Terminal("yes\n"))

    assert out.startswith("1 registered_models row(s) to move from 'team-a' to 'team-b':\n  clf\n")
    assert "Proceed with move? [y/N]: Moved 1 registered_models row(s)" in out
    assert rows_by_model(team_b)["ModelVersion"] == 1


def test_move_without_yes_on_a_pipe_aborts_safely(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=1)
    before = snapshot()

    with pytest.raises(CommandError, match="standard input is not a terminal"):
        move("--resource-type", "experiments", stdin=io.StringIO(""))

    assert snapshot() == before


def test_move_nothing_to_move(team_a: Workspace, team_b: Workspace) -> None:
    out, _ = move("--resource-type", "experiments", "--name", "missing", "-y")

    assert out == "No experiments to move.\n"


def test_move_conflict_is_an_error_and_changes_nothing(
    team_a: Workspace, team_b: Workspace
) -> None:
    make_experiment(team_a, "demo-exp")
    make_experiment(team_b, "demo-exp")
    before = snapshot()

    with pytest.raises(CommandError) as error:
        move("--resource-type", "experiments", "-y")

    assert str(error.value) == (
        "Move aborted: the following experiments already exist in workspace 'team-b' and "
        "would conflict: \n  'demo-exp'\nRename or remove the conflicting resources in the "
        "target workspace, then retry."
    )
    assert snapshot() == before


def test_move_interrupted_changes_nothing(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=2)
    before = snapshot()

    def interrupt(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        move("--resource-type", "experiments", "-y", progress=interrupt)

    assert snapshot() == before


def test_move_retarget_output(team_a: Workspace, team_b: Workspace) -> None:
    make_experiment(team_a, "exp-1", runs=0)

    out, _ = move("--resource-type", "experiments", "--artifact-policy", "retarget", "-y")

    assert out.splitlines()[:2] == [
        "Moved 1 experiments row(s) from 'team-a' to 'team-b'.",
        "Repointed 1 experiment artifact root(s) under mlflow-artifacts:/workspaces/team-b.",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--resource-type", "bogus"],
            "Unknown resource type 'bogus'. Valid types: experiments, registered_models, webhooks",
        ),
        (
            ["--resource-type", "experiments", "--tag", "team"],
            "Tag 'team' must be in key=value format (e.g. --tag team=team-a).",
        ),
        (
            ["--resource-type", "experiments", "--tag", "a=b", "--name", "x"],
            "--name and --tag are mutually exclusive.",
        ),
    ],
)
def test_move_argument_errors(
    team_a: Workspace, team_b: Workspace, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as error:
        move(*args, "-y")

    assert str(error.value) == message


def test_move_same_workspace_is_refused(team_a: Workspace) -> None:
    with pytest.raises(CommandError, match="^Source and target workspaces must be different.$"):
        run(
            "move_resources", "--from", "team-a", "--to", "team-a", "--resource-type", "experiments"
        )


def test_move_unknown_workspace(team_a: Workspace) -> None:
    with pytest.raises(CommandError, match="^Workspace 'nowhere' not found$"):
        run(
            "move_resources",
            "--from",
            "team-a",
            "--to",
            "nowhere",
            "--resource-type",
            "experiments",
            "--dry-run",
        )


# --- progress display ---------------------------------------------------------------------


def test_progress_on_a_terminal_redraws_one_bar() -> None:
    stream = io.StringIO()
    progress = Progress(OutputWrapper(stream), label="Moving", min_rows=10, is_terminal=True)

    progress(5, 10)
    progress(10, 10)

    text = stream.getvalue()
    assert text.count("\r") == 2
    assert "[###############---------------]  50% 5/10 rows" in text
    assert text.endswith("\n")


def test_progress_elsewhere_prints_a_line_per_tenth() -> None:
    stream = io.StringIO()
    progress = Progress(OutputWrapper(stream), label="Moving", min_rows=10, is_terminal=False)

    for done in range(0, 101, 5):
        progress(done, 100)

    lines = stream.getvalue().splitlines()
    assert lines[0] == "Moving: 10/100 rows (10%)"
    assert len(lines) == 10


def test_progress_stays_quiet_for_small_moves() -> None:
    stream = io.StringIO()
    progress = Progress(OutputWrapper(stream), label="Moving", min_rows=1000, is_terminal=False)

    progress(10, 10)

    assert stream.getvalue() == ""


# --- the real command line ----------------------------------------------------------------


def test_command_line_errors_exit_codes_and_a_pipe_without_yes(tmp_path: Path) -> None:
    """``Error: <message>`` and exit status 1, as the reference prints them; a pipe on stdin
    without ``--yes`` changes nothing. Runs on its own SQLite file, whatever DATABASE_URL."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "MLFLOW_DATA_DIR": str(tmp_path),
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    no_schema = manage("migrate_to_default_workspace", "--dry-run")
    manage("db_upgrade")
    manage(
        "shell",
        "-c",
        "from tests.factories import ExperimentFactory, WorkspaceFactory; "
        "ExperimentFactory(name='e', workspace=WorkspaceFactory(name='team-a'))",
    )
    same = manage("move_resources", "--from", "team-a", "--to", "team-a", "--resource-type", "x")
    piped = manage("migrate_to_default_workspace")
    confirmed = manage("migrate_to_default_workspace", "--yes")

    assert no_schema.returncode == 1
    assert no_schema.stderr == f"Error: {NOT_ENABLED} (missing table 'workspaces_workspace').\n"
    assert (same.returncode, same.stderr) == (
        1,
        "Error: Unknown resource type 'x'. Valid types: experiments, registered_models, webhooks\n",
    )
    assert piped.returncode == 1
    assert piped.stderr.startswith("Aborted: standard input is not a terminal")
    assert piped.stdout.endswith("Total rows: 1\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.endswith("Moved 1 rows to the default workspace.\n")
