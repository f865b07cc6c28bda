"""Workspace scoping is structural and fail-closed. STYLE.md §2."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import ExperimentFactory
from tracking.models import Experiment
from workspaces.api import GLOBAL_VIEWS, WorkspaceViewSet
from workspaces.context import (
    NoActiveWorkspace,
    across_workspaces,
    current_workspace,
    in_workspace,
)
from workspaces.managers import WorkspaceScopedManager
from workspaces.models import Workspace

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The audited places allowed to run queries across workspaces. STYLE.md §2.
ACROSS_ALLOWED = (
    re.compile(r"^workspaces/middleware\.py$"),
    re.compile(r"^workspaces/context\.py$"),
    re.compile(r"^[a-z_]+/management/commands/[a-z_]+\.py$"),
    re.compile(r"^workspaces/moves/(resources|merge)\.py$"),
    re.compile(r"^tests/"),
)


def test_scoped_manager_raises_with_no_active_workspace(db: None) -> None:
    with pytest.raises(NoActiveWorkspace):
        list(Experiment.objects.all())


@pytest.mark.parametrize(
    "query",
    [
        lambda: Experiment.objects.exists(),
        lambda: Experiment.objects.count(),
        lambda: Experiment.objects.filter(name="x").first(),
        lambda: Experiment.objects.values_list("name"),
        lambda: Experiment.objects.update(name="x"),
        lambda: Experiment.objects.all().delete(),
        lambda: Experiment.objects.create(name="x", creation_time=0, last_update_time=0),
    ],
)
def test_every_query_shape_fails_closed(db: None, query: object) -> None:
    with pytest.raises(NoActiveWorkspace):
        query()  # type: ignore[operator]


def test_scoped_manager_filters_to_the_active_workspace(
    team_a: Workspace, team_b: Workspace
) -> None:
    mine = ExperimentFactory(workspace=team_a, name="shared-name")
    ExperimentFactory(workspace=team_b, name="shared-name")

    with in_workspace(team_a):
        seen = list(Experiment.objects.all())

    assert seen == [mine]


def test_across_workspaces_returns_everything(team_a: Workspace, team_b: Workspace) -> None:
    ExperimentFactory(workspace=team_a)
    ExperimentFactory(workspace=team_b)

    with across_workspaces("test: the escape hatch returns all rows"):
        names = {e.workspace.name for e in Experiment.objects.exclude(experiment_id=0)}

    assert names == {"team-a", "team-b"}


def test_scope_ends_with_its_block(team_a: Workspace) -> None:
    with in_workspace(team_a):
        assert current_workspace() == team_a

    with pytest.raises(NoActiveWorkspace):
        current_workspace()


def test_current_workspace_refuses_across_scope() -> None:
    with across_workspaces("test"), pytest.raises(NoActiveWorkspace):
        current_workspace()


def test_every_workspace_owned_model_has_the_scoped_default_manager() -> None:
    owned = [
        model
        for model in apps.get_models()
        if any(field.name == "workspace" for field in model._meta.get_fields())
    ]

    unscoped = [
        model.__name__
        for model in owned
        if not isinstance(model._default_manager, WorkspaceScopedManager)
    ]

    assert owned, "no workspace-owned model found: the meta-test would prove nothing"
    assert unscoped == []


def _api_views(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> list[tuple[str, type]]:
    views: list[tuple[str, type]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            views += _api_views(entry.url_patterns, prefix + str(entry.pattern))
        else:
            view_class = getattr(entry.callback, "cls", None)
            views.append((prefix + str(entry.pattern), view_class or type(entry.callback)))
    return views


def test_every_api_view_is_workspace_scoped_or_declared_global() -> None:
    api_views = [
        (route, view)
        for route, view in _api_views(get_resolver().url_patterns)
        if route.startswith(("api/", "ajax-api/"))
    ]

    stray = [
        route
        for route, view in api_views
        if not (isinstance(view, type) and issubclass(view, WorkspaceViewSet))
        and view not in GLOBAL_VIEWS
    ]

    assert api_views
    assert stray == []


def test_api_routes_are_mounted_under_both_prefixes() -> None:
    routes = {route for route, _ in _api_views(get_resolver().url_patterns)}

    api = {r.removeprefix("api/") for r in routes if r.startswith("api/")}
    ajax = {r.removeprefix("ajax-api/") for r in routes if r.startswith("ajax-api/")}

    assert api <= ajax


def test_across_workspaces_is_called_only_from_audited_places() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    callers = [
        path
        for path in tracked
        if (PROJECT_ROOT / path).exists()
        and "across_workspaces(" in (PROJECT_ROOT / path).read_text()
        and not any(pattern.match(path) for pattern in ACROSS_ALLOWED)
    ]

    assert callers == []


def test_no_class_level_querysets_on_api_views() -> None:
    views = {view for _, view in _api_views(get_resolver().url_patterns)}

    with_queryset = [view.__name__ for view in views if getattr(view, "queryset", None) is not None]

    assert with_queryset == []
