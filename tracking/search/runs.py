"""Search rules for runs and their compilation into ORM filters and ordering. spec: search.md §2.

A filter or ``order_by`` key on a metric, param or tag (and the run name, which is the
``mlflow.runName`` tag) joins the run's row for that key (``FilteredRelation``; at most one row
per run and key, so no run repeats). A filter needs the row, so a run without the key never
matches, ``!=`` included; ordering keeps runs without it and sorts them last. Dataset filters
are ``EXISTS`` subqueries, as a run may have many inputs. Only the page's rows are fetched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from config.errors import InvalidParameterValueError
from tracking.models import DOUBLE_MAX, Run, RunInput
from tracking.search.conditions import number_condition, text_condition, text_matches
from tracking.search.grammar import parse_filter, parse_order_by
from tracking.search.rules import (
    IN_COMPARATORS,
    NULL_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_COMPARATORS,
    Clause,
    EntityRule,
    FieldRule,
    OrderKey,
    SearchSpec,
    ValueType,
    resolve_order_by,
    validate_filter,
)

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

# Python prints these sets in arbitrary order; these are the orders recorded from MLflow 3.17.2
# where the spec has them (examples/runs/search_filter_errors.json).
_NUMERIC_SET = "{'>', '>=', '!=', '=', '<', '<='}"
_STRING_ATTRIBUTE_SET = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
_KEYED_SET = "{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"
_DATASET_SET = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
_FILTER_ATTRIBUTE_KEYS = (
    "{'run name', 'status', 'Run name', 'start_time', 'user_id', 'run_name', 'run_id', "
    "'created', 'Run Name', 'artifact_uri', 'end_time', 'Created'}"
)
_ORDER_ATTRIBUTE_KEYS = (
    "{'status', 'start_time', 'user_id', 'run_name', 'run_id', 'created', 'artifact_uri', "
    "'end_time', 'Created'}"
)
_LIST_ERROR = "Only ['run_id'] attributes support comparison with a list of quoted string values."
_STRING_COMPARATOR_ERROR = (
    f"Invalid comparator '{{comparator}}' not one of '{_STRING_ATTRIBUTE_SET}"
)
_NULL_ERROR = (
    "IS NULL / IS NOT NULL is only supported for tags and params, not for '{entity}' '{key}'"
)


def _keyed(entity: str) -> FieldRule:
    """Params and tags: any key, string values, ``IS [NOT] NULL`` allowed."""
    error = f"Expected a quoted string value for {entity} (e.g. 'my-value'). Got value {{raw}}"
    return FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | NULL_COMPARATORS,
        value_error=error,
        comparator_error=f"Invalid comparator '{{comparator}}' not one of '{_KEYED_SET}'",
        list_error=error,
    )


def _string_attribute(column: str, *, lists: bool = False) -> FieldRule:
    return FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | (IN_COMPARATORS if lists else frozenset()),
        value_error="Expected a quoted string value for attributes. Got value {raw}",
        comparator_error=f"{_STRING_COMPARATOR_ERROR}'",
        column=column,
        list_error=None if lists else _LIST_ERROR,
        null_error=_NULL_ERROR,
    )


def _numeric_attribute(column: str) -> FieldRule:
    return FieldRule(
        value_type=ValueType.NUMBER,
        comparators=NUMERIC_COMPARATORS,
        value_error="Expected numeric value type for numeric attribute: {key}. Found {raw}",
        # MLflow names the string comparators here, and drops the closing quote (sic).
        comparator_error=_STRING_COMPARATOR_ERROR,
        column=column,
        null_error=_NULL_ERROR,
    )


def _dataset(column: str) -> FieldRule:
    return FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | IN_COMPARATORS,
        value_error="Expected a quoted string value for dataset attributes. Got value {raw}",
        comparator_error=f"Invalid comparator '{{comparator}}' not one of '{_DATASET_SET}",
        column=column,
        null_error=_NULL_ERROR,
    )


_METRIC_RULE = FieldRule(
    value_type=ValueType.NUMBER,
    comparators=NUMERIC_COMPARATORS,
    value_error="Expected numeric value type for metric. Found {raw}",
    comparator_error=f"Invalid comparator '{{comparator}}' not one of '{_NUMERIC_SET}",
    null_error=_NULL_ERROR,
)
_RUN_NAME = _string_attribute("run_name")
_START_TIME = _numeric_attribute("start_time")
_FILTER_ATTRIBUTES = {
    "run_id": _string_attribute("run_id", lists=True),
    "run_name": _RUN_NAME,
    "run name": _RUN_NAME,
    "Run name": _RUN_NAME,
    "Run Name": _RUN_NAME,
    "status": _string_attribute("status"),
    "user_id": _string_attribute("user_id"),
    "artifact_uri": _string_attribute("artifact_uri"),
    "start_time": _START_TIME,
    "created": _START_TIME,
    "Created": _START_TIME,
    "end_time": _numeric_attribute("end_time"),
}
_ORDER_ATTRIBUTES = {
    key: rule
    for key, rule in _FILTER_ATTRIBUTES.items()
    if key not in ("run name", "Run name", "Run Name")
}

METRIC = EntityRule("metric", any_key=_METRIC_RULE)
PARAMETER = EntityRule("parameter", any_key=_keyed("parameter"))
TAG = EntityRule("tag", any_key=_keyed("tag"))
DATASET = EntityRule(
    "dataset",
    fields={"name": _dataset("name"), "digest": _dataset("digest"), "context": _dataset("context")},
    unknown_key_error=(
        "Invalid dataset key '{key}' specified. Valid keys are '{'name', 'digest', 'context'}'"
    ),
    order_error="Invalid identifier type '{entity}'",
)
ATTRIBUTE = EntityRule(
    "attribute",
    fields=_FILTER_ATTRIBUTES,
    unknown_key_error=(
        f"Invalid attribute key '{{key}}' specified. Valid keys are '{_FILTER_ATTRIBUTE_KEYS}'"
    ),
)
ORDER_ATTRIBUTE = EntityRule(
    "attribute",
    fields=_ORDER_ATTRIBUTES,
    unknown_key_error=(
        f"Invalid attribute key '{{key}}' specified. Valid keys are '{_ORDER_ATTRIBUTE_KEYS}'"
    ),
)


def _entities(attribute: EntityRule) -> dict[str, EntityRule]:
    aliases = [
        (METRIC, ("metric", "metrics")),
        (PARAMETER, ("parameter", "parameters", "param", "params")),
        (TAG, ("tag", "tags")),
        (attribute, ("attribute", "attributes", "attr", "run")),
        (DATASET, ("dataset", "datasets")),
    ]
    return {alias: entity for entity, names in aliases for alias in names}


_UNKNOWN_ENTITY = (
    "Invalid entity type '{entity}'. "
    "Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
)
RUN_FILTER_SPEC = SearchSpec(
    entities=_entities(ATTRIBUTE),
    default_entity=ATTRIBUTE,
    unknown_entity_error=_UNKNOWN_ENTITY,
)
RUN_ORDER_SPEC = SearchSpec(
    entities=_entities(ORDER_ATTRIBUTE),
    default_entity=ORDER_ATTRIBUTE,
    unknown_entity_error=_UNKNOWN_ENTITY,
)

# Attribute keys → Run columns, and entities → the relation holding their rows.
_COLUMNS = {"run_id": "run_uuid"}
_KEYED_RELATIONS = {"metric": "latest_metrics", "parameter": "params", "tag": "tags"}


def parse_run_filter(filter_string: str | None) -> list[Clause]:
    """The validated clauses of a runs filter string; errors carry MLflow's messages."""
    raw = parse_filter(filter_string or "", quote_invalid=RUN_FILTER_SPEC.quote_invalid_clauses)
    return validate_filter(raw, RUN_FILTER_SPEC)


def parse_run_order_by(order_by: Sequence[str]) -> list[OrderKey]:
    """The validated ``order_by`` keys of a runs search.

    differs from reference: the same key twice is 400 INVALID_PARAMETER_VALUE, not 500.
    """
    keys: list[OrderKey] = []
    seen: set[tuple[str, str]] = set()
    for text in order_by:
        key = resolve_order_by(parse_order_by(text), RUN_ORDER_SPEC)
        if (key.entity, key.key) in seen:
            raise InvalidParameterValueError(
                f"`order_by` contains duplicate fields: {list(order_by)!r}"
            )
        seen.add((key.entity, key.key))
        keys.append(key)
    return keys


def _stored_double(value: float) -> float:
    """A filter number as stored: ±Infinity is kept as ±DOUBLE_MAX (see tracking.models)."""
    if math.isinf(value):
        return math.copysign(DOUBLE_MAX, value)
    return value


def _key_join(relation: str, key: str) -> FilteredRelation:
    """A LEFT JOIN to the run's row of ``relation`` (metrics, params, tags) for one key.

    The join goes through the run: the runs come from the scoped manager, and a run's rows
    carry its workspace. It deliberately adds no ``workspace`` condition: with one, PostgreSQL
    may drive the join by the ``(workspace, key, value)`` index, scanning every run's row of the
    key once per run, whenever its statistics are missing (fresh tables), which takes seconds.
    """
    return FilteredRelation(relation, condition=Q(**{f"{relation}__key": key}))


def _keyed_condition(clause: Clause, alias: str) -> Q | Any:
    """A clause on a metric, param or tag, against the row joined as ``alias``."""
    comparator, value = clause.comparator, clause.value
    if comparator in NULL_COMPARATORS:
        return Q(**{f"{alias}__isnull": comparator == "IS NULL"})
    if clause.entity == "metric":
        assert isinstance(value, int | float)
        compared = Q(number_condition(f"{alias}__value", comparator, _stored_double(value)))
        # NaN is stored as 0 with is_nan: it satisfies only "!=".
        if comparator == "!=":
            return compared | Q(**{f"{alias}__is_nan": True})
        return compared & Q(**{f"{alias}__is_nan": False})
    assert isinstance(value, str)
    return text_condition(f"{alias}__value", comparator, value)


def _attribute_condition(clause: Clause, experiment_ids: Sequence[int]) -> Q | Exists | Any:
    """A clause on a run column or on its datasets."""
    comparator, key, value = clause.comparator, clause.key, clause.value
    if clause.entity == "dataset":
        assert isinstance(value, str | tuple)
        if key == "context":
            return Q(run_uuid__in=_runs_with_context(experiment_ids, comparator, value))
        # A run may have many inputs: EXISTS keeps each run once.
        inputs = RunInput.objects.filter(run_id=OuterRef("run_uuid"))
        return Exists(inputs.filter(text_condition(f"dataset__{key}", comparator, value)))
    column = _COLUMNS.get(key, key)
    if isinstance(value, int | float):
        return number_condition(column, comparator, value)
    assert isinstance(value, str | tuple)
    return text_condition(column, comparator, value)


def _runs_with_context(
    experiment_ids: Sequence[int], comparator: str, value: str | tuple[str, ...]
) -> list[str]:
    """Runs with a dataset input whose ``mlflow.data.context`` tag matches.

    Input tags are a JSON list, which SQLite cannot search portably; they are matched in Python
    over the inputs of the searched experiments (one extra query, only for this filter).
    """
    inputs = RunInput.objects.filter(run__experiment_id__in=experiment_ids)
    matching = []
    for run_id, tags in inputs.values_list("run_id", "tags"):
        contexts = (
            tag.get("value")
            for tag in tags or []
            if isinstance(tag, dict) and tag.get("key") == DATASET_CONTEXT_TAG
        )
        if any(text_matches(context, comparator, value) for context in contexts):
            matching.append(run_id)
    return matching


def filter_runs(
    runs: QuerySet[Run], clauses: Iterable[Clause], experiment_ids: Sequence[int]
) -> QuerySet[Run]:
    """``runs`` restricted to those matching every clause.

    A metric, param or tag clause joins that key's row (at most one per run, so no run is
    repeated); a run without the key has no row and never matches, ``!=`` included. The run
    name is matched against the ``mlflow.runName`` tag (spec: search.md §2).
    """
    relations: dict[str, FilteredRelation] = {}
    conditions: list[Q | Exists | Any] = []
    for index, clause in enumerate(clauses):
        is_run_name = clause.entity == "attribute" and clause.key == "run_name"
        if clause.entity in _KEYED_RELATIONS or is_run_name:
            alias = f"filter_{index}"
            relation = "tags" if is_run_name else _KEYED_RELATIONS[clause.entity]
            relations[alias] = _key_join(relation, RUN_NAME_TAG if is_run_name else clause.key)
            conditions.append(_keyed_condition(clause, alias))
        else:
            conditions.append(_attribute_condition(clause, experiment_ids))
    return runs.alias(**relations).filter(*conditions) if conditions else runs


def order_runs(runs: QuerySet[Run], keys: Sequence[OrderKey]) -> QuerySet[Run]:
    """``runs`` ordered by ``keys``, then ``start_time DESC`` (unless used) and ``run_id``.

    Rows lacking a metric, param or tag sort last in either direction; NaN metrics sort after
    real values and before missing ones. spec: search.md §2.
    """
    ordering: list[OrderBy] = []
    relations: dict[str, FilteredRelation] = {}
    for index, key in enumerate(keys):
        if key.entity == "attribute":
            field = F(_COLUMNS.get(key.key, key.key))
            ordering.append(_direction(field, key.ascending))
            continue
        alias = f"order_{index}"
        relations[alias] = _key_join(_KEYED_RELATIONS[key.entity], key.key)
        if key.entity == "metric":
            rank = Case(
                When(**{f"{alias}__is_nan": True}, then=Value(1)),
                When(**{f"{alias}__value__isnull": True}, then=Value(2)),
                default=Value(0),
            )
            ordering.append(rank.asc())
        ordering.append(_direction(F(f"{alias}__value"), key.ascending))
    if not any(key.entity == "attribute" and key.key == "start_time" for key in keys):
        ordering.append(F("start_time").desc())
    ordering.append(F("run_uuid").asc())
    return runs.alias(**relations).order_by(*ordering)


def _direction(field: F, ascending: bool) -> OrderBy:
    """Ascending or descending, missing values last either way."""
    return field.asc(nulls_last=True) if ascending else field.desc(nulls_last=True)
