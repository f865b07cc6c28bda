"""MLflow's wire format: decoding request bodies and query strings into typed values.

A request schema is a ``Schema`` subclass whose attributes are ``Field`` objects named after the
protobuf fields. ``Schema.parse`` returns only the fields the caller sent (protobuf presence), with
MLflow's messages for missing and mistyped values. spec: README.md §2.1.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.http import HttpRequest, QueryDict

from config.errors import InvalidParameterValueError

API_DOCS_HINT = "See the API docs for more information about request parameters."
JSON_CONTENT_TYPE = "application/json"
INTEGER_TEXT = re.compile(r"^[-+]?\d+$")
SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def missing_value(name: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(
        f"Missing value for required parameter '{name}'. {API_DOCS_HINT}"
    )


def invalid_value(name: str, value: Any) -> InvalidParameterValueError:
    return InvalidParameterValueError(
        f"Invalid value {json.dumps(value)} for parameter '{name}' supplied:  "
        f"Hint: Value was of type '{type(value).__name__}'. {API_DOCS_HINT}"
    )


def decode_json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of a POST/PUT/PATCH/DELETE body, as MLflow reads it.

    POST and PUT must say ``application/json``. A body that is not JSON counts as ``{}``, and a
    JSON string holding JSON (old clients double-encode) is decoded a second time.
    """
    if request.method in ("POST", "PUT"):
        content_type = request.META.get("CONTENT_TYPE", "")
        if not content_type:
            raise InvalidParameterValueError("Bad Request. Content-Type header is missing.")
        if content_type.split(";", 1)[0].strip().lower() != JSON_CONTENT_TYPE:
            raise InvalidParameterValueError(
                "Bad Request. Content-Type must be one of ['application/json']."
            )
    raw = request.body
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        if isinstance(data, str):
            data = json.loads(data)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


class Field:
    """One protobuf field: how to read it from JSON and from a query string."""

    name: str = ""

    def __init__(self, *, required: bool = False) -> None:
        self.required = required

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def from_json(self, value: Any) -> Any:
        raise NotImplementedError

    def from_query(self, values: list[str]) -> Any:
        return self.from_json(values[-1])

    def is_empty(self, value: Any) -> bool:
        return value is None


class String(Field):
    def from_json(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid_value(self.name, value)
        return value

    def is_empty(self, value: Any) -> bool:
        # spec: README.md §2.1, an empty string counts as missing for a required string.
        return value is None or value == ""


class Int64(Field):
    """Integers arrive as JSON numbers or as decimal strings."""

    def from_json(self, value: Any) -> int:
        if isinstance(value, bool):
            raise invalid_value(self.name, value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and INTEGER_TEXT.match(value.strip()):
            return int(value)
        raise invalid_value(self.name, value)


class Double(Field):
    """Numbers, numeric strings, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""

    def from_json(self, value: Any) -> float:
        if isinstance(value, bool):
            raise invalid_value(self.name, value)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            if value in SPECIAL_DOUBLES:
                return SPECIAL_DOUBLES[value]
            try:
                return float(value)
            except ValueError:
                pass
        raise invalid_value(self.name, value)


class Bool(Field):
    def from_json(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.from_query([value])
        raise invalid_value(self.name, value)

    def from_query(self, values: list[str]) -> bool:
        word = values[-1].strip().lower()
        if word in ("true", "false"):
            return word == "true"
        raise InvalidParameterValueError(
            f"Invalid boolean value: {values[-1]}, must be 'true' or 'false'."
        )


class Enum(Field):
    """An enum sent by name (what the client sends) or by number."""

    def __init__(self, names: Mapping[str, int], *, required: bool = False) -> None:
        super().__init__(required=required)
        self.names = dict(names)
        self.by_number = {number: name for name, number in names.items()}

    def from_json(self, value: Any) -> str:
        if isinstance(value, str):
            if value in self.names:
                return value
            if INTEGER_TEXT.match(value) and int(value) in self.by_number:
                return self.by_number[int(value)]
        elif isinstance(value, int) and not isinstance(value, bool) and value in self.by_number:
            return self.by_number[value]
        raise invalid_value(self.name, value)


class Repeated(Field):
    """A repeated field: a JSON array, or a query key given once per element."""

    def __init__(self, item: Field, *, required: bool = False) -> None:
        super().__init__(required=required)
        self.item = item

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self.item.name = name

    def from_json(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise invalid_value(self.name, value)
        return [self.item.from_json(element) for element in value]

    def from_query(self, values: list[str]) -> list[Any]:
        return [self.item.from_json(element) for element in values]

    def is_empty(self, value: Any) -> bool:
        return not value


class Message(Field):
    """A nested message, parsed by its own schema."""

    def __init__(self, schema: type[Schema], *, required: bool = False) -> None:
        super().__init__(required=required)
        self.schema = schema

    def from_json(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid_value(self.name, value)
        return self.schema.parse(value)


class Schema:
    """A request message. Subclasses declare ``Field`` attributes."""

    fields: ClassVar[dict[str, Field]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = {
            name: value
            for klass in reversed(cls.__mro__)
            for name, value in vars(klass).items()
            if isinstance(value, Field)
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values of the fields present in a JSON object."""
        return cls._parse(data, lambda field, value: field.from_json(value))

    @classmethod
    def parse_query(cls, query: QueryDict) -> dict[str, Any]:
        """Typed values of the fields present in a query string."""
        return cls._parse(query, lambda field, _: field.from_query(query.getlist(field.name)))

    @classmethod
    def _parse(cls, data: Mapping[str, Any], read: Callable[[Field, Any], Any]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for name, field in cls.fields.items():
            if "_" in name and camel_case(name) in data and name in data:
                raise InvalidParameterValueError(
                    f"Request specifies both '{name}' and '{camel_case(name)}'; "
                    "provide only one of them."
                )
            value = data.get(name)
            if value is None:
                if field.required:
                    raise missing_value(name)
                continue
            value = read(field, value)
            if field.required and field.is_empty(value):
                raise missing_value(name)
            parsed[name] = value
        return parsed


def parse_request(schema: type[Schema], request: HttpRequest) -> dict[str, Any]:
    """Parse a request's query string (GET) or JSON body (other methods) with ``schema``."""
    if request.method in ("GET", "HEAD"):
        return schema.parse_query(request.GET)
    return schema.parse(decode_json_body(request))


def encode_double(value: float) -> float | str:
    """Doubles are numbers on the wire, except NaN and ±Infinity, which are strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value
