"""The workspace rules, shared by the REST API, the header middleware and the admin."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from config.errors import InvalidParameterValueError
from workspaces.models import DEFAULT_WORKSPACE

# spec: workspaces.md §4. The seed's pattern also refuses consecutive hyphens ("a--b"), which the
# 3.17 reference accepts; the seed wins.
NAME_PATTERN = re.compile(r"^(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REFERENCE_PATTERN_TEXT = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
RESERVED_NAMES = frozenset({"workspaces", "api", "ajax-api", "static-files"})
ARTIFACT_LOCATION_MAX_LENGTH = 2048
RETENTION_PATTERN = re.compile(r"^[1-9]\d*[mhd]$")
RETENTION_MAX_LENGTH = 32


def validate_workspace_name(name: Any) -> str:
    """Check a workspace name against the naming rules, in the reference's order."""
    if not isinstance(name, str):
        raise InvalidParameterValueError(
            f"Workspace name must be a string, got {type(name).__name__}."
        )
    if not 2 <= len(name) <= 63:
        raise InvalidParameterValueError(
            f"Workspace name '{name}' must be between 2 and 63 characters."
        )
    if "--" in name and NAME_PATTERN.match(name.replace("--", "-")):
        raise InvalidParameterValueError(
            f"Workspace name '{name}' must not contain consecutive hyphens ('--')."
        )
    if not NAME_PATTERN.match(name):
        raise InvalidParameterValueError(
            f"Workspace name '{name}' must match the pattern {REFERENCE_PATTERN_TEXT} "
            "(lowercase alphanumeric with optional internal hyphens)."
        )
    if name in RESERVED_NAMES:
        raise InvalidParameterValueError(f"Workspace name '{name}' is reserved and cannot be used.")
    return name


def validate_new_workspace_name(name: Any) -> str:
    """The rules for a name being created: ``default`` is refused before anything else."""
    if name == DEFAULT_WORKSPACE:
        raise InvalidParameterValueError(
            "The 'default' workspace is reserved and cannot be created"
        )
    return validate_workspace_name(name)


def validate_existing_workspace_name(name: str) -> str:
    """The rules for a name naming an existing workspace (path segment or header)."""
    return name if name == DEFAULT_WORKSPACE else validate_workspace_name(name)


def clean_artifact_root(value: str) -> str | None:
    """A workspace's ``default_artifact_root``: trimmed, ``""`` meaning not set.

    It must be a URI with a scheme or an absolute path, with no fragment or ``;params``, not a
    ``runs:`` URI, and at most 2048 characters. spec: workspaces.md §5.1.
    """
    root = value.strip()
    if not root:
        return None
    if len(root) > ARTIFACT_LOCATION_MAX_LENGTH:
        raise InvalidParameterValueError(
            f"Invalid value for 'default_artifact_root'. It must be at most "
            f"{ARTIFACT_LOCATION_MAX_LENGTH} characters, got {len(root)}."
        )
    parts = urlsplit(root)
    if parts.scheme == "runs":
        raise InvalidParameterValueError(
            f"Invalid value for 'default_artifact_root'. A 'runs:' URI cannot be an artifact "
            f"root, got '{root}'."
        )
    if "#" in root or ";" in root:
        raise InvalidParameterValueError(
            f"Invalid value for 'default_artifact_root'. URL fragments and ';' parameters are "
            f"not allowed, got '{root}'."
        )
    if not (len(parts.scheme) > 1 or root.startswith("/")):
        raise InvalidParameterValueError(
            "Invalid value for 'default_artifact_root'. Expected a URI (for example "
            "'s3://bucket/prefix' or 'mlflow-artifacts:/prefix') or an absolute path, "
            f"got '{root}'."
        )
    return root


def clean_trace_archival_location(value: str) -> str | None:
    """A trace archival location: a URI with a scheme that is not the proxy-only one."""
    location = value.strip()
    if not location:
        return None
    scheme = urlsplit(location).scheme
    if len(scheme) <= 1 or scheme == "mlflow-artifacts":
        raise InvalidParameterValueError(
            "Invalid value for 'trace_archival_config.location'. Expected a URI with a scheme "
            f"other than 'mlflow-artifacts' (for example 's3://bucket/traces'), got '{location}'."
        )
    return location


def clean_trace_archival_retention(value: str) -> str | None:
    """A retention period: a positive integer followed by m, h or d (``30d``)."""
    retention = value.strip()
    if not retention:
        return None
    if len(retention) > RETENTION_MAX_LENGTH or not RETENTION_PATTERN.match(retention):
        raise InvalidParameterValueError(
            "Invalid value for 'trace_archival_config.retention'. Expected a positive integer "
            f"followed by 'm', 'h' or 'd' (for example '30d'), got '{retention}'."
        )
    return retention
