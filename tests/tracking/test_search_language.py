"""The search language without a database: tokens, grammar, rules, patterns and page tokens.

spec: search.md §1, §7.
"""

from __future__ import annotations

import pytest

from config.errors import InvalidParameterValueError
from tracking.search.conditions import (
    glob_pattern,
    like_pattern,
    like_regex,
    like_segments,
    text_matches,
)
from tracking.search.grammar import (
    Identifier,
    Literal,
    Part,
    RawClause,
    ValueKind,
    parse_filter,
    parse_order_by,
)
from tracking.search.lexer import Kind, tokenize
from tracking.search.paging import decode_page_token, encode_page_token, page_from_rows
from tracking.search.rules import (
    NULL_COMPARATORS,
    STRING_COMPARATORS,
    Clause,
    EntityRule,
    FieldRule,
    SearchSpec,
    ValueType,
    validate_filter,
)
from tracking.search.runs import parse_run_filter, parse_run_order_by

# --- tokens -------------------------------------------------------------------------------------


def test_tokenize_splits_identifiers_operators_and_literals() -> None:
    tokens = tokenize("tags.`a b` >= -1.5e3 AND p IN ('x',\"y\")")

    assert [(token.kind, token.text) for token in tokens] == [
        (Kind.WORD, "tags"),
        (Kind.DOT, "."),
        (Kind.BACKTICK, "`a b`"),
        (Kind.OPERATOR, ">="),
        (Kind.NUMBER, "-1.5e3"),
        (Kind.WORD, "AND"),
        (Kind.WORD, "p"),
        (Kind.WORD, "IN"),
        (Kind.LPAREN, "("),
        (Kind.STRING, "'x'"),
        (Kind.COMMA, ","),
        (Kind.QUOTED, '"y"'),
        (Kind.RPAREN, ")"),
    ]


def test_tokenize_keeps_digits_after_a_dot_in_a_key() -> None:
    tokens = tokenize("metrics.1m")

    assert [token.kind for token in tokens] == [Kind.WORD, Kind.DOT, Kind.WORD]


def test_tokenize_turns_an_unterminated_quote_into_one_other_token() -> None:
    tokens = tokenize("p = 'abc")

    assert tokens[-1].kind is Kind.OTHER
    assert tokens[-1].text == "'abc"


# --- grammar ------------------------------------------------------------------------------------


def ident(*parts: tuple[str, str], text: str) -> Identifier:
    return Identifier(tuple(Part(raw, value) for raw, value in parts), text)


def test_parse_filter_builds_clauses_of_every_form() -> None:
    clauses = parse_filter(
        "params.p = 'v' and metrics.`m` > 1 AND tags.t IS NOT NULL "
        "and run_id NOT IN ('a', 'b',) and status ilike \"x%\" AND user_id IS NULL"
    )

    assert clauses == [
        RawClause(
            ident(("params", "params"), ("p", "p"), text="params.p"),
            "=",
            Literal(ValueKind.STRING, "'v'", string="v"),
        ),
        RawClause(
            ident(("metrics", "metrics"), ("`m`", "m"), text="metrics.`m`"),
            ">",
            Literal(ValueKind.NUMBER, "1", number=1),
        ),
        RawClause(ident(("tags", "tags"), ("t", "t"), text="tags.t"), "IS NOT NULL", None),
        RawClause(
            ident(("run_id", "run_id"), text="run_id"),
            "NOT IN",
            Literal(ValueKind.LIST, "('a', 'b',)", items=("a", "b")),
        ),
        RawClause(
            ident(("status", "status"), text="status"),
            "ILIKE",
            Literal(ValueKind.STRING, '"x%"', string="x%"),
        ),
        RawClause(ident(("user_id", "user_id"), text="user_id"), "IS NULL", None),
    ]


def test_parse_filter_reads_dotted_keys_and_keeps_quoted_text_verbatim() -> None:
    (clause,) = parse_filter("tags.mlflow.runName = 'it''s'")

    assert clause.identifier.entity == "tags"
    assert clause.identifier.key_text == "mlflow.runName"
    assert clause.value == Literal(ValueKind.STRING, "'it''s'", string="it''s")


def test_parse_filter_of_nothing_has_no_clauses() -> None:
    assert parse_filter("") == []
    assert parse_filter("   ") == []
    assert parse_filter("AND") == []


@pytest.mark.parametrize(
    ("text", "quote", "message"),
    [
        ("a = 'x' OR b = 'y'", True, "Invalid clause(s) in filter string: 'OR'"),
        ("a = 'x' OR b = 'y'", False, "Invalid clause(s) in filter string: OR"),
        ("a = 'x' OR NOT b", True, "Invalid clause(s) in filter string: 'OR', 'NOT', 'b'"),
        ("(a = 'x')", True, "Invalid clause(s) in filter string: '(a = 'x')'"),
        ("a = 'x' AND (b", True, "Invalid clause(s) in filter string: '(', 'b'"),
        ("a IN 'x'", True, "Invalid clause(s) in filter string: 'a', 'IN', ''x''"),
        ("a IS 'x'", True, "Invalid clause(s) in filter string: 'a', 'IS', ''x''"),
        ("a = 'x", True, "Invalid clause(s) in filter string: 'a', '=', ''x'"),
        ("a = 'x';", True, "Invalid clause(s) in filter string: ';'"),
        (
            "a = 'x'; b = 'y'",
            True,
            "Search filter contained multiple expression \"a = 'x'; b = 'y'\". "
            "Provide AND-ed expression list.",
        ),
    ],
)
def test_parse_filter_reports_what_forms_no_clause(text: str, quote: bool, message: str) -> None:
    with pytest.raises(InvalidParameterValueError) as raised:
        parse_filter(text, quote_invalid=quote)

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("text", "key", "ascending"),
    [
        ("metrics.m", "m", True),
        ("metrics.m desc", "m", False),
        ("`metrics`.`m` DESC", "m", False),
        ("tags.`mlflow.runName` Asc", "mlflow.runName", True),
    ],
)
def test_parse_order_by_reads_identifier_and_direction(
    text: str, key: str, ascending: bool
) -> None:
    item = parse_order_by(text)

    assert item.identifier.unquoted_key == key
    assert item.ascending is ascending


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.m SIDEWAYS", "Invalid ordering key in order_by clause 'metrics.m SIDEWAYS'."),
        ("metrics.m DESC x", "Invalid order_by clause 'metrics.m DESC x'. Could not be parsed."),
        ("", "Invalid order_by clause ''. Could not be parsed."),
        ("= x", "Invalid order_by clause '= x'. Could not be parsed."),
    ],
)
def test_parse_order_by_rejects_malformed_items(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterValueError) as raised:
        parse_order_by(text)

    assert raised.value.message == message


# --- rules: an entity-agnostic validator driven by a spec ---------------------------------------


NAME_RULE = FieldRule(
    value_type=ValueType.STRING,
    comparators=STRING_COMPARATORS | {"IN", "NOT IN"},
    value_error="Expected a quoted string value for attributes. Got value {raw}",
    comparator_error="Invalid comparator '{comparator}'",
    column="name",
    null_error="no NULL for {key}",
)
VERSION_RULE = FieldRule(
    value_type=ValueType.NUMBER,
    comparators=frozenset({"=", ">"}),
    value_error="Expected numeric value for {key}. Found {raw}",
    comparator_error="Invalid comparator '{comparator}' for {key}",
    column="version_number",
    null_error="no NULL for {key}",
)
MODEL_ATTRIBUTES = EntityRule(
    "attribute",
    fields={"name": NAME_RULE, "version_number": VERSION_RULE},
    unknown_key_error="Invalid attribute key '{key}' specified.",
)
MODEL_TAGS = EntityRule(
    "tag",
    any_key=FieldRule(
        value_type=ValueType.STRING,
        comparators=STRING_COMPARATORS | NULL_COMPARATORS,
        value_error="tag value {raw}",
        comparator_error="tag comparator {comparator}",
        list_error="tag list {raw}",
    ),
)
MODEL_SPEC = SearchSpec(
    entities={"attribute": MODEL_ATTRIBUTES, "tag": MODEL_TAGS, "tags": MODEL_TAGS},
    default_entity=MODEL_ATTRIBUTES,
    unknown_entity_error="Invalid entity type '{entity}'.",
    trim_entity_backticks=False,
)


def test_validate_filter_applies_a_spec_of_another_entity() -> None:
    clauses = validate_filter(
        parse_filter(
            "name IN ('a', 'b') AND version_number > 2 AND tags.`x.y` IS NULL AND tag.k != 'v'"
        ),
        MODEL_SPEC,
    )

    assert clauses == [
        Clause("attribute", "name", "IN", ("a", "b")),
        Clause("attribute", "version_number", ">", 2),
        Clause("tag", "x.y", "IS NULL", None),
        Clause("tag", "k", "!=", "v"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("run.name = 'a'", "Invalid entity type 'run'."),
        ("`tags`.k = 'a'", "Invalid entity type '`tags`'."),
        ("stage = 'a'", "Invalid attribute key 'stage' specified."),
        ("version_number = 'a'", "Expected numeric value for version_number. Found 'a'"),
        ("version_number < 2", "Invalid comparator '<' for version_number"),
        ("version_number IS NULL", "no NULL for version_number"),
        ("tags.k IN ('a')", "tag list ('a')"),
        ("tags.k = 5", "tag value 5"),
        ("tags.k > 'a'", "tag comparator >"),
        ("name = 5", "Expected a quoted string value for attributes. Got value 5"),
        ("name = ('a')", "Expected a quoted string value for attributes. Got value ('a')"),
        (
            "name IN (1, 'a')",
            "While parsing a list in the query, expected string value, "
            "punctuation, or whitespace, but got different type in list: (1, 'a')",
        ),
        (
            "name IN ('a' 'b')",
            "While parsing a list in the query, expected a non-empty list "
            "of string values, but got ill-formed list.",
        ),
        (
            "name = x",
            "Parameter value is either not quoted or unidentified quote types used for "
            "string value x. Use either single or double quotes.",
        ),
    ],
)
def test_validate_filter_reports_the_specs_messages(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterValueError) as raised:
        validate_filter(parse_filter(text), MODEL_SPEC)

    assert raised.value.message == message


def test_validate_filter_checks_every_value_before_any_comparator() -> None:
    # as MLflow: values are checked while parsing, comparators while compiling
    with pytest.raises(InvalidParameterValueError) as raised:
        parse_run_filter("params.p > 'a' AND metrics.m = 'x'")

    assert raised.value.message == "Expected numeric value type for metric. Found 'x'"


def test_run_filter_translates_attribute_aliases() -> None:
    clauses = parse_run_filter("created > 5 and `Run Name` LIKE 'a%' and attr.run_id = 'x'")

    assert clauses == [
        Clause("attribute", "start_time", ">", 5),
        Clause("attribute", "run_name", "LIKE", "a%"),
        Clause("attribute", "run_id", "=", "x"),
    ]


def test_run_order_by_rejects_dataset_keys_and_unorderable_attributes() -> None:
    with pytest.raises(InvalidParameterValueError) as dataset:
        parse_run_order_by(["datasets.name"])
    with pytest.raises(InvalidParameterValueError) as alias:
        parse_run_order_by(["`Run name`"])

    assert dataset.value.message == "Invalid identifier type 'dataset'"
    assert alias.value.message.startswith("Invalid attribute key 'Run name' specified.")


# --- LIKE patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "like", "glob"),
    [
        ("a%b_c", "a%b_c", "a*b?c"),
        ("a\\%b\\_c", "a!%b!_c", "a%b_c"),
        ("a!b", "a!!b", "a!b"),
        ("*?[]", "*?[]", "[*][?][[]]"),
        ("trailing\\", "trailing\\", "trailing\\"),
        ("a\\\\b", "a\\b", "a\\b"),
    ],
)
def test_like_patterns_translate_wildcards_and_escape_the_rest(
    pattern: str, like: str, glob: str
) -> None:
    segments = like_segments(pattern)

    assert like_pattern(segments) == like
    assert glob_pattern(segments) == glob


@pytest.mark.parametrize(
    ("actual", "comparator", "value", "expected"),
    [
        ("training", "=", "training", True),
        ("training", "=", "Training", False),
        ("training", "!=", "eval", True),
        ("training", "LIKE", "train%", True),
        ("training", "LIKE", "TRAIN%", False),
        ("training", "ILIKE", "TRAIN%", True),
        ("training", "LIKE", "t_aining", True),
        ("tr.ining", "LIKE", "tr.ining", True),
        ("training", "LIKE", "tr.ining", False),
        ("training", "IN", ("eval", "training"), True),
        ("training", "NOT IN", ("eval", "training"), False),
        (None, "!=", "x", False),
    ],
)
def test_text_matches_like_the_database(
    actual: str | None, comparator: str, value: str | tuple[str, ...], expected: bool
) -> None:
    assert text_matches(actual, comparator, value) is expected


def test_like_regex_matches_across_lines() -> None:
    assert like_regex("a%b", ignore_case=False).fullmatch("a\nb")


# --- page tokens --------------------------------------------------------------------------------


def test_page_tokens_are_mlflows_base64_json() -> None:
    assert encode_page_token(1) == "eyJvZmZzZXQiOiAxfQ=="
    assert decode_page_token("eyJvZmZzZXQiOiAxfQ==") == 1
    assert decode_page_token(encode_page_token(12345)) == 12345
    assert decode_page_token(None) == 0
    assert decode_page_token("") == 0


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("garbage", "Invalid page token, could not base64-decode"),
        ("ü", "Invalid page token, could not base64-decode"),
        ("Z2FyYmFnZQ==", "Invalid page token, decoded value=b'garbage'"),
        ("eyJvZmZzZXQiOiAwfQ==", "Invalid page token, parsed value={'offset': 0}"),  # 0
        ("eyJ4IjogMX0=", "Invalid page token, parsed value={'x': 1}"),
        ("WzFd", "Invalid page token, parsed value=[1]"),
        ("eyJvZmZzZXQiOiAiYSJ9", "Invalid page token, not stringable a"),
        ("eyJvZmZzZXQiOiAtMX0=", "Invalid page token, parsed value={'offset': -1}"),
    ],
)
def test_bad_page_tokens_are_rejected_with_mlflows_messages(token: str, message: str) -> None:
    with pytest.raises(InvalidParameterValueError) as raised:
        decode_page_token(token)

    assert raised.value.message == message


def test_page_from_rows_offers_a_next_page_only_when_a_row_is_left() -> None:
    full = page_from_rows([1, 2, 3], offset=4, max_results=2)
    last = page_from_rows([1, 2], offset=4, max_results=2)

    assert full.items == [1, 2]
    assert decode_page_token(full.next_page_token) == 6
    assert last.items == [1, 2]
    assert last.next_page_token is None
