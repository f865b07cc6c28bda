"""Searching logged models of the active workspace (``logged-models/search``): filter rules,
dataset filters, ordering and page tokens. spec: tracking.md §6, search.md §6-7.

The search language is the shared one (``tracking.search``) with the logged-model rules below:
plural entity prefixes only, numeric timestamps and metrics, strings elsewhere. A metric clause
matches when any point of that key logged to the model compares true (restricted to the request's
``datasets`` when given), as in the reference's SQL store; ``order_by`` on a metric uses its latest
point (largest timestamp, then step; first run id). A page costs one query plus three for the
page's params, tags and metrics (per 500 models).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from operator import or_
from typing import Any, Final

from django.db.models import CharField, Exists, F, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from config.errors import InvalidParameterValueError
from permissions.access import UserLike, experiments_readable_q
from tracking.models import (
    ACTIVE,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
)
from tracking.search.conditions import number_condition, text_condition
from tracking.search.grammar import Literal, RawClause, ValueKind, parse_filter
from tracking.search.paging import SearchPage
from tracking.search.rules import (
    IN_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_COMPARATORS,
    Clause,
    EntityRule,
    FieldRule,
    SearchSpec,
    ValueType,
    message,
    strip_quotes,
    trim_backticks,
    validate_filter,
)
from tracking.selectors.logged_models import LoggedModelData, logged_models_with_data
from tracking.selectors.lookups import parse_experiment_id

SEARCH_DEFAULT_MAX_RESULTS: Final = 100


_NUMERIC_OPERATORS = "('<', '<=', '>', '>=', '=', '!=')"


_STRING_OPERATORS = "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')"


_NULL_ERROR = "IS NULL / IS NOT NULL is not supported in logged model searches: {entity}.{key}"


# Filterable attributes and the column (or alias, see ``_searchable``) each compares.
_STRING_ATTRIBUTES: Final = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "source_run_id": "source_run_id",
    # The reference stores the status as its enum number and compares text with it, so
    # `status = 'LOGGED_MODEL_READY'` matches nothing and `status = '2'` the ready models.
    "status": "status_text",
    "experiment_id": "experiment_id_text",
    "artifact_location": "artifact_location",
}


_NUMERIC_ATTRIBUTES: Final = {
    "creation_timestamp": "creation_timestamp_ms",
    "creation_time": "creation_timestamp_ms",
    "creation_timestamp_ms": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
    "last_updated_timestamp_ms": "last_updated_timestamp_ms",
}


def _string_rule(written: str, column: str = "") -> FieldRule:
    """Strings: ``= != LIKE ILIKE IN NOT IN``; ``written`` names the key in messages."""
    return FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | IN_COMPARATORS,
        value_error=f"Expected a quoted string value for {written} (e.g. 'my-value'). Got {{raw}}",
        comparator_error=(
            f"Invalid comparison operator for {written}: '{{comparator}}'. "
            f"Expected one of {_STRING_OPERATORS}."
        ),
        column=column,
        null_error=_NULL_ERROR,
    )


def _numeric_rule(written: str, column: str = "") -> FieldRule:
    """Numbers: ``< <= > >= = !=``; ``written`` names the key in messages."""
    return FieldRule(
        value_type=ValueType.NUMBER,
        comparators=NUMERIC_COMPARATORS,
        value_error=f"Expected a numeric value for {written}. Got {{raw}}",
        comparator_error=(
            f"Invalid comparison operator for {written}: '{{comparator}}'. "
            f"Expected one of {_NUMERIC_OPERATORS}."
        ),
        column=column,
        null_error=_NULL_ERROR,
    )


_ATTRIBUTE = EntityRule(
    "attributes",
    fields={
        **{
            key: _string_rule(f"attributes.{key}", column)
            for key, column in _STRING_ATTRIBUTES.items()
        },
        **{
            key: _numeric_rule(f"attributes.{key}", column)
            for key, column in _NUMERIC_ATTRIBUTES.items()
        },
    },
    # differs from reference: an unknown attribute is an AttributeError (500) there.
    unknown_key_error=(
        "Invalid attribute key '{key}' specified. Valid keys are "
        f"{sorted({*_STRING_ATTRIBUTES, *_NUMERIC_ATTRIBUTES})}"
    ),
)


LOGGED_MODEL_SPEC: Final = SearchSpec(
    entities={
        "attributes": _ATTRIBUTE,
        "metrics": EntityRule("metrics", any_key=_numeric_rule("metrics.{key}")),
        "params": EntityRule("params", any_key=_string_rule("params.{key}")),
        "tags": EntityRule("tags", any_key=_string_rule("tags.{key}")),
    },
    default_entity=_ATTRIBUTE,
    unknown_entity_error=(
        "Invalid entity type: '{entity}'. Expected one of "
        "['attributes', 'metrics', 'params', 'tags']."
    ),
)


def _checked_raw_clauses(raw_clauses: Sequence[RawClause]) -> list[RawClause]:
    """Each clause's entity, key and comparator checked in the reference's order (per clause,
    before its value: ``metrics.acc LIKE 'x'`` is a comparator error), and unquoted numbers
    compared with a string key turned into that text, as the reference reads them
    (``params.lr = 0.01`` is ``params.lr = '0.01'``)."""
    checked: list[RawClause] = []
    for raw in raw_clauses:
        entity = LOGGED_MODEL_SPEC.entity_for(raw.identifier)
        key = trim_backticks(strip_quotes(raw.identifier.key_text))
        rule = entity.rule_for(key)
        if raw.value is None and rule.null_error is not None:
            raise InvalidParameterValueError(message(rule.null_error, entity=entity.name, key=key))
        if raw.comparator not in rule.comparators:
            raise InvalidParameterValueError(
                message(rule.comparator_error, comparator=raw.comparator, key=key)
            )
        value = raw.value
        is_number = value is not None and value.kind is ValueKind.NUMBER
        if value is not None and is_number and rule.value_type is ValueType.STRING:
            raw = replace(raw, value=Literal(ValueKind.STRING, value.text, string=value.text))
        checked.append(raw)
    return checked


def parse_logged_model_filter(filter_string: str | None) -> list[Clause]:
    """The validated clauses of a logged-model filter string."""
    raw = parse_filter(filter_string or "", quote_invalid=False)
    return validate_filter(_checked_raw_clauses(raw), LOGGED_MODEL_SPEC)


@dataclass(frozen=True)
class DatasetFilter:
    """One entry of the request's ``datasets``: metrics logged on this dataset."""

    dataset_name: str
    dataset_digest: str | None = None


@dataclass(frozen=True)
class LoggedModelOrder:
    """A checked ``order_by`` entry: a model column, or the latest value of a metric."""

    column: str
    metric_key: str
    ascending: bool
    dataset_name: str | None = None
    dataset_digest: str | None = None


_ORDER_COLUMNS: Final = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "source_run_id": "source_run_id",
    "status": "status",
    "experiment_id": "experiment_id",
    "artifact_location": "artifact_location",
    **_NUMERIC_ATTRIBUTES,
}


def parse_logged_model_order_by(order_by: Sequence[Mapping[str, Any]]) -> list[LoggedModelOrder]:
    """The checked ``order_by`` objects (``{field_name, ascending, dataset_name,
    dataset_digest}``), with the reference's messages."""
    keys: list[LoggedModelOrder] = []
    for item in order_by:
        field_name = item.get("field_name")
        if not field_name:
            # differs from reference: a missing field name is a TypeError (500) there.
            raise InvalidParameterValueError(
                "`field_name` in the `order_by` clause must be specified."
            )
        ascending = bool(item.get("ascending", True))
        name, digest = item.get("dataset_name"), item.get("dataset_digest")
        if "." not in field_name:
            column = _ORDER_COLUMNS.get(field_name)
            if column is None:
                raise InvalidParameterValueError(f"Invalid order by field name: {field_name}")
            keys.append(LoggedModelOrder(column, "", ascending))
            continue
        entity, metric_key = field_name.split(".", 1)
        if entity != "metrics":
            raise InvalidParameterValueError(
                f"Invalid order by field name: {field_name}. Only metrics are supported."
            )
        keys.append(LoggedModelOrder("", trim_backticks(metric_key), ascending, name, digest))
    return keys


def _datasets_condition(datasets: Sequence[DatasetFilter]) -> Q | None:
    """Metric points logged on any of ``datasets`` (None: no restriction)."""
    if not datasets:
        return None
    conditions = [
        Q(dataset_name=dataset.dataset_name)
        & (Q(dataset_digest=dataset.dataset_digest) if dataset.dataset_digest else Q())
        for dataset in datasets
    ]
    return reduce(or_, conditions)


def _clause_condition(clause: Clause, on_datasets: Q | None) -> Any:
    """One clause as a condition on ``LoggedModel`` (aliases from ``_searchable``)."""
    comparator, key, value = clause.comparator, clause.key, clause.value
    if clause.entity == "attributes":
        if isinstance(value, int | float):
            return number_condition(key, comparator, value)
        assert isinstance(value, str | tuple)
        return text_condition(key, comparator, value)
    if clause.entity in ("params", "tags"):
        row_model = LoggedModelParam if clause.entity == "params" else LoggedModelTag
        rows = row_model.objects.filter(model_id=OuterRef("model_id"), key=key)
        assert isinstance(value, str | tuple)
        return Exists(rows.filter(text_condition("value", comparator, value)))
    assert isinstance(value, int | float)
    points = LoggedModelMetric.objects.filter(model_id=OuterRef("model_id"), key=key)
    if on_datasets is not None:
        points = points.filter(on_datasets)
    compared = number_condition("value", comparator, value)
    # NaN is stored as 0 with is_nan: it differs from every number and equals none.
    matching = Q(is_nan=True) | Q(compared) if comparator == "!=" else Q(compared, is_nan=False)
    return Exists(points.filter(matching))


def _searchable(models: QuerySet[LoggedModel]) -> QuerySet[LoggedModel]:
    """Text forms of the numeric columns that filters compare as strings."""
    return models.alias(
        status_text=Cast("status", CharField(max_length=8)),
        experiment_id_text=Cast("experiment_id", CharField(max_length=32)),
    )


def _ordered(
    models: QuerySet[LoggedModel], keys: Sequence[LoggedModelOrder]
) -> QuerySet[LoggedModel]:
    """``models`` in ``keys`` order (missing metrics last), then ``creation_timestamp DESC``
    and ``model_id ASC`` unless used."""
    ordering: list[OrderBy] = []
    for index, key in enumerate(keys):
        if key.column:
            expression = F(key.column)
        else:
            points = LoggedModelMetric.objects.filter(
                model_id=OuterRef("model_id"), key=key.metric_key
            )
            if key.dataset_name:
                points = points.filter(dataset_name=key.dataset_name)
            if key.dataset_digest:
                points = points.filter(dataset_digest=key.dataset_digest)
            latest = points.order_by("-timestamp", "-step", "run_id").values("value")[:1]
            alias = f"order_metric_{index}"
            models = models.alias(**{alias: Subquery(latest)})
            expression = F(alias)
        ordering.append(
            expression.asc(nulls_last=True) if key.ascending else expression.desc(nulls_last=True)
        )
    columns = {key.column for key in keys}
    if "creation_timestamp_ms" not in columns:
        ordering.append(F("creation_timestamp_ms").desc())
    if "model_id" not in columns:
        ordering.append(F("model_id").asc())
    return models.order_by(*ordering)


def encode_search_token(
    *,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[Mapping[str, Any]] | None,
    offset: int,
) -> str:
    """The reference's token: base64 of the query and the offset of the next page."""
    payload = {
        "experiment_ids": list(experiment_ids),
        "filter_string": filter_string,
        "order_by": [dict(item) for item in order_by] if order_by else None,
        "offset": offset,
    }
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("utf-8")


def search_token_offset(
    token: str,
    *,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[Mapping[str, Any]] | None,
) -> int:
    """The offset a token stands for, once its stored query matches the request's."""
    try:
        payload = json.loads(base64.b64decode(token.encode("utf-8")).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        # differs from reference: undecodable base64 is a 500 there.
        raise InvalidParameterValueError(f"Invalid page token: {token}. {error}") from None
    if not isinstance(payload, dict):
        raise InvalidParameterValueError(f"Invalid page token: {token}.")
    stored_ids = payload.get("experiment_ids")
    if stored_ids != list(experiment_ids):
        raise InvalidParameterValueError(
            "Experiment IDs in the page token do not match the requested experiment IDs. "
            f"Expected: {list(experiment_ids)}. Found: {stored_ids}"
        )
    stored_filter = payload.get("filter_string") or None
    if stored_filter != filter_string:
        raise InvalidParameterValueError(
            "Filter string in the page token does not match the requested filter string. "
            f"Expected: {filter_string}. Found: {stored_filter}"
        )
    requested_order = [dict(item) for item in order_by] if order_by else None
    stored_order = payload.get("order_by") or None
    if stored_order != requested_order:
        raise InvalidParameterValueError(
            "Order by in the page token does not match the requested order by. "
            f"Expected: {requested_order}. Found: {stored_order}"
        )
    offset = payload.get("offset") or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameterValueError(f"Invalid page token: {token}.")
    return offset


def logged_model_search(
    *,
    user: UserLike,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    datasets: Sequence[DatasetFilter] = (),
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    page_token: str | None = None,
) -> SearchPage[LoggedModelData]:
    """One page of the non-deleted logged models of ``experiment_ids`` that match, with data.

    ``order_by`` items are the normalised request objects (they go into the page token).
    Experiments of other workspaces, or that ``user`` may not read, match nothing. Default
    order: ``creation_timestamp DESC, model_id ASC``. Four queries whatever the page holds.
    """
    if any(not dataset.dataset_name for dataset in datasets):
        raise InvalidParameterValueError(
            "`dataset_name` in the `datasets` clause must be specified."
        )
    offset = 0
    if page_token:
        offset = search_token_offset(
            page_token,
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            order_by=order_by,
        )
    clauses = parse_logged_model_filter(filter_string)
    keys = parse_logged_model_order_by(order_by or [])
    ids = [parse_experiment_id(experiment_id) for experiment_id in experiment_ids]
    if not ids:
        return SearchPage([], None)
    limit = max_results or SEARCH_DEFAULT_MAX_RESULTS
    models = _searchable(
        LoggedModel.objects.filter(
            experiments_readable_q(user, experiment_field="experiment_id"),
            experiment_id__in=ids,
            lifecycle_stage=ACTIVE,
        )
    )
    on_datasets = _datasets_condition(datasets)
    conditions = [_clause_condition(clause, on_datasets) for clause in clauses]
    if on_datasets is not None and not any(clause.entity == "metrics" for clause in clauses):
        # Datasets alone keep the models with any metric logged on them.
        points = LoggedModelMetric.objects.filter(model_id=OuterRef("model_id"))
        conditions.append(Exists(points.filter(on_datasets)))
    if conditions:
        models = models.filter(*conditions)
    rows = list(_ordered(models, keys)[offset : offset + limit + 1])
    token = None
    if len(rows) > limit:
        token = encode_search_token(
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            order_by=order_by,
            offset=offset + limit,
        )
    return SearchPage(logged_models_with_data(rows[:limit]), token)
