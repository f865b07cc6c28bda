"""Search rules for experiments and their compilation into ORM filters and ordering.

spec: search.md §3. Tag clauses are ``EXISTS`` subqueries on ``(workspace, experiment, key)``,
so an experiment without the tag never matches (``!=`` included).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet

from config.errors import InvalidParameterValueError
from tracking.models import Experiment, ExperimentTag
from tracking.search.conditions import number_condition, text_condition
from tracking.search.grammar import parse_filter, parse_order_by
from tracking.search.rules import (
    IN_COMPARATORS,
    NULL_COMPARATORS,
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
    validate_filter,
)
from tracking.selectors.lookups import parse_experiment_id

_STRING_ATTRIBUTE_SET = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
_ATTRIBUTE_KEYS = "{'experiment_id', 'creation_time', 'last_update_time', 'name'}"
_NULL_ERROR = "IS NULL / IS NOT NULL is only supported for tags, not for attribute '{key}'"
_STRING_VALUE_ERROR = "Expected a quoted string value for attributes. Got value {raw}"


def _experiment_ids(value: ClauseValue, key: str) -> ClauseValue:
    """Experiment ids are quoted integers: ``experiment_id = '1'``."""
    if isinstance(value, tuple):
        return tuple(str(parse_experiment_id(item)) for item in value)
    assert isinstance(value, str)
    return str(parse_experiment_id(value))


def _whole_number(value: ClauseValue, key: str) -> ClauseValue:
    """Experiment times compare with integers only."""
    if not isinstance(value, int):
        raise InvalidParameterValueError(
            f"Invalid value for numeric attribute '{key}': {str(value)!r}"
        )
    return value


_NAME = FieldRule(
    value_type=ValueType.STRING,
    comparators=STRING_COMPARATORS,
    value_error=_STRING_VALUE_ERROR,
    comparator_error=f"Invalid comparator '{{comparator}}' not one of '{_STRING_ATTRIBUTE_SET}'",
    column="name",
    list_error=(
        "Only ['experiment_id'] attributes support comparison with a list of quoted string values."
    ),
    null_error=_NULL_ERROR,
)
_EXPERIMENT_ID = FieldRule(
    value_type=ValueType.STRING,
    comparators=frozenset({"=", "!="}) | IN_COMPARATORS,
    value_error=_STRING_VALUE_ERROR,
    comparator_error="Invalid comparator for experiment_id: {comparator}",
    column="experiment_id",
    null_error=_NULL_ERROR,
    convert=_experiment_ids,
)


def _time(column: str) -> FieldRule:
    return FieldRule(
        value_type=ValueType.NUMBER,
        comparators=NUMERIC_COMPARATORS,
        value_error="Expected numeric value type for numeric attribute: {key}. Found {raw}",
        comparator_error=f"Invalid comparator '{{comparator}}' not one of '{_STRING_ATTRIBUTE_SET}",
        column=column,
        null_error=_NULL_ERROR,
        convert=_whole_number,
    )


_TAG_VALUE_ERROR = "Expected a quoted string value for tag (e.g. 'my-value'). Got value {raw}"
TAG = EntityRule(
    "tag",
    any_key=FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | NULL_COMPARATORS,
        value_error=_TAG_VALUE_ERROR,
        comparator_error="Invalid comparator for tag: {comparator}",
        list_error=_TAG_VALUE_ERROR,
    ),
    order_error="Invalid order_by entity: {entity}",
)
ATTRIBUTE = EntityRule(
    "attribute",
    fields={
        "name": _NAME,
        "experiment_id": _EXPERIMENT_ID,
        "creation_time": _time("creation_time"),
        "last_update_time": _time("last_update_time"),
    },
    unknown_key_error=(
        f"Invalid attribute key '{{key}}' specified. Valid keys are '{_ATTRIBUTE_KEYS}'"
    ),
)
EXPERIMENT_SPEC = SearchSpec(
    entities={"attribute": ATTRIBUTE, "tag": TAG, "tags": TAG},
    default_entity=ATTRIBUTE,
    unknown_entity_error=(
        "Invalid entity type '{entity}'. Valid entity types are ('attribute', 'tag', 'tags')"
    ),
    # MLflow checks the experiment entity as written: `tags`.x is not a tag here.
    trim_entity_backticks=False,
    quote_invalid_clauses=False,
)
DEFAULT_ORDER_BY = ("creation_time DESC", "experiment_id ASC")


def parse_experiment_filter(filter_string: str | None) -> list[Clause]:
    """The validated clauses of an experiments filter string."""
    raw = parse_filter(filter_string or "", quote_invalid=EXPERIMENT_SPEC.quote_invalid_clauses)
    return validate_filter(raw, EXPERIMENT_SPEC)


def parse_experiment_order_by(order_by: Sequence[str]) -> list[OrderKey]:
    """The validated ``order_by`` keys; none given means ``creation_time DESC, experiment_id``."""
    return [
        resolve_order_by(parse_order_by(text), EXPERIMENT_SPEC)
        for text in (order_by or DEFAULT_ORDER_BY)
    ]


def _clause_condition(clause: Clause) -> Q | Exists | Any:
    """One clause as a condition on ``Experiment``."""
    comparator, key, value = clause.comparator, clause.key, clause.value
    if clause.entity == "tag":
        tags = ExperimentTag.objects.filter(experiment_id=OuterRef("experiment_id"), key=key)
        if comparator in NULL_COMPARATORS:
            return ~Exists(tags) if comparator == "IS NULL" else Exists(tags)
        assert isinstance(value, str)
        return Exists(tags.filter(text_condition("value", comparator, value)))
    if key == "experiment_id":
        ids = [int(item) for item in value] if isinstance(value, tuple) else [int(str(value))]
        matching = Q(experiment_id__in=ids)
        return matching if comparator in ("=", "IN") else ~matching
    if isinstance(value, int | float):
        return number_condition(key, comparator, value)
    assert isinstance(value, str)
    return text_condition(key, comparator, value)


def filter_experiments(
    experiments: QuerySet[Experiment], clauses: Iterable[Clause]
) -> QuerySet[Experiment]:
    """``experiments`` restricted to those matching every clause."""
    conditions = [_clause_condition(clause) for clause in clauses]
    return experiments.filter(*conditions) if conditions else experiments


def order_experiments(
    experiments: QuerySet[Experiment], keys: Sequence[OrderKey]
) -> QuerySet[Experiment]:
    """``experiments`` ordered by ``keys``, then ``experiment_id DESC`` unless it was used."""
    ordering: list[OrderBy] = [
        F(key.key).asc() if key.ascending else F(key.key).desc() for key in keys
    ]
    if not any(key.key == "experiment_id" for key in keys):
        ordering.append(F("experiment_id").desc())
    return experiments.order_by(*ordering)
