"""Request schemas and the response shape of the logged-model endpoints (MLflow 3).
spec: tracking.md §1 (LoggedModel) and §6, search.md §6.

Shapes are checked here (name characters, key lengths); state rules (active experiment, param
immutability) live in ``tracking.services.logged_models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from django.http import QueryDict

from config import wire
from config.errors import BadRequestError, InvalidParameterValueError
from tracking.models import LOGGED_MODEL_STATUSES
from tracking.selectors.logged_model_search import DatasetFilter
from tracking.selectors.logged_models import LoggedModelData
from tracking.serializers.base import Int32
from tracking.serializers.metrics import metric_value_out
from tracking.validators import validate_length

MAX_KEY_LENGTH: Final = 255  # the reference's column size for param and tag keys
NAME_FORBIDDEN_CHARACTERS: Final = ("/", ":", ".", "%", '"', "'")
STATUS_NAMES: Final = {number: name for name, number in LOGGED_MODEL_STATUSES.items()}


class LoggedModelKeyValueIn(wire.Schema):
    """A param or tag: ``{key, value}``."""

    key = wire.String(required=True)
    value = wire.String()


def key_values(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``(key, value)`` pairs in request order; keys fit the reference's 255-character column."""
    pairs = []
    for item in items:
        validate_length("key", MAX_KEY_LENGTH, item["key"])
        pairs.append((item["key"], item.get("value", "")))
    return pairs


def validate_logged_model_name(name: str) -> None:
    """A given name is non-empty and free of ``/ : . % " '`` (the reference's message)."""
    if not name or any(character in name for character in NAME_FORBIDDEN_CHARACTERS):
        raise InvalidParameterValueError(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {NAME_FORBIDDEN_CHARACTERS}"
        )


class CreateLoggedModelIn(wire.Schema):
    """``POST logged-models``; an empty or absent name is generated."""

    experiment_id = wire.String(required=True)
    name = wire.String()
    model_type = wire.String()
    source_run_id = wire.String()
    params = wire.Repeated(wire.Message(LoggedModelKeyValueIn))
    tags = wire.Repeated(wire.Message(LoggedModelKeyValueIn))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The typed fields, checked and normalised as the class docstring says."""
        parsed = super().parse(data)
        if parsed.get("name"):
            validate_logged_model_name(parsed["name"])
        validate_length("name", 500, parsed.get("name", ""))
        validate_length("model_type", 500, parsed.get("model_type", ""))
        parsed["params"] = key_values(parsed.get("params", []))
        parsed["tags"] = key_values(parsed.get("tags", []))
        return parsed


class FinalizeLoggedModelIn(wire.Schema):
    """``PATCH logged-models/<id>``: ``model_id`` (the URL's) and ``status`` are required."""

    model_id = wire.String(required=True)
    status = wire.Enum(LOGGED_MODEL_STATUSES, required=True)


class LogLoggedModelParamsIn(wire.Schema):
    """``POST logged-models/<id>/params``."""

    model_id = wire.String(required=True)
    params = wire.Repeated(wire.Message(LoggedModelKeyValueIn))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The typed fields, checked and normalised as the class docstring says."""
        parsed = super().parse(data)
        parsed["params"] = key_values(parsed.get("params", []))
        return parsed


class SetLoggedModelTagsIn(wire.Schema):
    """``PATCH logged-models/<id>/tags``."""

    tags = wire.Repeated(wire.Message(LoggedModelKeyValueIn))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The typed fields, checked and normalised as the class docstring says."""
        parsed = super().parse(data)
        parsed["tags"] = key_values(parsed.get("tags", []))
        return parsed


def check_body_model_id(parsed: Mapping[str, Any], model_id: str) -> None:
    """The body's ``model_id`` must name the URL's model, which permissions were checked on.

    differs from reference: it acts on the body's id and ignores the URL's.
    """
    if parsed.get("model_id", model_id) != model_id:
        raise InvalidParameterValueError(
            f"The model_id in the request body ('{parsed['model_id']}') does not match the "
            f"model ID in the URL ('{model_id}')."
        )


def parse_allow_deleted(query: QueryDict) -> bool:
    """``?allow_deleted=true`` (any case); anything else is false, as in the reference."""
    return query.get("allow_deleted", "false").lower() == "true"


class DatasetIn(wire.Schema):
    """One entry of a search's ``datasets``."""

    dataset_name = wire.String()
    dataset_digest = wire.String()


class OrderByIn(wire.Schema):
    """One ``order_by`` object of a search."""

    field_name = wire.String()
    ascending = wire.Bool()
    dataset_name = wire.String()
    dataset_digest = wire.String()


class SearchLoggedModelsIn(wire.Schema):
    """``POST logged-models/search``. ``experiment_ids`` must be sent (``[]`` finds nothing);
    ``order_by`` items are normalised as the reference stores them in page tokens."""

    experiment_ids = wire.Repeated(wire.String())
    filter = wire.String()
    datasets = wire.Repeated(wire.Message(DatasetIn))
    max_results = Int32()
    order_by = wire.Repeated(wire.Message(OrderByIn))
    page_token = wire.String()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The typed fields, checked and normalised as the class docstring says."""
        parsed = super().parse(data)
        if "experiment_ids" not in parsed:
            raise wire.missing_value("experiment_ids")
        if parsed.get("max_results", 0) < 0:
            raise InvalidParameterValueError(
                f"Invalid value {parsed['max_results']} for parameter 'max_results' supplied. "
                "It must be a positive integer"
            )
        parsed["filter"] = parsed.get("filter") or None
        parsed["datasets"] = [
            DatasetFilter(item.get("dataset_name", ""), item.get("dataset_digest") or None)
            for item in parsed.get("datasets", [])
        ]
        parsed["order_by"] = [
            {
                "field_name": item.get("field_name", ""),
                "ascending": item.get("ascending", True),
                "dataset_name": item.get("dataset_name") or None,
                "dataset_digest": item.get("dataset_digest") or None,
            }
            for item in parsed.get("order_by", [])
        ] or None
        return parsed


class ListLoggedModelArtifactsIn(wire.Schema):
    """``GET logged-models/<id>/artifacts/directories``."""

    artifact_directory_path = wire.String()


class GetLoggedModelArtifactIn(wire.Schema):
    """``GET ajax-api/.../logged-models/<id>/artifacts/files?artifact_file_path=`` (UI)."""

    artifact_file_path = wire.String()

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        """The path, which must be given (400 ``BAD_REQUEST`` as in the reference)."""
        parsed = super().parse_query(query)
        if not parsed.get("artifact_file_path"):
            raise BadRequestError('Request must include the "artifact_file_path" query parameter.')
        return parsed


class LoggedModelOut:
    """A logged model as MLflow sends it: ``{info, data}``; tags and params sorted by key,
    ``tags``/``params``/``metrics`` omitted when empty."""

    @staticmethod
    def render(data: LoggedModelData) -> dict[str, Any]:
        """``{"info": ..., "data": ...}`` of one model."""
        model = data.model
        info: dict[str, Any] = {
            "model_id": model.model_id,
            "experiment_id": str(model.experiment_id),
            "name": model.name,
            "creation_timestamp_ms": model.creation_timestamp_ms,
            "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
            "artifact_uri": model.artifact_location,
            "status": STATUS_NAMES[model.status],
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
        }
        if data.tags:
            info["tags"] = [{"key": tag.key, "value": tag.value} for tag in data.tags]
        body: dict[str, Any] = {}
        if data.params:
            body["params"] = [{"key": param.key, "value": param.value} for param in data.params]
        if data.metrics:
            body["metrics"] = [LoggedModelOut.render_metric(point) for point in data.metrics]
        return {"info": info, "data": body}

    @staticmethod
    def render_metric(point: Any) -> dict[str, Any]:
        """A metric point: ``Metric`` with ``run_id``, ``model_id`` and its dataset, if any."""
        metric: dict[str, Any] = {
            "key": point.key,
            "value": metric_value_out(point.value, point.is_nan),
            "timestamp": point.timestamp,
            "step": point.step,
        }
        if point.dataset_name:
            metric["dataset_name"] = point.dataset_name
        if point.dataset_digest:
            metric["dataset_digest"] = point.dataset_digest
        metric["model_id"] = point.model_id
        metric["run_id"] = point.run_id
        return metric
