"""What a view's ``required_permission`` entries mean: the requirement grammar, the
targets a requirement can name, which paths are public, and what each permission level allows
(spec §3). See the package docstring."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from permissions.models import (
    Level,
)
from workspaces.models import DEFAULT_WORKSPACE

UserLike = User | AbstractBaseUser | AnonymousUser | None


# spec §3: what each level allows. Tracking and registry never check "use".
CAPABILITY_LEVELS: Mapping[str, frozenset[str]] = {
    "read": frozenset({Level.READ, Level.USE, Level.EDIT, Level.MANAGE}),
    "use": frozenset({Level.USE, Level.EDIT, Level.MANAGE}),
    "update": frozenset({Level.EDIT, Level.MANAGE}),
    "delete": frozenset({Level.MANAGE}),
    "manage": frozenset({Level.MANAGE}),
}


LEVEL_WORDS: Mapping[str, str] = {
    "read": "read",
    "use": "use",
    "edit": "update",
    "update": "update",
    "delete": "delete",
    "manage": "manage",
}


SPECIAL_REQUIREMENTS = frozenset({"public", "authenticated", "admin", "self"})


# Where a resource comes from. Parameters are read from the query string and the JSON body.
TARGETS: Mapping[str, str] = {
    "experiment": "the experiment named by experiment_id",
    "experiment_name": "the experiment named by experiment_name (missing name: the view's 404)",
    "run": "the experiments of the runs named by run_id, run_uuid or run_ids",
    "logged_model": "the experiment of the logged model in the URL's model_id",
    "registered_model": "the registered model or prompt named by name",
    "artifact": "the experiment in an artifact path (URL artifact_path, or path parameter)",
    "workspace": "the request's workspace (creating; anyone may with workspaces disabled)",
    "workspace_name": "the workspace in the URL's workspace_name",
}


# Inference for a level without a target: URL kwargs first, then request parameters (query
# string before body); the first present decides. ``name`` means a registered model only on
# registry routes (experiments/create also has a ``name``). A request naming none of them is
# about the request's workspace.
INFERENCE_KWARGS: tuple[tuple[str, str], ...] = (
    ("model_id", "logged_model"),
    ("artifact_path", "artifact"),
    ("workspace_name", "workspace_name"),
)


INFERENCE_PARAMS: tuple[tuple[str, str], ...] = (
    ("run_id", "run"),
    ("run_uuid", "run"),
    ("run_ids", "run"),
    ("experiment_id", "experiment"),
    ("experiment_name", "experiment_name"),
    ("path", "artifact"),
)


REGISTRY_ROUTE_MARKERS = ("registered-models/", "model-versions/")


# Plain Django views (not ``ApiViewSet``) and what they need; any other plain view is admin-only.
PLAIN_VIEW_REQUIREMENTS: Mapping[str, str] = {
    "config.views.health": "public",
    "config.views.version": "authenticated",
    # Prometheus counters carry every workspace's name: admins (a scraper's own account).
    "config.observability.metrics": "admin",
}


# spec §2: the only paths served without credentials.
PUBLIC_PATH_PREFIXES = ("/health", "/static/", "/favicon.ico")


# Looked up by name: logged models may not exist yet in the tracking app.
LOGGED_MODEL = "LoggedModel"


ARTIFACT_EXPERIMENT = re.compile(r"^(?:workspaces/[^/]+/)?(\d+)(?:/|$)")


@dataclass(frozen=True)
class Requirement:
    """What an action needs: a special kind, or a capability on a target."""

    kind: str  # "public" | "authenticated" | "admin" | "self" | "resource"
    capability: str = ""  # for "resource": a key of CAPABILITY_LEVELS
    target: str = ""  # for "resource": a key of TARGETS, or "" to infer from the request


def parse_requirement(text: str) -> Requirement:
    """A declared requirement; ``ValueError`` for anything outside the grammar."""
    if text in SPECIAL_REQUIREMENTS:
        return Requirement(kind=text)
    word, _, target = text.partition(":")
    if word not in LEVEL_WORDS:
        raise ValueError(f"unknown permission level {word!r} in {text!r}")
    if target and target not in TARGETS:
        raise ValueError(f"unknown permission target {target!r} in {text!r}")
    return Requirement(kind="resource", capability=LEVEL_WORDS[word], target=target)


_requirements: dict[tuple[type, str | None], Requirement | None] = {}


def requirement_of(view_class: type, action: str | None) -> Requirement | None:
    """The requirement ``view_class`` declares for ``action``; None when it declares none.

    A request whose method maps to no action (answered 405) needs only authentication.
    Parsed once per (view, action) and remembered: declarations are class attributes.
    """
    key = (view_class, action)
    if key not in _requirements:
        _requirements[key] = _declared_requirement(view_class, action)
    return _requirements[key]


def _declared_requirement(view_class: type, action: str | None) -> Requirement | None:
    if action is None:
        return Requirement(kind="authenticated")
    declared: Mapping[str, str] = getattr(view_class, "required_permission", {}) or {}
    text = declared.get(action)
    if text is None:
        return None
    requirement = parse_requirement(text)
    if requirement.kind == "resource" and not requirement.target:
        default_target = getattr(view_class, "permission_resource", "") or ""
        if default_target and default_target not in TARGETS:
            raise ValueError(f"{view_class.__name__}.permission_resource {default_target!r}")
        requirement = Requirement("resource", requirement.capability, default_target)
    return requirement


def plain_view_requirement(view_func: Callable[..., Any]) -> Requirement | None:
    """The requirement of a plain Django view; None (admin only) when it has none."""
    declared = getattr(view_func, "required_permission", None)
    if declared is None:
        declared = PLAIN_VIEW_REQUIREMENTS.get(f"{view_func.__module__}.{view_func.__name__}")
    return None if declared is None else parse_requirement(declared)


def is_public_path(path: str) -> bool:
    """Whether a path is served without credentials (spec §2)."""
    return path.startswith(PUBLIC_PATH_PREFIXES)


def default_permission() -> str:
    """The configured ``default_permission``."""
    return str(settings.MLFLOW_AUTH_DEFAULT_PERMISSION)


def workspace_level(row_level: str | None, workspace_name: str) -> str:
    """The level a workspace row, or its absence, gives on ``workspace_name`` (spec §7.4-6)."""
    if not settings.MLFLOW_ENABLE_WORKSPACES:
        return default_permission()
    if row_level is not None:
        return row_level
    if settings.MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS and workspace_name == DEFAULT_WORKSPACE:
        return default_permission()
    return Level.NO_PERMISSIONS


def has_capability(level: str | None, capability: str) -> bool:
    """Whether ``level`` allows ``capability`` (read, use, update, delete, manage)."""
    return level in CAPABILITY_LEVELS[capability]


def level_can_use(level: str) -> bool:
    """MLflow's ``can_use`` of a level, reported in workspace-permission JSON."""
    return has_capability(level, "use")
