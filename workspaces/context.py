"""The active workspace of the current request, command or test, held in a context variable.

``in_workspace`` scopes a block to one workspace; ``across_workspaces`` is the one audited
opt-out. Code that queries a workspace-owned model with neither active fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workspaces.models import Workspace


class _Across(Enum):
    ACROSS = "across"


_active: ContextVar[Workspace | _Across | None] = ContextVar("active_workspace", default=None)


class NoActiveWorkspace(RuntimeError):
    """A query on a workspace-owned model ran with no active workspace: a bug, never user error."""


@contextmanager
def _activate(value: Workspace | _Across) -> Iterator[None]:
    token = _active.set(value)
    try:
        yield
    finally:
        _active.reset(token)  # a leftover scope would bleed into this thread's next request


def in_workspace(workspace: Workspace) -> AbstractContextManager[None]:
    """Scope every workspace-owned query in the block to ``workspace``."""
    return _activate(workspace)


def across_workspaces(reason: str) -> AbstractContextManager[None]:
    """The one opt-out: admin, commands, the move service, test data. Call sites are audited."""
    return _activate(_Across.ACROSS)


def scope_filter() -> dict[str, Workspace]:
    """The filter every workspace-owned queryset gets; raises when no workspace is active."""
    active = _active.get()
    if active is None:
        raise NoActiveWorkspace("query on a workspace-owned model with no active workspace")
    return {} if active is _Across.ACROSS else {"workspace": active}


def current_workspace() -> Workspace:
    """The one concrete active workspace; services call it when they write."""
    active = _active.get()
    if active is None or active is _Across.ACROSS:
        raise NoActiveWorkspace("this operation needs one concrete active workspace")
    return active
