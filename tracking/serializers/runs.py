"""Request and response shapes of the run, param, metric, tag, batch, input/output and metric
history endpoints. spec: tracking.md §1, §3, §4, §5.

Each ``<Operation>In`` parses the wire form and checks shapes (key characters, lengths, batch
sizes) in MLflow's order, with its messages; ``RunOut`` renders a run. State rules (active run,
param immutability) live in the services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from django.http import QueryDict

from config import wire
from config.errors import InvalidParameterValueError
from tracking.models import DOUBLE_MAX, Run, RunInput
from tracking.selectors.metrics import HistoryPoint
from tracking.selectors.runs import LatestPoint as StoredMetric
from tracking.selectors.runs import RunData
from tracking.validators import (
    MAX_DATASET_DIGEST_SIZE,
    MAX_DATASET_NAME_SIZE,
    MAX_DATASET_PROFILE_SIZE,
    MAX_DATASET_SCHEMA_SIZE,
    MAX_DATASET_SOURCE_SIZE,
    MAX_ENTITIES_PER_BATCH,
    MAX_INPUT_TAG_KEY_SIZE,
    MAX_INPUT_TAG_VALUE_SIZE,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    append_to_json_path,
    exceeds_maximum_length_message,
    invalid_value_message,
    validate_key,
    validate_length,
    validate_metric_key,
    validate_param,
    validate_run_id,
    validate_run_tag,
)

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
INT32_MAX: Final = 2**31 - 1
RUN_STATUSES: Final = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
MAX_RUN_NAME_LENGTH: Final = 250
MAX_USER_ID_LENGTH: Final = 256
MAX_RUN_IDS_PER_BULK_REQUEST: Final = 100
MAX_RESULTS_PER_RUN: Final = 2500
MAX_HISTORY_BULK_RESULTS: Final = 25000


# --- fields -------------------------------------------------------------------------------


class Int64(wire.Int64):
    """An int64 that also refuses values a 64-bit column cannot hold."""

    low: ClassVar[int] = INT64_MIN
    high: ClassVar[int] = INT64_MAX

    def from_json(self, value: Any) -> int:
        number = super().from_json(value)
        if not self.low <= number <= self.high:
            raise wire.invalid_value(self.name, value)
        return number


class Int32(Int64):
    """An int32 (``max_results`` and step bounds)."""

    low = -(2**31)
    high = INT32_MAX


class MetricValue(wire.Double):
    """A metric value: a double, and like MLflow also ``true``/``false`` as 1.0/0.0.

    spec: examples/runs/validation_limits_more.json (``"value": true`` is logged as 1.0).
    """

    def from_json(self, value: Any) -> float:
        if isinstance(value, bool):
            return float(value)
        return super().from_json(value)


class RunStatus(wire.Field):
    """``status`` by name or number. An unknown *name* is ignored, as protobuf's JSON parser
    does for MLflow (spec: examples/runs/update_status_values.json answers 200 for ``DONE``);
    an unknown number is refused."""

    def __init__(self) -> None:
        super().__init__()
        self.enum = wire.Enum(RUN_STATUSES)

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self.enum.name = name

    def from_json(self, value: Any) -> str | None:
        if isinstance(value, str) and not wire.INTEGER_TEXT.match(value):
            return value if value in RUN_STATUSES else None
        return self.enum.from_json(value)


class IndexedMessages(wire.Field):
    """A repeated message of log-batch: missing and mistyped item fields are reported by their
    path (``metrics[0].timestamp``), as MLflow's log-batch schema does."""

    def __init__(self, schema: type[wire.Schema], required_keys: Sequence[str]) -> None:
        super().__init__()
        self.schema = schema
        self.required_keys = tuple(required_keys)

    def from_json(self, value: Any) -> list[dict[str, Any]]:
        """The items; a log-batch has a thousand, so well-formed ones take a short path and
        only a list with a problem is walked again to report it exactly."""
        if not isinstance(value, list):
            raise wire.invalid_value(self.name, value)
        fields, required = self.schema.fields, self.required_keys
        items = []
        try:
            for element in value:
                item = {}
                for name, raw in element.items():
                    field = fields.get(name)
                    if field is not None and raw is not None:
                        item[name] = field.from_json(raw)
                for key in required:
                    if item.get(key) is None or item[key] == "":
                        raise wire.missing_value(key)
                items.append(item)
        except (AttributeError, InvalidParameterValueError):
            return self._from_json_reporting(value)
        return items

    def _from_json_reporting(self, value: list[Any]) -> list[dict[str, Any]]:
        """The items, checked in the reference's order: the first problem is the one reported."""
        items = []
        for index, element in enumerate(value):
            path = f"{self.name}[{index}]"
            if not isinstance(element, dict):
                raise wire.invalid_value(path, element)
            for key in self.required_keys:
                if element.get(key) is None or element.get(key) == "":
                    raise wire.missing_value(f"{path}.{key}")
            item: dict[str, Any] = {}
            for name, field in self.schema.fields.items():
                raw = element.get(name)
                if raw is None:
                    continue
                try:
                    item[name] = field.from_json(raw)
                except InvalidParameterValueError:
                    raise wire.invalid_value(f"{path}.{name}", raw) from None
            items.append(item)
        return items


# --- requests -----------------------------------------------------------------------------


class RunRequest(wire.Schema):
    """Base of requests naming one run by ``run_id``.

    MLflow's required check on ``run_id`` also accepts the legacy ``run_uuid`` (the client
    sends both). Where the operation's message has a ``run_uuid`` field the run is
    ``run_id or run_uuid``; where it has none, a ``run_uuid``-only request names the run ``""``
    (spec: examples/runs/validation_limits_more.json, delete → ``Run with id= not found``).
    After parsing, ``clean`` checks shapes; ``parsed["run_id"]`` is always set.
    """

    accepts_run_uuid: ClassVar[bool] = False
    run_id = wire.String()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        cls._require_run_id(data.get("run_id"), data.get("run_uuid"))
        return cls._finish(super().parse(data))

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        cls._require_run_id(query.get("run_id"), query.get("run_uuid"))
        return cls._finish(super().parse_query(query))

    @staticmethod
    def _require_run_id(run_id: Any, run_uuid: Any) -> None:
        value = run_uuid if run_id is None else run_id
        if value is None or value == "":
            raise wire.missing_value("run_id")

    @classmethod
    def _finish(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        run_id = parsed.get("run_id") or ""
        if not run_id and cls.accepts_run_uuid:
            run_id = parsed.get("run_uuid") or ""
        parsed["run_id"] = run_id
        return cls.clean(parsed)

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        """Shape checks after parsing; subclasses extend it."""
        return parsed


class RunOrUuidRequest(RunRequest):
    """A request whose message also has the legacy ``run_uuid`` field."""

    accepts_run_uuid = True
    run_uuid = wire.String()


class TagIn(wire.Schema):
    key = wire.String()
    value = wire.String()


class CreateRunIn(wire.Schema):
    experiment_id = wire.String()
    user_id = wire.String()
    run_name = wire.String()
    start_time = Int64()
    tags = wire.Repeated(wire.Message(TagIn))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        parsed = super().parse(data)
        # Tags are not checked by the reference here; keys and values must still fit the columns.
        tags: dict[str, str] = {}
        for index, tag in enumerate(parsed.get("tags", [])):
            key = tag.get("key", "")
            validate_length(f"tags[{index}].key", 250, key)
            tags[key] = validate_length(
                f"tags[{index}].value", 8000, tag.get("value", ""), truncate=True
            )
        parsed["tags"] = tags
        validate_length("run_name", MAX_RUN_NAME_LENGTH, parsed.get("run_name", ""))
        validate_length("user_id", MAX_USER_ID_LENGTH, parsed.get("user_id", ""))
        return parsed


class GetRunIn(RunOrUuidRequest):
    pass


class UpdateRunIn(RunOrUuidRequest):
    status = RunStatus()
    end_time = Int64()
    run_name = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        validate_length("run_name", MAX_RUN_NAME_LENGTH, parsed.get("run_name", ""))
        return parsed


class DeleteRunIn(RunRequest):
    pass


class RestoreRunIn(RunRequest):
    pass


class LogParamIn(RunOrUuidRequest):
    key = wire.String(required=True)
    value = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["value"] = validate_param(parsed["key"], parsed.get("value", ""))
        return parsed


def metric_point(item: dict[str, Any], path: str = "") -> dict[str, Any]:
    """A metric's key, value, timestamp and step, checked as MLflow's ``_validate_metric``."""
    key, value, timestamp = item["key"], item["value"], item["timestamp"]
    validate_key_then_timestamp(key, value, timestamp, path)
    point = {"key": key, "value": value, "timestamp": timestamp, "step": item.get("step", 0)}
    # A point naming a logged model is attached to it too (tracking/services/logged_models.py).
    for name in ("model_id", "dataset_name", "dataset_digest"):
        if item.get(name):
            point[name] = item[name]
    return point


def _metric_points(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``metric_point`` of each batch item. A batch repeats a few keys: each key is checked at
    its first item, so later items only need their timestamp checked."""
    checked: set[str] = set()
    points = []
    for index, item in enumerate(items):
        key, timestamp = item["key"], item["timestamp"]
        if key in checked and timestamp >= 0 and len(item) == 4 and "step" in item:
            points.append(item)  # exactly key, value, timestamp and step: already a point
            continue
        points.append(metric_point(item, f"metrics[{index}]"))
        checked.add(key)
    return points


def validate_key_then_timestamp(key: str, value: float, timestamp: int, path: str) -> None:
    """Key characters, then a non-negative timestamp, then the key's length (MLflow's order)."""
    validate_key(key, append_to_json_path(path, "name"))
    if timestamp < 0:
        raise InvalidParameterValueError(
            invalid_value_message(
                append_to_json_path(path, "timestamp"),
                timestamp,
                f"metric '{key}' (value={value}). "
                "Timestamp must be a nonnegative long (64-bit integer) ",
            )
        )
    validate_metric_key(key, path)


class LogMetricIn(RunOrUuidRequest):
    key = wire.String(required=True)
    value = MetricValue(required=True)
    timestamp = Int64(required=True)
    step = Int64()
    model_id = wire.String()
    dataset_name = wire.String()
    dataset_digest = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["metric"] = metric_point(parsed)
        return parsed


class SetTagIn(RunOrUuidRequest):
    key = wire.String(required=True)
    value = wire.String()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["value"] = validate_run_tag(parsed["key"], parsed.get("value", ""))
        return parsed


class DeleteTagIn(RunRequest):
    key = wire.String(required=True)


class BatchMetricIn(wire.Schema):
    key = wire.String()
    value = MetricValue()
    timestamp = Int64()
    step = Int64()
    model_id = wire.String()
    dataset_name = wire.String()
    dataset_digest = wire.String()


class LogBatchIn(RunRequest):
    """``metrics``, ``params`` and ``tags`` become ``metrics`` (checked points), ``params`` and
    ``tags`` (key → value in request order; values truncated)."""

    metrics = IndexedMessages(BatchMetricIn, ("key", "value", "timestamp"))
    params = IndexedMessages(TagIn, ("key",))
    tags = IndexedMessages(TagIn, ("key",))

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        # MLflow's order: run id shape, each item, batch sizes, duplicate param keys.
        validate_run_id(parsed["run_id"])
        raw_metrics = parsed.get("metrics", [])
        raw_params = parsed.get("params", [])
        raw_tags = parsed.get("tags", [])
        metrics = _metric_points(raw_metrics)
        params = [
            (item["key"], validate_param(item["key"], item.get("value", ""), f"params[{i}]"))
            for i, item in enumerate(raw_params)
        ]
        tags = [
            (item["key"], validate_run_tag(item["key"], item.get("value", ""), f"tags[{i}]"))
            for i, item in enumerate(raw_tags)
        ]
        check_batch_limit("metrics", MAX_METRICS_PER_BATCH, len(metrics))
        check_batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
        check_batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
        check_batch_limit(
            "metrics, params, and tags",
            MAX_ENTITIES_PER_BATCH,
            len(metrics) + len(params) + len(tags),
        )
        seen: set[str] = set()
        duplicates = []
        for key, _ in params:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        if duplicates:
            raise InvalidParameterValueError(
                f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure "
                "the request contains only one param value per param key."
            )
        parsed["metrics"] = metrics
        parsed["params"] = dict(params)
        parsed["tags"] = dict(tags)  # a key given twice keeps its last value, as in MLflow
        return parsed


def check_batch_limit(entity_name: str, limit: int, length: int) -> None:
    """``A batch logging request can contain at most <limit> <entities>. ...``"""
    if length > limit:
        raise InvalidParameterValueError(
            f"A batch logging request can contain at most {limit} {entity_name}. "
            f"Got {length} {entity_name}. Please split up {entity_name} across multiple"
            " requests and try again."
        )


class DatasetIn(wire.Schema):
    name = wire.String()
    digest = wire.String()
    source_type = wire.String()
    source = wire.String()
    schema = wire.String()
    profile = wire.String()


class InputTagIn(wire.Schema):
    key = wire.String()
    value = wire.String()


class DatasetInputIn(wire.Schema):
    tags = wire.Repeated(wire.Message(InputTagIn))
    dataset = wire.Message(DatasetIn)


class ModelInputIn(wire.Schema):
    model_id = wire.String()


class ModelOutputIn(wire.Schema):
    model_id = wire.String()
    step = Int64()


DATASET_LIMITS: Final = (
    ("name", MAX_DATASET_NAME_SIZE),
    ("digest", MAX_DATASET_DIGEST_SIZE),
    ("source", MAX_DATASET_SOURCE_SIZE),
    ("schema", MAX_DATASET_SCHEMA_SIZE),
    ("profile", MAX_DATASET_PROFILE_SIZE),
)


class LogInputsIn(RunRequest):
    """``datasets`` become dicts with ``dataset`` (unset strings as ``""``, unset schema and
    profile as ``None``) and ``tags`` (a list of ``{"key", "value"}``); ``models`` a list of
    model ids."""

    datasets = wire.Repeated(wire.Message(DatasetInputIn))
    models = wire.Repeated(wire.Message(ModelInputIn))

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        validate_run_id(parsed["run_id"])
        datasets = []
        for dataset_input in parsed.get("datasets", []):
            raw = dataset_input.get("dataset", {})
            dataset = {
                "name": raw.get("name", ""),
                "digest": raw.get("digest", ""),
                "source_type": raw.get("source_type", ""),
                "source": raw.get("source", ""),
                "schema": raw.get("schema"),
                "profile": raw.get("profile"),
            }
            for field, limit in DATASET_LIMITS:
                if dataset[field] is not None and len(dataset[field]) > limit:
                    raise InvalidParameterValueError(exceeds_maximum_length_message(field, limit))
            tags = [
                {"key": tag.get("key", ""), "value": tag.get("value", "")}
                for tag in dataset_input.get("tags", [])
            ]
            for tag in tags:
                validate_length("key", MAX_INPUT_TAG_KEY_SIZE, tag["key"])
                validate_length("value", MAX_INPUT_TAG_VALUE_SIZE, tag["value"])
            datasets.append({"dataset": dataset, "tags": tags})
        parsed["datasets"] = datasets
        parsed["models"] = [model.get("model_id", "") for model in parsed.get("models", [])]
        return parsed


class LogOutputsIn(RunRequest):
    models = wire.Repeated(wire.Message(ModelOutputIn), required=True)

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        parsed["models"] = [
            (model.get("model_id", ""), model.get("step", 0)) for model in parsed["models"]
        ]
        return parsed


LOGGED_MODEL_REQUIRED_FIELDS: Final = ("artifact_path", "flavors", "utc_time_created", "run_id")


class LogModelIn(RunRequest):
    """The legacy ``model_json``: a JSON object with at least ``artifact_path``, ``flavors``,
    ``utc_time_created`` and ``run_id``; ``parsed["model"]`` holds it decoded."""

    model_json = wire.String(required=True)

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        text = parsed["model_json"]
        try:
            model = json.loads(text)
        except ValueError:
            model = None
        if not isinstance(model, dict):
            raise InvalidParameterValueError(
                f"Malformed model info. \n {text} \n is not a valid JSON."
            )
        missing = [field for field in LOGGED_MODEL_REQUIRED_FIELDS if field not in model]
        if missing:
            shown = "{" + ", ".join(repr(field) for field in sorted(missing)) + "}"
            raise InvalidParameterValueError(f"Model json is missing mandatory fields: {shown}")
        if not isinstance(model["flavors"], dict):
            raise InvalidParameterValueError(
                invalid_value_message("flavors", model["flavors"], "Expected a JSON object.")
            )
        parsed["model"] = model
        return parsed


class GetMetricHistoryIn(RunOrUuidRequest):
    metric_key = wire.String(required=True)
    page_token = wire.String()
    max_results = Int32()

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        max_results = parsed.get("max_results")
        if max_results is not None and max_results <= 0:
            raise InvalidParameterValueError(
                f"Invalid value {max_results} for parameter 'max_results' supplied. "
                "It must be a positive integer."
            )
        return parsed


class GetMetricHistoryBulkIntervalIn(wire.Schema):
    run_ids = wire.Repeated(wire.String(), required=True)
    metric_key = wire.String(required=True)
    start_step = Int32()
    end_step = Int32()
    max_results = Int32()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return cls.clean(super().parse(data))

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        return cls.clean(super().parse_query(query))

    @classmethod
    def clean(cls, parsed: dict[str, Any]) -> dict[str, Any]:
        run_ids = parsed["run_ids"]
        if len(run_ids) > MAX_RUN_IDS_PER_BULK_REQUEST:
            raise InvalidParameterValueError(
                "GetMetricHistoryBulkInterval request must specify at most "
                f"{MAX_RUN_IDS_PER_BULK_REQUEST} run_ids. Received {len(run_ids)} run_ids. "
                f"{wire.API_DOCS_HINT}"
            )
        max_results = parsed.get("max_results", MAX_RESULTS_PER_RUN)
        if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
            raise InvalidParameterValueError(
                f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}. {wire.API_DOCS_HINT}"
            )
        parsed["max_results"] = max_results
        start_step, end_step = parsed.get("start_step"), parsed.get("end_step")
        if (start_step is None) != (end_step is None):
            raise InvalidParameterValueError(
                "If either start step or end step are specified, both must be specified."
            )
        if start_step is not None and end_step is not None and start_step > end_step:
            raise InvalidParameterValueError(
                "end_step must be greater than start_step. "
                f"Found start_step={start_step} and end_step={end_step}."
            )
        return parsed


class GetMetricHistoryBulkIn(wire.Schema):
    """The UI-only bulk history: ``run_id`` repeated (1–100), ``metric_key``, ``max_results``
    (at most 25000; larger values are lowered to it)."""

    run_id = wire.Repeated(wire.String())
    metric_key = wire.String()
    max_results = Int32()

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        parsed = super().parse_query(query)
        run_ids = parsed.get("run_id", [])
        if not run_ids:
            raise InvalidParameterValueError(
                "GetMetricHistoryBulk request must specify at least one run_id."
            )
        if len(run_ids) > MAX_RUN_IDS_PER_BULK_REQUEST:
            raise InvalidParameterValueError(
                "GetMetricHistoryBulk request cannot specify more than "
                f"{MAX_RUN_IDS_PER_BULK_REQUEST} run_ids. Received {len(run_ids)} run_ids."
            )
        if "metric_key" not in parsed:
            raise InvalidParameterValueError(
                "GetMetricHistoryBulk request must specify a metric_key."
            )
        parsed["max_results"] = min(
            parsed.get("max_results", MAX_HISTORY_BULK_RESULTS), MAX_HISTORY_BULK_RESULTS
        )
        return parsed


# --- responses ----------------------------------------------------------------------------


def metric_value_out(value: float, is_nan: bool) -> float | str:
    """A stored metric value on the wire: NaN and ±Infinity (stored as ±DBL_MAX) as strings.

    differs from reference: it sends +Infinity back as 1.7976931348623157e+308.
    """
    if is_nan:
        return "NaN"
    if value >= DOUBLE_MAX:
        return "Infinity"
    if value <= -DOUBLE_MAX:
        return "-Infinity"
    return wire.encode_double(value)


class MetricOut:
    """A metric point as MLflow sends it."""

    @staticmethod
    def render(metric: StoredMetric) -> dict[str, Any]:
        return {
            "key": metric.key,
            "value": metric_value_out(metric.value, metric.is_nan),
            "timestamp": metric.timestamp,
            "step": metric.step,
        }

    @staticmethod
    def render_with_run_id(metric: HistoryPoint) -> dict[str, Any]:
        """A ``MetricWithRunId`` row of the bulk history endpoints."""
        return {**MetricOut.render(metric), "run_id": metric.run_id}


def key_values(rows: Sequence[Any]) -> list[dict[str, str]]:
    return [{"key": row.key, "value": row.value} for row in rows]


class RunOut:
    """A run as MLflow sends it: ``{info, data, inputs[, outputs]}`` with protobuf omissions."""

    @staticmethod
    def render_info(run: Run) -> dict[str, Any]:
        """``RunInfo``: every field always present except ``end_time`` until it is set."""
        info: dict[str, Any] = {
            "run_uuid": run.run_uuid,
            "experiment_id": str(run.experiment_id),
            "run_name": run.run_name,
            "user_id": run.user_id,
            "status": run.status,
            "start_time": run.start_time,
        }
        if run.end_time is not None:
            info["end_time"] = run.end_time
        info["artifact_uri"] = run.artifact_uri
        info["lifecycle_stage"] = run.lifecycle_stage
        info["run_id"] = run.run_uuid
        return info

    @staticmethod
    def render(
        data: RunData, *, include_outputs: bool = True, include_model_inputs: bool = True
    ) -> dict[str, Any]:
        """The full run. ``runs/create`` leaves out ``outputs``; ``runs/search`` in MLflow
        leaves out ``inputs.model_inputs`` (pass ``include_model_inputs=False`` to match)."""
        run_data: dict[str, Any] = {}
        if data.metrics:
            run_data["metrics"] = [MetricOut.render(metric) for metric in data.metrics]
        if data.params:
            run_data["params"] = key_values(data.params)
        if data.tags:
            run_data["tags"] = key_values(data.tags)
        inputs: dict[str, Any] = {}
        if data.dataset_inputs:
            inputs["dataset_inputs"] = [RunOut.render_dataset_input(i) for i in data.dataset_inputs]
        if include_model_inputs and data.model_inputs:
            inputs["model_inputs"] = [{"model_id": link.model_id} for link in data.model_inputs]
        body: dict[str, Any] = {"info": RunOut.render_info(data.run), "data": run_data}
        body["inputs"] = inputs
        if include_outputs:
            outputs: dict[str, Any] = {}
            if data.model_outputs:
                outputs["model_outputs"] = [
                    {"model_id": link.model_id, "step": link.step} for link in data.model_outputs
                ]
            body["outputs"] = outputs
        return body

    @staticmethod
    def render_dataset_input(run_input: RunInput) -> dict[str, Any]:
        """``DatasetInput``: input tags when any, and the dataset (schema/profile when set)."""
        dataset = run_input.dataset
        rendered: dict[str, Any] = {
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
        }
        if dataset.schema is not None:
            rendered["schema"] = dataset.schema
        if dataset.profile is not None:
            rendered["profile"] = dataset.profile
        body: dict[str, Any] = {}
        if run_input.tags:
            body["tags"] = [{"key": tag["key"], "value": tag["value"]} for tag in run_input.tags]
        body["dataset"] = rendered
        return body
