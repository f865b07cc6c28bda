"""Request and response shapes of metric logging (log-metric, log-batch) and metric history.
spec: tracking.md §4, §5.

Each ``<Operation>In`` parses the wire form and checks shapes (key characters, timestamps,
batch sizes) in MLflow's order, with its messages; ``MetricOut`` renders a point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from django.http import QueryDict

from config import wire
from config.errors import InvalidParameterValueError
from tracking.models import DOUBLE_MAX
from tracking.selectors.metrics import HistoryPoint
from tracking.selectors.runs import LatestPoint as StoredMetric
from tracking.serializers.base import (
    IndexedMessages,
    Int32,
    Int64,
    MetricValue,
    RunOrUuidRequest,
    RunRequest,
    TagIn,
)
from tracking.validators import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    append_to_json_path,
    invalid_value_message,
    validate_key,
    validate_metric_key,
    validate_param,
    validate_run_id,
    validate_run_tag,
)

MAX_RUN_IDS_PER_BULK_REQUEST: Final = 100
MAX_RESULTS_PER_RUN: Final = 2500
MAX_HISTORY_BULK_RESULTS: Final = 25000


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
