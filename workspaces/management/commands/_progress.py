"""What the workspace-moving commands share: progress display, confirmation, error classes.

The leading underscore keeps Django from listing this module as a command.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.management.base import CommandError, OutputWrapper

# Moves smaller than this finish before a progress display would help.
PROGRESS_MIN_ROWS = 1000
BAR_WIDTH = 30


class Error(CommandError):
    """A failed command: Django prints it as ``Error: <message>`` and exits with status 1."""


class Aborted(CommandError):
    """The operator declined, or could not be asked: printed as ``Aborted: <message>``."""


class Progress:
    """Progress of a long move on stderr: a bar redrawn in place on a terminal, otherwise a
    plain line for every further tenth, so logs of non-interactive runs stay readable."""

    def __init__(
        self,
        stream: OutputWrapper,
        *,
        label: str,
        min_rows: int = PROGRESS_MIN_ROWS,
        is_terminal: bool | None = None,
    ) -> None:
        self.stream = stream
        self.label = label
        self.min_rows = min_rows
        self.is_terminal = stream.isatty() if is_terminal is None else is_terminal
        self.last_tenth = 0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` rows."""
        if total < self.min_rows or total <= 0:
            return
        fraction = min(done / total, 1.0)
        if self.is_terminal:
            filled = int(fraction * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            elapsed = time.monotonic() - self.started
            self.stream.write(
                f"\r{self.label} [{bar}] {fraction:4.0%} {done}/{total} rows {elapsed:.0f}s",
                ending="\n" if done >= total else "",
            )
            self.stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth > self.last_tenth:
            self.last_tenth = tenth
            self.stream.write(f"{self.label}: {done}/{total} rows ({fraction:.0%})")


def confirm(command: Any, question: str, options: dict[str, Any]) -> None:
    """Ask ``question`` on the command's stdout and read the answer from its stdin; anything
    but yes aborts. A stdin that is not a terminal aborts without asking: ``--yes`` is how a
    script confirms, so a pipe or a closed stdin never answers for the operator."""
    stdin: TextIO = options.get("stdin") or sys.stdin
    if not stdin.isatty():
        raise Aborted(
            "standard input is not a terminal, so there is nobody to confirm. Nothing was "
            "changed; pass --yes (-y) to proceed without confirmation."
        )
    command.stdout.write(f"{question} [y/N]: ", ending="")
    command.stdout.flush()
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise Aborted("nothing was changed.")
