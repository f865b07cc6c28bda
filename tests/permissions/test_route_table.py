"""Every route's view action declares what it needs (STYLE §9): the URL table is walked like
tests/workspaces/test_scoping.py walks it, and an action without a valid declaration fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from permissions.access import (
    TARGETS,
    is_public_path,
    plain_view_requirement,
    requirement_of,
)
from workspaces.api import ApiViewSet


def routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry.callback


def api_actions() -> Iterator[tuple[str, str, type[ApiViewSet], str]]:
    """(route, HTTP method, view class, action) for every REST operation."""
    for route, callback in routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if isinstance(view, type) and issubclass(view, ApiViewSet):
            for method, action in (getattr(callback, "actions", None) or {}).items():
                yield route, method.upper(), view, action


def test_the_walk_finds_every_family() -> None:
    found = {route for route, *_ in api_actions()}

    for expected in [
        "api/2.0/mlflow/experiments/create",
        "ajax-api/2.0/mlflow/runs/create",
        "api/2.0/mlflow/users/create",
        "api/3.0/mlflow/workspaces/<str:workspace_name>/permissions",
        "api/3.0/mlflow/workspaces",
    ]:
        assert expected in found


def test_every_api_action_declares_a_valid_permission() -> None:
    undeclared = []
    invalid = []
    for route, method, view, action in api_actions():
        try:
            requirement = requirement_of(view, action)
        except ValueError as error:
            invalid.append(f"{method} {route}: {view.__name__}.{action}: {error}")
            continue
        if requirement is None:
            undeclared.append(f"{method} {route}: {view.__name__}.{action}")

    assert invalid == []
    assert undeclared == []


def test_declared_targets_are_known() -> None:
    unknown = [
        f"{view.__name__}.permission_resource = {view.permission_resource!r}"
        for _, _, view, _ in api_actions()
        if view.permission_resource and view.permission_resource not in TARGETS
    ]

    assert unknown == []


def test_every_plain_view_is_public_or_declared() -> None:
    plain = [
        (route, callback)
        for route, callback in routes(get_resolver().url_patterns)
        if not isinstance(getattr(callback, "cls", None), type) and not route.startswith("admin/")
    ]

    undeclared = [
        route
        for route, callback in plain
        if not is_public_path("/" + route) and plain_view_requirement(callback) is None
    ]

    assert [route for route, _ in plain]  # /health and /version at least
    assert undeclared == []
