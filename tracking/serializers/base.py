"""Fields and request bases shared by the run and metric serializers: int64/int32 bounds,
metric values, run statuses, indexed repeated messages (``metrics[0].timestamp``) and the
requests naming one run by ``run_id`` (or the legacy ``run_uuid``). spec: tracking.md §1, §3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from django.http import QueryDict

from config import wire
from config.errors import InvalidParameterValueError

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
INT32_MAX: Final = 2**31 - 1
RUN_STATUSES: Final = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}


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
