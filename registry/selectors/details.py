"""Registered models and model versions with everything their wire shape shows: tags, aliases
and the latest version per stage, loaded in a constant number of queries. spec: registry.md §1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from django.db.models import QuerySet

from config.errors import InvalidParameterValueError, ResourceDoesNotExistError
from registry import version_rows
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from registry.selectors.lookups import model_version_get, registered_model_get
from registry.validators import LATEST_ALIAS, canonical_stage, validate_alias_name
from tracking.selectors.logged_models import logged_model_find
from tracking.selectors.lookups import run_get
from tracking.storage import ArtifactDownload, artifact_segments, join_uri, root_location
from workspaces.context import current_workspace


@dataclass(frozen=True)
class ModelVersionDetails:
    """A version with its tags; ``aliases`` is None where the reference leaves them out
    (searches and ``latest_versions``)."""

    version: ModelVersion
    tags: list[ModelVersionTag]
    aliases: list[str] | None


@dataclass(frozen=True)
class RegisteredModelDetails:
    """A registered model with its tags, aliases (name, version) and latest version per stage."""

    model: RegisteredModel
    tags: list[RegisteredModelTag]
    aliases: list[tuple[str, int]]
    latest_versions: list[ModelVersionDetails]


HAS_TAGS: Final = "has_tags"
HAS_ALIASES: Final = "has_aliases"


def versions_flagged(versions: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    """``versions`` annotated with whether each has tags, so ``model_version_details`` looks
    the tags up only for those that have some (a search page usually has none)."""
    tags = version_rows.own_rows_exist(ModelVersionTag, "model_version")
    return versions.annotate(**{HAS_TAGS: tags})


def models_flagged(models: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    """``models`` annotated with whether each has tags and aliases, so
    ``registered_model_details`` looks them up only for those that have some."""
    tags = version_rows.own_rows_exist(RegisteredModelTag, "registered_model")
    aliases = version_rows.own_rows_exist(RegisteredModelAlias, "registered_model")
    return models.annotate(**{HAS_TAGS: tags, HAS_ALIASES: aliases})


def _may_have(row: object, flag: str) -> bool:
    """False only when the row was loaded with ``flag`` (see ``versions_flagged``) and it said
    there are none."""
    return bool(getattr(row, flag, True))


def model_version_details(
    versions: Sequence[ModelVersion], *, with_aliases: bool
) -> list[ModelVersionDetails]:
    """Each version with its tags (one query) and, when asked, its aliases (one more). No tag
    query when ``versions_flagged`` said none of the versions has tags.

    The versions must have been loaded with ``select_related("registered_model")``.
    """
    ids = [version.pk for version in versions]
    tagged = [version.pk for version in versions if _may_have(version, HAS_TAGS)]
    tags: dict[int, list[ModelVersionTag]] = defaultdict(list)
    if tagged:
        for tag in ModelVersionTag.objects.filter(model_version_id__in=tagged).order_by("pk"):
            tags[tag.model_version_id].append(tag)
    aliases: dict[int, list[str]] = defaultdict(list)
    if with_aliases and ids:
        rows = (
            RegisteredModelAlias.objects.filter(model_version_id__in=ids)
            .order_by("pk")
            .values_list("model_version_id", "alias")
        )
        for version_id, alias in rows:
            aliases[version_id].append(alias)
    return [
        ModelVersionDetails(
            version=version,
            tags=tags[version.pk],
            aliases=aliases[version.pk] if with_aliases else None,
        )
        for version in versions
    ]


def created_model_version_details(
    version: ModelVersion, *, tags: Iterable[tuple[str, str]]
) -> ModelVersionDetails:
    """A version ``model_version_create`` has just made, without reading it back: it has the
    tags it was created with (each key once, where it first came, with its last value, as the
    service stores them, so in the order of their ids) and no aliases yet."""
    created = [
        ModelVersionTag(model_version=version, key=key, value=value)
        for key, value in dict(tags).items()
    ]
    return ModelVersionDetails(version=version, tags=created, aliases=[])


def latest_versions_of(models: Sequence[RegisteredModel]) -> dict[int, list[ModelVersion]]:
    """Per registered model, its newest version in each stage, ordered by version number.

    One query per workspace of the models (one in a request) over the versions of these
    models only (``registry.version_rows.latest_versions``); each version gets its model
    object from ``models`` and says whether it has tags.
    """
    by_workspace: dict[int, dict[int, RegisteredModel]] = defaultdict(dict)
    for model in models:
        by_workspace[model.workspace_id][model.pk] = model
    latest: dict[int, list[ModelVersion]] = defaultdict(list)
    owner = ModelVersion._meta.get_field("registered_model")
    for workspace_id, by_id in by_workspace.items():
        rows = version_rows.latest_versions(workspace_id=workspace_id, model_ids=list(by_id))
        for version in rows:
            # as `version.registered_model = model` does, without the descriptor's checks
            owner.set_cached_value(version, by_id[version.registered_model_id])
            latest[version.registered_model_id].append(version)
    return latest


def registered_model_details(models: Sequence[RegisteredModel]) -> list[RegisteredModelDetails]:
    """Each model with tags, aliases and latest versions (with their tags): four queries at
    most; tags and aliases are not looked up when ``models_flagged`` said no model has any,
    nor version tags when no latest version has some."""
    ids = [model.pk for model in models]
    tagged = [model.pk for model in models if _may_have(model, HAS_TAGS)]
    aliased = [model.pk for model in models if _may_have(model, HAS_ALIASES)]
    tags: dict[int, list[RegisteredModelTag]] = defaultdict(list)
    aliases: dict[int, list[tuple[str, int]]] = defaultdict(list)
    latest: dict[int, list[ModelVersion]] = {}
    if tagged:
        rows = RegisteredModelTag.objects.filter(registered_model_id__in=tagged).order_by("pk")
        for tag in rows:
            tags[tag.registered_model_id].append(tag)
    if aliased:
        pointers = (
            RegisteredModelAlias.objects.filter(registered_model_id__in=aliased)
            .order_by("pk")
            .values_list("registered_model_id", "alias", "model_version__version")
        )
        for model_id, alias, number in pointers:
            aliases[model_id].append((alias, number))
    if ids:
        latest = latest_versions_of(models)
    all_latest = [version for model in models for version in latest.get(model.pk, [])]
    details = {
        item.version.pk: item for item in model_version_details(all_latest, with_aliases=False)
    }
    return [
        RegisteredModelDetails(
            model=model,
            tags=tags[model.pk],
            aliases=aliases[model.pk],
            latest_versions=[details[version.pk] for version in latest.get(model.pk, [])],
        )
        for model in models
    ]


def registered_model_get_details(name: str) -> RegisteredModelDetails:
    """The registered model ``name`` as ``registered-models/get`` shows it."""
    return registered_model_details([registered_model_get(name)])[0]


def registered_model_latest_versions(name: str, stages: Sequence[str]) -> list[ModelVersionDetails]:
    """The newest version in each of ``stages`` (every stage when empty), with aliases."""
    model = registered_model_get(name)
    wanted = {canonical_stage(stage) for stage in stages}
    versions = [
        version
        for version in latest_versions_of([model]).get(model.pk, [])
        if not wanted or version.current_stage in wanted
    ]
    return model_version_details(versions, with_aliases=True)


def model_version_get_details(name: str, version: str | int) -> ModelVersionDetails:
    """Version ``version`` of ``name`` with its tags and aliases."""
    return model_version_details([model_version_get(name, version)], with_aliases=True)[0]


def model_version_get_by_alias(name: str, alias: str) -> ModelVersionDetails:
    """The version an alias points at; ``latest`` (any case) is the highest version number.

    An unknown alias is INVALID_PARAMETER_VALUE, not 404, as in the reference.
    """
    validate_alias_name(alias)
    model = registered_model_get(name)
    if alias.lower() == LATEST_ALIAS:
        newest = (
            ModelVersion.objects.select_related("registered_model")
            .filter(registered_model=model)
            .order_by("-version")
            .first()
        )
        if newest is None:
            raise ResourceDoesNotExistError(f"Latest version not found for model {name}.")
        return model_version_details([newest], with_aliases=True)[0]
    pointer = (
        RegisteredModelAlias.objects.select_related("model_version__registered_model")
        .filter(registered_model=model, alias=alias)
        .first()
    )
    if pointer is None:
        raise InvalidParameterValueError(f"Registered model alias {alias} not found.")
    return model_version_details([pointer.model_version], with_aliases=True)[0]


def model_version_download_uri(name: str, version: str | int) -> str:
    """Where the version's artifacts are: the resolved storage location, else the source."""
    found = model_version_get(name, version)
    return found.storage_location or found.source


def model_version_artifact_root(name: str, version: str) -> str:
    """The artifact URI a version's files are read from: ``runs:/<run>/<path>`` and
    ``models:/m-<id>`` sources resolve to the run's or logged model's location in this
    workspace; any other download URI is used as it is."""
    uri = model_version_download_uri(name, version)
    if uri.startswith("runs:/"):
        run_id, _, subpath = uri.removeprefix("runs:/").partition("/")
        return join_uri(run_get(run_id).artifact_uri, subpath)
    if uri.startswith("models:/m-"):
        logged = logged_model_find(uri.removeprefix("models:/").split("/", 1)[0])
        if logged is None:
            raise ResourceDoesNotExistError(
                f"Model Version (name={name}, version={version}) not found"
            )
        return logged.artifact_location
    return uri


def model_version_artifact_open(name: str, version: str, path: str) -> ArtifactDownload:
    """A file of a version's artifacts, opened for streaming (``/model-versions/get-artifact``).

    The path is checked before anything is looked up; the version and its run or logged model
    are found in the active workspace, and the location is confined like every artifact path.
    """
    artifact_segments(path)
    root = model_version_artifact_root(name, version)
    location = root_location(root, path, current_workspace())
    return location.tree.open(location.key)
