"""Per-entity rules of the search language, and the validator that applies them to the AST.

A ``SearchSpec`` is a small table: which entity prefixes exist, which keys each accepts, the value
type, comparators and MLflow's exact error messages for each. ``validate_filter`` turns the
grammar's ``RawClause`` list into typed ``Clause`` objects; ``resolve_order_by`` does the same for
``order_by`` items. Runs and experiments define their specs in ``tracking.search.runs`` and
``tracking.search.experiments``; the registry and logged models can define theirs the same way.

Messages are templates with ``{raw}`` (the value as written), ``{key}`` (the key as written),
``{entity}`` and ``{comparator}`` placeholders; other braces are literal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from config.errors import InvalidParameterValueError
from tracking.search.grammar import Identifier, Literal, OrderItem, RawClause, ValueKind

IN_COMPARATORS = frozenset({"IN", "NOT IN"})
NULL_COMPARATORS = frozenset({"IS NULL", "IS NOT NULL"})
NUMERIC_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})

# Clause values after validation: strings, numbers, string lists, or None for IS [NOT] NULL.
ClauseValue = str | int | float | tuple[str, ...] | None

_PLACEHOLDER = re.compile(r"\{(raw|key|entity|comparator)\}")
_BARE_WORD = (
    "Parameter value is either not quoted or unidentified quote types used for string value "
    "{raw}. Use either single or double quotes."
)
_EMPTY_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, but got "
    "empty list"
)
_ILL_FORMED_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, but got "
    "ill-formed list."
)


def message(template: str, **values: str) -> str:
    """Fill a rule's message template in one pass (user text is never re-interpreted)."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


class ValueType(Enum):
    """The type a key compares as."""

    STRING = "string"
    NUMBER = "number"


@dataclass(frozen=True)
class FieldRule:
    """How one key (or every key of a free-key entity such as ``metrics``) may be compared.

    ``column`` is the canonical name the compiler maps to a database column (``created`` →
    ``start_time``); empty for free keys, where the user's key is kept. ``list_error`` None
    means ``IN`` lists are accepted; ``null_error`` None means ``IS [NOT] NULL`` is accepted.
    ``convert`` may check and transform the value once comparators are known to be valid.
    """

    value_type: ValueType
    comparators: frozenset[str]
    value_error: str
    comparator_error: str
    column: str = ""
    list_error: str | None = None
    null_error: str | None = None
    convert: Callable[[ClauseValue, str], ClauseValue] | None = None


@dataclass(frozen=True)
class EntityRule:
    """One entity (``attribute``, ``metric``, ``tag``...): its fixed keys or its free-key rule.

    ``order_error`` set means ``order_by`` may not use this entity (experiment tags).
    """

    name: str
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    any_key: FieldRule | None = None
    unknown_key_error: str = ""
    order_error: str | None = None

    def rule_for(self, key: str) -> FieldRule:
        """The rule for ``key``; raises the entity's unknown-key message."""
        rule = self.fields.get(key, self.any_key)
        if rule is None:
            raise InvalidParameterValueError(message(self.unknown_key_error, key=key))
        return rule


@dataclass(frozen=True)
class SearchSpec:
    """The entities one search accepts, keyed by prefix as written (``metrics``, ``metric``...)."""

    entities: Mapping[str, EntityRule]
    default_entity: EntityRule
    unknown_entity_error: str
    trim_entity_backticks: bool = True
    quote_invalid_clauses: bool = True

    def entity_for(self, identifier: Identifier) -> EntityRule:
        """The entity an identifier names; no prefix means the default (attributes)."""
        written = identifier.entity
        if written is None:
            return self.default_entity
        if self.trim_entity_backticks:
            written = trim_backticks(written)
        entity = self.entities.get(written)
        if entity is None:
            raise InvalidParameterValueError(message(self.unknown_entity_error, entity=written))
        return entity


@dataclass(frozen=True)
class Clause:
    """A validated clause: canonical entity and key, upper-case comparator, typed value."""

    entity: str
    key: str
    comparator: str
    value: ClauseValue


@dataclass(frozen=True)
class OrderKey:
    """A validated ``order_by`` key."""

    entity: str
    key: str
    ascending: bool


def trim_backticks(text: str) -> str:
    """```x``` → ``x``; anything else unchanged."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "`" else text


def strip_quotes(text: str) -> str:
    """``'x'`` or ``"x"`` → ``x``; anything else unchanged."""
    quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    return text[1:-1] if quoted else text


def _key_of(identifier: Identifier) -> str:
    """The key as MLflow reads a filter identifier: quotes, then back-quotes, removed."""
    return trim_backticks(strip_quotes(identifier.key_text))


def _checked_value(rule: FieldRule, key: str, literal: Literal) -> ClauseValue:
    """The literal's value if its type suits the rule, else the rule's message."""
    kind = literal.kind
    if rule.value_type is ValueType.NUMBER:
        if kind is not ValueKind.NUMBER:
            raise InvalidParameterValueError(message(rule.value_error, raw=literal.text, key=key))
        return literal.number
    if kind is ValueKind.STRING:
        return literal.string
    if kind is ValueKind.WORD:
        raise InvalidParameterValueError(message(_BARE_WORD, raw=literal.text))
    if kind is ValueKind.LIST:
        if rule.list_error is not None:
            raise InvalidParameterValueError(message(rule.list_error, raw=literal.text, key=key))
        return _string_list(literal)
    raise InvalidParameterValueError(message(rule.value_error, raw=literal.text, key=key))


def _string_list(literal: Literal) -> tuple[str, ...]:
    """A list's items, which must be strings and at least one. Messages are MLflow's."""
    items = literal.items
    if items is None:
        raise InvalidParameterValueError(_ILL_FORMED_LIST)
    if not items:
        raise InvalidParameterValueError(_EMPTY_LIST)
    strings = tuple(item for item in items if isinstance(item, str))
    if len(strings) != len(items):
        raise InvalidParameterValueError(
            "While parsing a list in the query, expected string value, punctuation, or "
            f"whitespace, but got different type in list: {items!r}"
        )
    return strings


def validate_filter(raw_clauses: Sequence[RawClause], spec: SearchSpec) -> list[Clause]:
    """Check parsed clauses against ``spec`` and type their values.

    Like MLflow, identifiers and values of every clause are checked first, comparators after,
    so the first reported error matches the reference when several clauses are wrong.
    """
    checked: list[tuple[FieldRule, str, str, Clause]] = []
    for raw in raw_clauses:
        entity = spec.entity_for(raw.identifier)
        key = _key_of(raw.identifier)
        rule = entity.rule_for(key)
        value: ClauseValue = None
        if raw.value is None:
            if rule.null_error is not None:
                error = message(rule.null_error, entity=entity.name, key=key)
                raise InvalidParameterValueError(error)
        else:
            value = _checked_value(rule, key, raw.value)
        canonical = Clause(entity.name, rule.column or key, raw.comparator, value)
        checked.append((rule, key, raw.value.text if raw.value else "", canonical))
    clauses: list[Clause] = []
    for rule, key, raw_text, clause in checked:
        comparator = clause.comparator
        if comparator not in rule.comparators:
            raise InvalidParameterValueError(
                message(rule.comparator_error, comparator=comparator, key=key)
            )
        if isinstance(clause.value, tuple) and comparator not in IN_COMPARATORS:
            # differs from reference: `run_id = ('a')` crashes MLflow; only IN takes a list.
            raise InvalidParameterValueError(message(rule.value_error, raw=raw_text, key=key))
        if rule.convert is not None and clause.value is not None:
            clause = Clause(clause.entity, clause.key, comparator, rule.convert(clause.value, key))
        clauses.append(clause)
    return clauses


def resolve_order_by(item: OrderItem, spec: SearchSpec) -> OrderKey:
    """The entity and canonical key of one parsed ``order_by`` item, checked against ``spec``."""
    entity = spec.entity_for(item.identifier)
    key = item.identifier.unquoted_key
    rule = entity.rule_for(key)
    if entity.order_error is not None:
        raise InvalidParameterValueError(message(entity.order_error, entity=entity.name))
    return OrderKey(entity.name, rule.column or key, item.ascending)
