"""MLflow's validation rules for tracking names, keys and values, with its exact messages.

One place for experiments, runs, params, metrics and tags. Mirrors ``mlflow.utils.validation``
of MLflow 3.17 (POSIX flavour: colons are allowed in keys). spec: tracking.md §2, §4.1.
"""

from __future__ import annotations

import functools
import json
import pathlib
import posixpath
import re
from typing import Any, Final
from urllib.parse import unquote, urlparse

from django.conf import settings

from config.errors import InvalidParameterValueError

# spec: tracking.md §4.1
KEY_PATTERN: Final = re.compile(r"^[/\w.\- :]*$")
RUN_ID_PATTERN: Final = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")

MAX_ENTITY_KEY_LENGTH: Final = 250
MAX_PARAM_VAL_LENGTH: Final = 6000
MAX_TAG_VAL_LENGTH: Final = 8000
MAX_EXPERIMENT_NAME_LENGTH: Final = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH: Final = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH: Final = 20000
MAX_CUSTOM_VIEWS_PER_EXPERIMENT: Final = 50
CUSTOM_VIEW_TAG_PREFIX: Final = "mlflow.customView.view"
MAX_PARAMS_TAGS_PER_BATCH: Final = 100
MAX_METRICS_PER_BATCH: Final = 1000
MAX_ENTITIES_PER_BATCH: Final = 1000
MAX_DATASET_NAME_SIZE: Final = 500
MAX_DATASET_DIGEST_SIZE: Final = 36
MAX_DATASET_SOURCE_SIZE: Final = 65535
MAX_DATASET_SCHEMA_SIZE: Final = 1048575
MAX_DATASET_PROFILE_SIZE: Final = 16777215
MAX_INPUT_TAG_KEY_SIZE: Final = 255
MAX_INPUT_TAG_VALUE_SIZE: Final = 500
MAX_ARTIFACT_LOCATION_LENGTH: Final = 2048

BAD_CHARACTER_MESSAGE: Final = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)

# Trace archival settings stored as experiment tags, validated like the reference does.
TRACE_ARCHIVAL_RETENTION_TAG: Final = "mlflow.trace.archivalRetention"
TRACE_ARCHIVE_NOW_TAG: Final = "mlflow.trace.archiveNow"
TRACE_ARCHIVAL_DURATION: Final = re.compile(r"^[1-9][0-9]*[mhd]$")
TRACE_ARCHIVAL_DURATION_MAX_LENGTH: Final = 32

# Schemes whose artifact repositories connect to the host named in the URI. A client may not
# point the server at a host other than the one of its own artifact root (GHSA-mr9f-g8qf-4w4j).
HOST_ADDRESSED_SCHEMES: Final = frozenset(
    {"ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss"}
)
_SCHEME_FAMILIES: Final = {"viewfs": "hdfs", "https": "http", "mlflow-artifacts": "http"}


def invalid_value_message(path: str, value: Any, message: str | None = None) -> str:
    """MLflow's ``invalid_value``: the value as compact, key-sorted JSON, then the reason."""
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if message:
        return f"Invalid value {shown} for parameter '{path}' supplied: {message}"
    return f"Invalid value {shown} for parameter '{path}' supplied."


def exceeds_maximum_length_message(path: str, limit: int) -> str:
    """``'<path>' exceeds the maximum length of <limit> characters``."""
    return f"'{path}' exceeds the maximum length of {limit} characters"


def append_to_json_path(current_path: str, value: str) -> str:
    """``metrics[0]`` + ``key`` → ``metrics[0].key``; an empty path gives ``value`` itself."""
    if not current_path:
        return value
    if value.startswith("["):
        return f"{current_path}{value}"
    return f"{current_path}.{value}"


def bad_path_message(name: str) -> str:
    """Why a key that is not a normalised relative path is refused."""
    return (
        "Names may be treated as files in certain cases, and must not resolve to other names"
        f" when treated as such. This name would resolve to {posixpath.normpath(name)!r}"
    )


def is_path_not_unique(name: str) -> bool:
    """True when ``name`` would resolve to another name as a file path (``a//b``, ``../x``)."""
    normalised = posixpath.normpath(name)
    return (
        normalised != name
        or normalised == "."
        or normalised.startswith("..")
        or normalised.startswith("/")
    )


def validate_key(key: str, parameter_name: str = "key") -> None:
    """A param, metric or tag key: allowed characters, and a normalised relative path.

    ``parameter_name`` is what the message names: ``key``, ``name`` (metrics), or a batch path
    such as ``params[0].key``.
    """
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidParameterValueError(invalid_value_message(parameter_name, key, problem))


@functools.lru_cache(maxsize=4096)
def _key_problem(key: str) -> str | None:
    """Why ``key`` is refused, or None. Remembered: a batch repeats a few keys a thousand
    times, and runs log the same keys over and over."""
    if not KEY_PATTERN.match(key):
        return BAD_CHARACTER_MESSAGE
    if is_path_not_unique(key):
        return bad_path_message(key)
    return None


def validate_length(entity_name: str, limit: int, value: str, *, truncate: bool = False) -> str:
    """``value`` if it fits in ``limit`` characters; else truncated (when ``truncate``) or
    refused with ``'<entity_name>' exceeds the maximum length of <limit> characters``."""
    if len(value) <= limit:
        return value
    if truncate:
        # MLflow's server default MLFLOW_TRUNCATE_LONG_VALUES=true.
        return value[:limit]
    raise InvalidParameterValueError(exceeds_maximum_length_message(entity_name, limit))


def validate_param(key: str, value: str, path: str = "") -> str:
    """A param's key and value; returns the value, truncated to 6000 characters."""
    validate_key(key, append_to_json_path(path, "key"))
    validate_length("Param key", MAX_ENTITY_KEY_LENGTH, key)
    return validate_length("Param value", MAX_PARAM_VAL_LENGTH, value, truncate=True)


def validate_run_tag(key: str, value: str, path: str = "") -> str:
    """A run tag's key and value; returns the value, truncated to 8000 characters."""
    validate_key(key, append_to_json_path(path, "key"))
    validate_length(append_to_json_path(path, "key"), MAX_ENTITY_KEY_LENGTH, key)
    return validate_length(
        append_to_json_path(path, "value"), MAX_TAG_VAL_LENGTH, value, truncate=True
    )


def validate_metric_key(key: str, path: str = "") -> None:
    """A metric's key: the character and path rules (the message names ``name``), ≤ 250."""
    validate_key(key, append_to_json_path(path, "name"))
    validate_length("Metric name", MAX_ENTITY_KEY_LENGTH, key)


def validate_run_id(run_id: str, path: str = "run_id") -> None:
    """A run id where MLflow checks its shape (``^[a-zA-Z0-9][\\w\\-]{0,255}$``)."""
    if RUN_ID_PATTERN.match(run_id) is None:
        raise InvalidParameterValueError(invalid_value_message(path, run_id))


def validate_experiment_name(name: str) -> None:
    """An experiment name: non-empty, at most 500 characters."""
    if name == "":
        raise InvalidParameterValueError(f"Invalid experiment name: '{name}'")
    validate_length("name", MAX_EXPERIMENT_NAME_LENGTH, name)


def validate_experiment_tag(key: str, value: str) -> None:
    """An experiment tag: key rules, key ≤ 250, value ≤ 20000 (never truncated), and the
    trace archival tags' JSON settings."""
    validate_key(key)
    validate_length("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    validate_length("value", MAX_EXPERIMENT_TAG_VAL_LENGTH, value)
    if key == TRACE_ARCHIVAL_RETENTION_TAG:
        _validate_trace_archival_duration(value, "value", expected_type="duration")
    elif key == TRACE_ARCHIVE_NOW_TAG:
        _validate_trace_archival_duration(value, "older_than", allow_missing=True)


def _validate_trace_archival_duration(
    value: str, duration_key: str, *, expected_type: str | None = None, allow_missing: bool = False
) -> None:
    try:
        payload = json.loads(value)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise InvalidParameterValueError("Trace archival config must be encoded as a JSON object.")
    if expected_type is not None and payload.get("type") != expected_type:
        raise InvalidParameterValueError(f"Trace archival config must use type '{expected_type}'.")
    duration = payload.get(duration_key)
    if duration is None and allow_missing:
        return
    if not isinstance(duration, str):
        raise InvalidParameterValueError(
            "Trace archival retention must be in the form `<int><unit>`, "
            "where unit is one of 'm', 'h', or 'd'."
        )
    trimmed = duration.strip()
    if len(trimmed) > TRACE_ARCHIVAL_DURATION_MAX_LENGTH:
        raise InvalidParameterValueError("Trace archival duration must be at most 32 characters.")
    if TRACE_ARCHIVAL_DURATION.fullmatch(trimmed) is None:
        raise InvalidParameterValueError(
            "Trace archival retention must be in the form `<int><unit>`, "
            "where unit is one of 'm', 'h', or 'd'."
        )


def is_custom_view_tag(key: str) -> bool:
    """UI custom views are experiment tags under ``mlflow.customView.view``."""
    return key.startswith(CUSTOM_VIEW_TAG_PREFIX)


def custom_view_limit_error(experiment_id: int | None = None) -> InvalidParameterValueError:
    """The error for a 51st custom view (on create the message names no experiment)."""
    reference = f" for experiment {experiment_id}" if experiment_id is not None else ""
    return InvalidParameterValueError(
        f"Unable to create another custom view{reference}; the maximum number of custom "
        f"views per experiment is {MAX_CUSTOM_VIEWS_PER_EXPERIMENT}. Delete an existing custom "
        "view before creating a new one."
    )


def _host_targets(uri: str) -> set[tuple[str, str, int | None]] | None:
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme not in HOST_ADDRESSED_SCHEMES:
        return None
    if scheme == "mlflow-artifacts" and not parsed.netloc:
        return None  # mlflow-artifacts:/path resolves against this server
    try:
        port = parsed.port
    except ValueError:
        return {("malformed", parsed.netloc, None)}
    if "\\" in parsed.netloc or any(char.isspace() for char in parsed.netloc):
        return {("malformed", parsed.netloc, None)}
    default_ports: dict[str, tuple[int | None, ...]] = {
        "ftp": (21,),
        "sftp": (22,),
        "http": (80,),
        "https": (443,),
        "mlflow-artifacts": (80, 443),
        "r2": (443,),
        "b2": (443,),
        "abfss": (443,),
    }
    family = _SCHEME_FAMILIES.get(scheme, scheme)
    host = (parsed.hostname or "").lower()
    ports = (port,) if port is not None else default_ports.get(scheme, (None,))
    return {(family, host, each) for each in ports}


def clean_experiment_artifact_location(location: str) -> str:
    """A client-chosen experiment ``artifact_location`` (workspaces off only): no fragment or
    ``;params``, no ``..`` in the query, no foreign host, not ``runs:/``, at most 2048
    characters; a relative local path is made absolute, as the reference does."""
    field = "artifact_location"
    parsed = urlparse(location)
    if parsed.fragment or parsed.params:
        raise InvalidParameterValueError(f"'{field}' URL can't include fragments or params.")
    if ".." in unquote(parsed.query):
        raise InvalidParameterValueError("Invalid query string")
    targets = _host_targets(location)
    if targets is not None and not targets & (
        _host_targets(settings.MLFLOW_DEFAULT_ARTIFACT_ROOT) or set()
    ):
        scheme = parsed.scheme.lower()
        raise InvalidParameterValueError(
            f"'{field}' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses a host "
            "other than the tracking server's configured artifact storage, so the server would "
            "connect to the host named in the URI. Set the "
            "MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server "
            "to allow it."
        )
    if location.startswith("runs:"):
        raise InvalidParameterValueError(
            f"Artifact location cannot be a runs:/ URI. Given: '{location}'"
        )
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise InvalidParameterValueError(
            "Invalid artifact path length. The length of the artifact path cannot be greater "
            f"than {MAX_ARTIFACT_LOCATION_LENGTH} characters. To configure this limit, please "
            "set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable."
        )
    if len(parsed.scheme) <= 1 and not pathlib.PurePosixPath(location).is_absolute():
        return (pathlib.Path.cwd() / location).as_posix()
    return location
