"""Searches of registered models and model versions: rules, ORM compilation, paging.

spec: search.md §4-5, §7. The filter language is the shared one of ``tracking.search``; only the
per-entity rules and the compilation live here. Tag clauses are ``EXISTS`` subqueries on the
indexed ``(workspace, owner, key)`` columns, so a row without the tag never matches.

Prompts: a model without the tag ``mlflow.prompt.is_prompt`` counts as ``'false'``. Unless a
filter asks for prompts (``tags.`mlflow.prompt.is_prompt` = 'true'`` or ``!= 'false'``), clauses
on that tag are dropped and prompts are left out, as the reference does; the client appends
``tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet

from config import wire
from config.errors import InvalidParameterValueError
from registry import version_rows
from registry.models import (
    IS_PROMPT_TAG_KEY,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from registry.selectors.details import (
    ModelVersionDetails,
    RegisteredModelDetails,
    model_version_details,
    models_flagged,
    registered_model_details,
    versions_flagged,
)
from tracking.search.conditions import number_condition, text_condition
from tracking.search.grammar import Literal, RawClause, ValueKind, parse_filter, parse_order_by
from tracking.search.paging import SearchPage, decode_page_token, page_from_rows
from tracking.search.rules import (
    IN_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_COMPARATORS,
    Clause,
    ClauseValue,
    EntityRule,
    FieldRule,
    OrderKey,
    SearchSpec,
    ValueType,
    resolve_order_by,
    strip_quotes,
    trim_backticks,
    validate_filter,
)
from workspaces.context import scope_filter

REGISTERED_MODELS_MAX_RESULTS_DEFAULT: Final = 100
REGISTERED_MODELS_MAX_RESULTS_LIMIT: Final = 1000
MODEL_VERSIONS_MAX_RESULTS_DEFAULT: Final = 200_000
MODEL_VERSIONS_MAX_RESULTS_LIMIT: Final = 200_000

# Python prints these sets in arbitrary order; these are the orders recorded from MLflow 3.17.2.
_ENTITY_TYPES = "('attribute', 'tag', 'tags')"
_MODEL_ORDER_KEYS = "{'timestamp', 'name'}"
_VERSION_FILTER_KEYS = "{'source_path', 'run_id', 'version_number', 'name'}"
_VERSION_ORDER_KEYS = "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
_VERSION_NUMERIC_KEYS = "{'version_number', 'creation_timestamp', 'last_updated_timestamp'}"

_TAG_VALUE_ERROR = "Expected a quoted string value for tag (e.g. 'my-value'). Got value {raw}"
_TAG = EntityRule(
    "tag",
    any_key=FieldRule(
        value_type=ValueType.STRING,
        # differs from reference: IS [NOT] NULL on a tag crashes it (HTML 500); 400 here.
        comparators=STRING_COMPARATORS,
        value_error=_TAG_VALUE_ERROR,
        comparator_error="Invalid comparator for tag: {comparator}",
        list_error=_TAG_VALUE_ERROR,
    ),
    order_error="Invalid order_by entity: {entity}",
)
_ATTRIBUTE_COMPARATOR_ERROR = "Invalid comparator for attribute: {comparator}"
_UNKNOWN_ENTITY = f"Invalid entity type '{{entity}}'. Valid entity types are {_ENTITY_TYPES}"
_ATTRIBUTE_STRING_ERROR = (
    "Expected a quoted string value or a list of quoted string values for attributes. "
    "Got value {raw}"
)

_MODEL_ATTRIBUTE = EntityRule(
    "attribute",
    fields={
        "name": FieldRule(
            value_type=ValueType.STRING,
            comparators=STRING_COMPARATORS | IN_COMPARATORS,
            value_error=_ATTRIBUTE_STRING_ERROR,
            comparator_error=_ATTRIBUTE_COMPARATOR_ERROR,
            column="name",
        ),
    },
    unknown_key_error="Invalid attribute key '{key}' specified. Valid keys are '{'name'}'",
)
MODEL_SPEC: Final = SearchSpec(
    entities={"attribute": _MODEL_ATTRIBUTE, "tag": _TAG, "tags": _TAG},
    default_entity=_MODEL_ATTRIBUTE,
    unknown_entity_error=_UNKNOWN_ENTITY,
    trim_entity_backticks=False,
    quote_invalid_clauses=False,
)


def _version_number(value: ClauseValue, key: str) -> ClauseValue:
    """Version numbers compare as integers; quoted integers (``'2'``) are accepted too."""
    if isinstance(value, tuple):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise InvalidParameterValueError(
            f"Invalid value for numeric attribute '{key}': {value!r}"
        ) from None


def _version_text(column: str, *, lists: bool) -> FieldRule:
    return FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | (IN_COMPARATORS if lists else frozenset()),
        value_error=(
            f"Only the '{_VERSION_NUMERIC_KEYS}' attributes support comparison with numeric values."
        ),
        comparator_error=_ATTRIBUTE_COMPARATOR_ERROR,
        column=column,
        list_error=None
        if lists
        else (
            "Only ['name', 'run_id'] attributes support comparison with a list of quoted "
            "string values."
        ),
    )


_VERSION_ATTRIBUTE = EntityRule(
    "attribute",
    fields={
        "name": _version_text("registered_model__name", lists=True),
        "run_id": _version_text("run_id", lists=True),
        "source_path": _version_text("source", lists=False),
        "version_number": FieldRule(
            value_type=ValueType.STRING,  # numbers are turned into text first, see below
            comparators=NUMERIC_COMPARATORS,
            value_error=_ATTRIBUTE_STRING_ERROR,
            comparator_error="Invalid comparator for attribute {key}: {comparator}",
            column="version",
            list_error=(
                "Only ['name', 'run_id'] attributes support comparison with a list of quoted "
                "string values."
            ),
            convert=_version_number,
        ),
    },
    unknown_key_error=(
        f"Invalid attribute key '{{key}}' specified. Valid keys are '{_VERSION_FILTER_KEYS}'"
    ),
)
VERSION_SPEC: Final = SearchSpec(
    entities={"attribute": _VERSION_ATTRIBUTE, "tag": _TAG, "tags": _TAG},
    default_entity=_VERSION_ATTRIBUTE,
    unknown_entity_error=_UNKNOWN_ENTITY,
    trim_entity_backticks=False,
    quote_invalid_clauses=False,
)
_ORDER_FIELD = FieldRule(
    value_type=ValueType.STRING, comparators=frozenset(), value_error="", comparator_error=""
)
_VERSION_ORDER_ATTRIBUTE = EntityRule(
    "attribute",
    fields={
        "name": replace(_ORDER_FIELD, column="registered_model__name"),
        "version_number": replace(_ORDER_FIELD, column="version"),
        "creation_timestamp": replace(_ORDER_FIELD, column="creation_timestamp"),
        "last_updated_timestamp": replace(_ORDER_FIELD, column="last_updated_timestamp"),
    },
    unknown_key_error=(
        f"Invalid attribute key '{{key}}' specified. Valid keys are '{_VERSION_ORDER_KEYS}'"
    ),
)
VERSION_ORDER_SPEC: Final = SearchSpec(
    entities={"attribute": _VERSION_ORDER_ATTRIBUTE, "tag": _TAG, "tags": _TAG},
    default_entity=_VERSION_ORDER_ATTRIBUTE,
    unknown_entity_error=_UNKNOWN_ENTITY,
    trim_entity_backticks=False,
)
VERSION_DEFAULT_ORDER_BY: Final = ("last_updated_timestamp DESC", "name ASC", "version_number DESC")
_MODEL_ORDER_COLUMNS: Final = {
    "name": "name",
    "timestamp": "last_updated_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}


# What a found version shows (registry/serializers.py, ModelVersionOut): loading only these
# keeps the widest search cheap; the query-count tests catch a field read but not loaded.
_SHOWN_VERSION_FIELDS: Final = (
    "registered_model__name",
    "version",
    "creation_timestamp",
    "last_updated_timestamp",
    "current_stage",
    "description",
    "source",
    "run_id",
    "status",
    "status_message",
    "run_link",
)


def _version_numbers_as_text(raw_clauses: Sequence[RawClause]) -> list[RawClause]:
    """``version_number = 2`` and ``= '2'`` both work: integer literals on ``version_number``
    become text for the shared validator (which types a key's values one way only); a
    fractional one is refused with the reference's message."""
    converted: list[RawClause] = []
    for raw in raw_clauses:
        value = raw.value
        is_attribute = raw.identifier.entity in (None, "attribute")
        key = trim_backticks(strip_quotes(raw.identifier.key_text))
        if is_attribute and key == "version_number" and value and value.kind is ValueKind.NUMBER:
            if isinstance(value.number, float):
                raise InvalidParameterValueError(
                    f"Invalid value for numeric attribute 'version_number': {value.number!r}"
                )
            text = str(value.number)
            raw = replace(raw, value=Literal(ValueKind.STRING, value.text, string=text))
        converted.append(raw)
    return converted


def parse_model_filter(filter_string: str | None) -> list[Clause]:
    """The validated clauses of a registered-model filter."""
    raw = parse_filter(filter_string or "", quote_invalid=False)
    return validate_filter(raw, MODEL_SPEC)


def parse_version_filter(filter_string: str | None) -> list[Clause]:
    """The validated clauses of a model-version filter."""
    raw = parse_filter(filter_string or "", quote_invalid=False)
    return validate_filter(_version_numbers_as_text(raw), VERSION_SPEC)


def _duplicate_order_by(order_by: Sequence[str]) -> InvalidParameterValueError:
    # differs from reference: the same field twice is 500 INTERNAL_ERROR there.
    return InvalidParameterValueError(f"`order_by` contains duplicate fields: {list(order_by)!r}")


def parse_model_order_by(order_by: Sequence[str]) -> list[OrderKey]:
    """``name``, ``timestamp`` or ``last_updated_timestamp``, each at most once."""
    keys: list[OrderKey] = []
    for text in order_by:
        item = parse_order_by(text)
        written = ".".join(part.value for part in item.identifier.parts)
        column = _MODEL_ORDER_COLUMNS.get(written)
        if column is None:
            raise InvalidParameterValueError(
                f"Invalid order by key '{written}' specified. Valid keys are '{_MODEL_ORDER_KEYS}'"
            )
        if any(key.key == column for key in keys):
            raise _duplicate_order_by(order_by)
        keys.append(OrderKey("attribute", column, item.ascending))
    return keys


def parse_version_order_by(order_by: Sequence[str]) -> list[OrderKey]:
    """Model-version ``order_by`` keys; none given means the reference's default order."""
    keys: list[OrderKey] = []
    for text in order_by or VERSION_DEFAULT_ORDER_BY:
        key = resolve_order_by(parse_order_by(text), VERSION_ORDER_SPEC)
        if any(seen.key == key.key for seen in keys):
            raise _duplicate_order_by(order_by)
        keys.append(key)
    return keys


def _is_querying_prompts(clauses: Sequence[Clause]) -> bool:
    """The first clause on the prompt tag decides, as in the reference."""
    for clause in clauses:
        if clause.entity == "tag" and clause.key == IS_PROMPT_TAG_KEY:
            value = str(clause.value).lower()
            return (clause.comparator == "=" and value == "true") or (
                clause.comparator == "!=" and value == "false"
            )
    return False


def _text_condition(column: str, comparator: str, value: ClauseValue) -> Any:
    if comparator in IN_COMPARATORS and isinstance(value, str):
        value = (value,)
    assert isinstance(value, str | tuple)
    return text_condition(column, comparator, value)


def _tag_conditions(
    clauses: Sequence[Clause], tags: QuerySet[Any], *, keep_prompt_clauses: bool
) -> list[Exists]:
    conditions = []
    for clause in clauses:
        if clause.entity != "tag":
            continue
        if clause.key == IS_PROMPT_TAG_KEY and not keep_prompt_clauses:
            continue
        matching = tags.filter(key=clause.key).filter(
            _text_condition("value", clause.comparator, clause.value)
        )
        conditions.append(Exists(matching))
    return conditions


def _attribute_conditions(clauses: Sequence[Clause]) -> list[Any]:
    conditions = []
    for clause in clauses:
        if clause.entity != "attribute":
            continue
        if isinstance(clause.value, int):
            conditions.append(number_condition(clause.key, clause.comparator, clause.value))
        else:
            conditions.append(_text_condition(clause.key, clause.comparator, clause.value))
    return conditions


def _ordering(keys: Sequence[OrderKey], ties: Sequence[tuple[str, bool]]) -> list[OrderBy]:
    ordering = [F(key.key).asc() if key.ascending else F(key.key).desc() for key in keys]
    for column, ascending in ties:
        if not any(key.key == column for key in keys):
            ordering.append(F(column).asc() if ascending else F(column).desc())
    return ordering


def _max_results(value: int | None, *, default: int, limit: int) -> int:
    """``max_results`` within 1..limit; an absent one is ``default``."""
    if value is None:
        return default
    if value > limit:
        # spec: examples/registry/search_errors.json, the GET value shown as a string.
        raise wire.invalid_value("max_results", str(value))
    if value < 1:
        # differs from reference: registered-model search accepts 0 and pages forever.
        raise InvalidParameterValueError(
            f"Invalid value for max_results. It must be a positive integer, but got {value}"
        )
    return value


def registered_model_search(
    *,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] = (),
    page_token: str | None = None,
    visible: Q | None = None,
) -> SearchPage[RegisteredModelDetails]:
    """One page of the active workspace's registered models (or prompts) matching a filter,
    ordered by ``order_by`` then ``name``; five queries whatever the page size.

    ``visible`` (a condition on ``RegisteredModel``, e.g. the caller's read permission) is
    applied in the query, so pages stay full without refilling.
    """
    limit = _max_results(
        max_results,
        default=REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        limit=REGISTERED_MODELS_MAX_RESULTS_LIMIT,
    )
    clauses = parse_model_filter(filter_string)
    keys = parse_model_order_by(order_by)
    offset = decode_page_token(page_token)
    querying_prompts = _is_querying_prompts(clauses)
    conditions = _attribute_conditions(clauses)
    if any(clause.entity == "tag" for clause in clauses):
        tags = RegisteredModelTag.objects.filter(registered_model=OuterRef("pk"))
        conditions += _tag_conditions(clauses, tags, keep_prompt_clauses=querying_prompts)
    if visible:
        conditions.append(visible)
    if not querying_prompts:
        conditions.append(version_rows.not_prompt_model())
    models = models_flagged(RegisteredModel.objects.filter(*conditions)).order_by(
        *_ordering(keys, [("name", True)])
    )
    page = page_from_rows(
        list(models[offset : offset + limit + 1]), offset=offset, max_results=limit
    )
    return SearchPage(registered_model_details(page.items), page.next_page_token)


def model_version_search(
    *,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] = (),
    page_token: str | None = None,
    visible: Q | None = None,
) -> SearchPage[ModelVersionDetails]:
    """One page of the active workspace's model versions matching a filter; prompt versions
    only when the filter asks for them. Two queries whatever the page size.

    ``visible`` is a condition on ``ModelVersion`` (its model is ``registered_model``).
    """
    limit = _max_results(
        max_results,
        default=MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
        limit=MODEL_VERSIONS_MAX_RESULTS_LIMIT,
    )
    clauses = parse_version_filter(filter_string)
    keys = parse_version_order_by(order_by)
    offset = decode_page_token(page_token)
    querying_prompts = _is_querying_prompts(clauses)
    conditions = _attribute_conditions(clauses)
    if any(clause.entity == "tag" for clause in clauses):
        tags = ModelVersionTag.objects.filter(model_version=OuterRef("pk"))
        conditions += _tag_conditions(clauses, tags, keep_prompt_clauses=querying_prompts)
    if any(clause.key == "registered_model__name" for clause in clauses):
        # The model's own workspace condition lets its (workspace, name) index find the name.
        scope = {f"registered_model__{key}": value for key, value in scope_filter().items()}
        conditions.append(Q(**scope))
    if visible:
        conditions.append(visible)
    if not querying_prompts:
        # As the reference: a model with any prompt-tagged version is a prompt.
        conditions.append(version_rows.not_prompt_version())
    versions = versions_flagged(
        ModelVersion.objects.select_related("registered_model")
        .only(*_SHOWN_VERSION_FIELDS)
        .filter(*conditions)
    )
    ordering = _ordering(keys, [("registered_model__name", True), ("version", False)])
    rows = list(versions.order_by(*ordering)[offset : offset + limit + 1])
    page = page_from_rows(rows, offset=offset, max_results=limit)
    return SearchPage(model_version_details(page.items, with_aliases=False), page.next_page_token)
