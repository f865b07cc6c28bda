"""Where a new model version's artifacts may come from: always inside the active workspace.

spec: registry.md §3.1, tightened. A source is accepted when it resolves inside the workspace:

* a prompt version's placeholder (``dummy-source`` or ``prompt-template``);
* ``runs:/<run id>/...`` of a run of this workspace (the ``run_id`` parameter must name it);
* ``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>`` of a model of this
  workspace (normalised to ``models:/<name>/<version>``), or ``models:/<logged model id>``;
* a URI under one of the workspace's artifact locations: the run's artifact root when
  ``run_id`` is given, ``mlflow-artifacts:/workspaces/<workspace>/...``, the workspace's own
  roots, or the artifact location of one of its experiments.

differs from reference: it also accepts local paths inside a run's local artifact directory
and any other URI (``s3://bucket/path`` with no run); both could name another workspace's
artifacts, so both are refused here with 400 INVALID_PARAMETER_VALUE.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, unquote_plus, urlparse, urlsplit

from django.conf import settings

from config.errors import InvalidParameterValueError, MlflowError, ResourceDoesNotExistError
from registry.models import ModelVersion, RegisteredModel
from registry.selectors.lookups import registered_model_get, tags_mark_prompt
from registry.validators import canonical_stage, parse_version, validate_model_name
from tracking.models import Experiment
from tracking.selectors.logged_models import logged_model_find
from tracking.selectors.lookups import run_get
from tracking.services.logged_models import logged_model_record_version as record_version
from tracking.storage import join_uri
from tracking.validators import HOST_ADDRESSED_SCHEMES
from workspaces.context import current_workspace

PROMPT_SOURCE_PLACEHOLDERS: Final = frozenset({"dummy-source", "prompt-template"})
_PROXY_ROUTE: Final = ("api", "2.0", "mlflow-artifacts", "artifacts")


@dataclass(frozen=True)
class ResolvedSource:
    """What a version stores: the (normalised) source, where its artifacts are, and lineage."""

    source: str
    storage_location: str
    run_id: str
    model_id: str


@dataclass(frozen=True)
class LoggedModelSource:
    """The parts of a logged model a version's source is checked against."""

    model_id: str
    artifact_location: str
    source_run_id: str


def logged_model_source(model_id: str) -> LoggedModelSource | None:
    """The logged model ``model_id`` of the active workspace, or None when there is none (or it
    is deleted, or belongs to another workspace): its id, artifact root and source run."""
    model = logged_model_find(model_id)
    if model is None:
        return None
    return LoggedModelSource(model.model_id, model.artifact_location, model.source_run_id)


def logged_model_record_version(*, model_id: str, name: str, version: int) -> None:
    """Record a new version in its logged model's ``mlflow.modelVersions`` tag
    (spec: registry.md §3, last bullet)."""
    record_version(model_id=model_id, name=name, version=version)


def _invalid_source(source: str, parameter: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(
        f"Invalid model version source: '{source}'. The {parameter} request parameter must "
        "identify the resource that contains the source."
    )


def _local_source(source: str, parameter: str) -> InvalidParameterValueError:
    # The reference says "the run specified by the model_id" too.
    return InvalidParameterValueError(
        f"Invalid model version source: '{source}'. To use a local path as a model version "
        f"source, the {parameter} request parameter has to be specified and the local path has "
        f"to be contained within the artifact directory of the run specified by the {parameter}."
    )


def _outside_workspace(source: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(
        f"Invalid model version source: '{source}'. The source must be a runs:/ or models:/ URI "
        "of this workspace, or lie under one of this workspace's artifact locations."
    )


def _is_local(source: str) -> bool:
    """A path with no scheme, a ``file:`` URI, or a Windows drive letter (``C:\\x``)."""
    scheme = urlparse(source).scheme.lower()
    return scheme in ("", "file") or len(scheme) == 1


def _check_host(source: str) -> None:
    """Refuse URIs whose scheme makes the server connect to the host they name."""
    parsed = urlparse(source)
    scheme = parsed.scheme.lower()
    if scheme not in HOST_ADDRESSED_SCHEMES or (scheme == "mlflow-artifacts" and not parsed.netloc):
        return
    root = urlparse(settings.MLFLOW_DEFAULT_ARTIFACT_ROOT)
    if root.scheme.lower() == scheme and root.netloc.lower() == parsed.netloc.lower():
        return
    raise InvalidParameterValueError(
        f"'source' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses a host "
        "other than the tracking server's configured artifact storage, so the server would "
        "connect to the host named in the URI. Set the "
        "MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server "
        "to allow it."
    )


def _check_no_relative_parts(source: str) -> None:
    """No ``..`` segment (also percent-encoded), no NUL, and a normalised absolute path."""
    decoded = source
    while (unquoted := unquote_plus(decoded)) != decoded:
        decoded = unquoted
    path = re.sub(r"/+", "/", urlparse(decoded).path.rstrip("/"))
    normalised = posixpath.normpath(path) if path.startswith("/") else None
    if "\x00" in path or ".." in decoded.split("/") or normalised != path:
        raise InvalidParameterValueError(
            f"Invalid model version source: '{source}'. If supplying a source as an http, "
            "https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute "
            "path must be provided without relative path references present. Please provide "
            "an absolute path."
        )


def _uri_parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urlsplit(uri)
    parts = tuple(unquote(part) for part in parsed.path.split("/") if part)
    return parsed.scheme.lower(), parsed.netloc.lower(), parts


def is_uri_within(source: str, root: str, *, allow_empty_root: bool = False) -> bool:
    """Whether ``source`` is ``root`` or lies below it (same scheme and host, path prefix)."""
    source_scheme, source_host, source_parts = _uri_parts(source)
    root_scheme, root_host, root_parts = _uri_parts(root)
    return (
        source_scheme == root_scheme
        and source_host == root_host
        and (bool(root_parts) or allow_empty_root)
        and source_parts[: len(root_parts)] == root_parts
    )


def _is_proxied_artifact_uri(source: str) -> bool:
    scheme, _, parts = _uri_parts(source)
    if scheme == "mlflow-artifacts":
        return True
    width = len(_PROXY_ROUTE)
    return scheme in ("http", "https") and any(
        parts[index : index + width] == _PROXY_ROUTE for index in range(len(parts) - width + 1)
    )


def _prefixes(source: str) -> list[str]:
    """Every ``/``-bounded prefix of ``source``, with and without a trailing slash."""
    parsed = urlsplit(source)
    head = f"{parsed.scheme}:" + (f"//{parsed.netloc}" if parsed.netloc else "")
    segments = [segment for segment in parsed.path.split("/") if segment]
    found: list[str] = []
    for end in range(1, len(segments) + 1):
        prefix = f"{head}/{'/'.join(segments[:end])}"
        found += [prefix, f"{prefix}/"]
    return found


def is_in_workspace_locations(source: str) -> bool:
    """Whether ``source`` lies under the active workspace's artifact roots or under the
    artifact location of one of its experiments (one query at most)."""
    workspace = current_workspace()
    if settings.MLFLOW_ENABLE_WORKSPACES:
        roots = [
            join_uri(settings.MLFLOW_DEFAULT_ARTIFACT_ROOT, "workspaces", workspace.name),
            f"mlflow-artifacts:/workspaces/{workspace.name}",
        ]
        if workspace.default_artifact_root:
            roots.append(workspace.default_artifact_root)
        if any(is_uri_within(source, root) for root in roots):
            return True
    elif is_uri_within(source, settings.MLFLOW_DEFAULT_ARTIFACT_ROOT, allow_empty_root=True):
        return True  # one tenant: the whole server root is the default workspace's
    return Experiment.objects.filter(artifact_location__in=_prefixes(source)).exists()


@dataclass(frozen=True)
class SourceRun:
    """The request's ``run_id`` as loaded with the model the version is created for (see
    ``registry.version_rows.model_lock``): the run's artifact URI, None when the workspace has
    no such run."""

    artifact_uri: str | None


def _source_run_uri(run_id: str, source: str, loaded: SourceRun | None) -> str:
    """The artifact URI of the run ``run_id`` of this workspace (``loaded`` when the caller
    has it); any other id is an invalid source."""
    if loaded is not None:
        if loaded.artifact_uri is None:
            raise _invalid_source(source, "run_id")
        return loaded.artifact_uri
    try:
        return run_get(run_id).artifact_uri
    except MlflowError:
        raise _invalid_source(source, "run_id") from None


def _copy_of_registered_version(
    source: str, run_id: str | None, model_id: str | None
) -> ResolvedSource:
    """``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>`` of this
    workspace: the copy inherits lineage and points at the same artifacts."""
    path = urlparse(source).path
    parts = path.lstrip("/").split("/")
    if not path.startswith("/") or len(parts) > 2 or not parts[0].strip():
        raise _invalid_source(source, "model_id")
    name, suffix = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")
    alias = ""
    if not suffix:
        if "@" not in name:
            return _copy_of_logged_model(source, parts[0], model_id)
        name, _, alias = name.rpartition("@")
        if not alias.strip():
            raise _invalid_source(source, "model_id")
    elif not suffix.strip():
        raise _invalid_source(source, "model_id")
    validate_model_name(name)
    model = registered_model_get(name)
    if tags_mark_prompt(dict(model.tags.values_list("key", "value"))):
        raise InvalidParameterValueError(
            f"Invalid model version source: '{source}'. Prompt versions cannot be used as "
            "model version sources."
        )
    copied = _referenced_version(model, source, suffix=suffix, alias=alias)
    if (run_id is not None and run_id != copied.run_id) or (
        model_id is not None and model_id != copied.model_id
    ):
        raise InvalidParameterValueError(
            f"Invalid model version source: '{source}'. The run_id and model_id request "
            "parameters must match the referenced model version."
        )
    return ResolvedSource(
        source=f"models:/{name}/{copied.version}",
        storage_location=copied.storage_location or copied.source,
        run_id=copied.run_id,
        model_id=copied.model_id,
    )


def _referenced_version(
    model: RegisteredModel, source: str, *, suffix: str, alias: str
) -> ModelVersion:
    versions = ModelVersion.objects.filter(registered_model=model)
    if alias:
        found = versions.filter(aliases__alias=alias).first()
        if found is None:
            raise InvalidParameterValueError(f"Registered model alias {alias} not found.")
        return found
    if suffix.isdigit():
        number = parse_version(suffix)
        found = versions.filter(version=number).first()
        if found is None:
            raise ResourceDoesNotExistError(
                f"Model Version (name={model.name}, version={number}) not found"
            )
        return found
    if suffix.lower() != "latest":
        versions = versions.filter(current_stage=canonical_stage(suffix))
    found = versions.order_by("-version").first()
    if found is None:
        stage = "" if suffix.lower() == "latest" else f" and stage '{suffix}'"
        raise ResourceDoesNotExistError(
            f"No versions of model with name '{model.name}'{stage} found"
        )
    return found


def _copy_of_logged_model(
    source: str, source_model_id: str, model_id: str | None
) -> ResolvedSource:
    """``models:/<logged model id>``: the request's ``model_id`` (if any) must name it."""
    if model_id != source_model_id:
        raise _invalid_source(source, "model_id")
    logged = logged_model_source(source_model_id)
    if logged is None:
        raise _invalid_source(source, "model_id")
    return ResolvedSource(
        source=source,
        storage_location=logged.artifact_location,
        run_id=logged.source_run_id,
        model_id=logged.model_id,
    )


def resolve_version_source(
    *,
    source: str,
    run_id: str | None,
    model_id: str | None,
    is_prompt: bool,
    run: SourceRun | None = None,
) -> ResolvedSource:
    """Check a new version's ``source`` and lineage and say what to store (spec order).

    ``run``: the run named by ``run_id``, when the caller has loaded it already.
    """
    if is_prompt:
        if source not in PROMPT_SOURCE_PLACEHOLDERS:
            raise InvalidParameterValueError(
                f"Invalid prompt source: '{source}'. Prompt sources must use an MLflow placeholder."
            )
        if run_id:
            _source_run_uri(run_id, source, run)
        return ResolvedSource(source, source, run_id or "", model_id or "")
    _check_host(source)
    if _is_local(source):
        raise _local_source(source, "model_id" if model_id else "run_id")
    _check_no_relative_parts(source)
    parsed = urlparse(source)
    scheme = parsed.scheme.lower()
    if scheme == "models":
        if parsed.netloc:
            raise InvalidParameterValueError(
                f"Invalid model version source: '{source}'. Registered model sources must use "
                "the active model registry."
            )
        return _copy_of_registered_version(source, run_id, model_id)
    if model_id:
        return _logged_model_artifacts(source, model_id)
    if scheme == "runs":
        source_run_id = parsed.path.lstrip("/").split("/", 1)[0]
        if parsed.netloc or not run_id or source_run_id != run_id:
            raise _invalid_source(source, "run_id")
        _source_run_uri(run_id, source, run)
        return ResolvedSource(source, source, run_id, "")
    if run_id:
        if is_uri_within(source, _source_run_uri(run_id, source, run)):
            return ResolvedSource(source, source, run_id, "")
        if _is_proxied_artifact_uri(source):
            raise _invalid_source(source, "run_id")
    if not is_in_workspace_locations(source):
        raise _outside_workspace(source)
    return ResolvedSource(source, source, run_id or "", "")


def _logged_model_artifacts(source: str, model_id: str) -> ResolvedSource:
    """A source registered from a logged model: it must lie under that model's artifacts."""
    if urlparse(source).scheme.lower() == "runs":
        raise _invalid_source(source, "model_id")
    logged = logged_model_source(model_id)
    if logged is None or not is_uri_within(source, logged.artifact_location):
        raise _invalid_source(source, "model_id")
    return ResolvedSource(source, source, logged.source_run_id, logged.model_id)
