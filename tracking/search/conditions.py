"""ORM conditions for search comparisons that behave the same on SQLite, PostgreSQL and MariaDB.

MLflow's semantics (spec: search.md §1): ``=``/``!=``/``IN`` on strings and ``LIKE`` are
case-sensitive, ``ILIKE`` is not; ``%`` matches any run of characters and ``_`` one character;
a comparison with a missing (NULL) value is false, ``!=`` included. Django's built-in lookups
differ per backend (SQLite's ``LIKE`` ignores case, MariaDB's collation decides, ``exclude()``
lets NULLs through), so these are small custom ``Lookup`` expressions, used directly in
``filter()`` and rendered per vendor through ``as_<vendor>`` methods. Values always travel as
query parameters.

In a pattern a backslash escapes the next character (``\\%`` is a literal percent sign), as on
PostgreSQL and MariaDB where MLflow passes patterns through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import F, Lookup

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

# Markers for the wildcards of a parsed LIKE pattern; every other item is one literal character.
ANY = object()  # %
ONE = object()  # _
Segment = str | object

# The escape character of the LIKE patterns we build: not special in any SQL string literal.
_ESCAPE = "!"
_MSSQL_CASE_SENSITIVE = "Latin1_General_100_CS_AS_SC_UTF8"


def like_segments(pattern: str) -> list[Segment]:
    """A LIKE pattern as literal characters and ``ANY``/``ONE`` wildcards."""
    segments: list[Segment] = []
    characters = iter(pattern)
    for character in characters:
        if character == "\\":
            segments.append(next(characters, "\\"))
        elif character == "%":
            segments.append(ANY)
        elif character == "_":
            segments.append(ONE)
        else:
            segments.append(character)
    return segments


def like_pattern(segments: Sequence[Segment], special: str = "%_") -> str:
    """An SQL LIKE pattern (``ESCAPE '!'``) for the segments."""
    escaped = special + _ESCAPE
    parts = []
    for segment in segments:
        if segment is ANY:
            parts.append("%")
        elif segment is ONE:
            parts.append("_")
        else:
            text = str(segment)
            parts.append(_ESCAPE + text if text in escaped else text)
    return "".join(parts)


def glob_pattern(segments: Sequence[Segment]) -> str:
    """A SQLite GLOB pattern (case-sensitive) for the segments; ``*?[`` become literals."""
    parts = []
    for segment in segments:
        if segment is ANY:
            parts.append("*")
        elif segment is ONE:
            parts.append("?")
        else:
            text = str(segment)
            parts.append(f"[{text}]" if text in "*?[" else text)
    return "".join(parts)


def like_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """A compiled regular expression matching exactly what the LIKE pattern matches."""
    parts = []
    for segment in like_segments(pattern):
        if segment is ANY:
            parts.append(".*")
        elif segment is ONE:
            parts.append(".")
        else:
            parts.append(re.escape(str(segment)))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


class _Comparison(Lookup[Any]):
    """``<column> <something> <python value>``; subclasses render the SQL per vendor."""

    prepare_rhs = False
    can_use_none_as_rhs = False

    def lhs_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> str:
        sql, params = self.process_lhs(compiler, connection)
        # A column compiles without parameters; the templates below may repeat the column.
        assert not params, "search comparisons take a column on the left"
        return sql


class _NumberComparison(_Comparison):
    operator: ClassVar[str]

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        return f"{self.lhs_sql(compiler, connection)} {self.operator} %s", (self.rhs,)


class NumberEqual(_NumberComparison):
    lookup_name = "search_eq"
    operator = "="


class NumberNotEqual(_NumberComparison):
    """``<>``: unlike ``exclude()``, a NULL never matches."""

    lookup_name = "search_ne"
    operator = "<>"


class NumberLess(_NumberComparison):
    lookup_name = "search_lt"
    operator = "<"


class NumberLessOrEqual(_NumberComparison):
    lookup_name = "search_lte"
    operator = "<="


class NumberGreater(_NumberComparison):
    lookup_name = "search_gt"
    operator = ">"


class NumberGreaterOrEqual(_NumberComparison):
    lookup_name = "search_gte"
    operator = ">="


class TextEqual(_Comparison):
    """Case-sensitive, exact string equality."""

    lookup_name = "search_text_eq"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        return f"{self.lhs_sql(compiler, connection)} = %s", (self.rhs,)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        # The plain comparison can use an index; the binary one makes it exact.
        column = self.lhs_sql(compiler, connection)
        sql = f"({column} = %s AND CAST({column} AS BINARY) = CAST(%s AS BINARY))"
        return sql, (self.rhs, self.rhs)

    def as_microsoft(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        return f"{column} COLLATE {_MSSQL_CASE_SENSITIVE} = %s", (self.rhs,)


class TextNotEqual(_Comparison):
    """Case-sensitive string inequality; NULL never matches."""

    lookup_name = "search_text_ne"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        return f"{self.lhs_sql(compiler, connection)} <> %s", (self.rhs,)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        return f"CAST({column} AS BINARY) <> CAST(%s AS BINARY)", (self.rhs,)

    def as_microsoft(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        return f"{column} COLLATE {_MSSQL_CASE_SENSITIVE} <> %s", (self.rhs,)


class TextIn(_Comparison):
    """Case-sensitive membership in a non-empty tuple of strings."""

    lookup_name = "search_text_in"
    negated: ClassVar[bool] = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        return f"{column} {self._keyword} ({self._placeholders()})", tuple(self.rhs)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        binary = ", ".join(["CAST(%s AS BINARY)"] * len(self.rhs))
        exact = f"CAST({column} AS BINARY) {self._keyword} ({binary})"
        if self.negated:
            return exact, tuple(self.rhs)
        sql = f"({column} IN ({self._placeholders()}) AND {exact})"
        return sql, (*self.rhs, *self.rhs)

    def as_microsoft(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        sql = f"{column} COLLATE {_MSSQL_CASE_SENSITIVE} {self._keyword} ({self._placeholders()})"
        return sql, tuple(self.rhs)

    @property
    def _keyword(self) -> str:
        return "NOT IN" if self.negated else "IN"

    def _placeholders(self) -> str:
        return ", ".join(["%s"] * len(self.rhs))


class TextNotIn(TextIn):
    """Case-sensitive non-membership; NULL never matches."""

    lookup_name = "search_text_not_in"
    negated = True


class Like(_Comparison):
    """Case-sensitive ``LIKE`` with MLflow's wildcards; the right-hand side is the raw pattern."""

    lookup_name = "search_like"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)  # PostgreSQL: LIKE is case-sensitive
        return f"{column} LIKE %s ESCAPE '{_ESCAPE}'", (like_pattern(like_segments(self.rhs)),)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        # SQLite's LIKE ignores ASCII case; GLOB is its case-sensitive matcher.
        column = self.lhs_sql(compiler, connection)
        return f"{column} GLOB %s", (glob_pattern(like_segments(self.rhs)),)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        # The column's collation may ignore case; a binary collation keeps characters whole.
        column = self.lhs_sql(compiler, connection)
        sql = f"{column} COLLATE utf8mb4_bin LIKE %s ESCAPE '{_ESCAPE}'"
        return sql, (like_pattern(like_segments(self.rhs)),)

    def as_microsoft(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        sql = f"{column} COLLATE {_MSSQL_CASE_SENSITIVE} LIKE %s ESCAPE '{_ESCAPE}'"
        return sql, (like_pattern(like_segments(self.rhs), special="%_["),)


class ILike(_Comparison):
    """Case-insensitive ``LIKE`` with MLflow's wildcards."""

    lookup_name = "search_ilike"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        # SQLite's LIKE already ignores case (ASCII only, as in MLflow on SQLite).
        column = self.lhs_sql(compiler, connection)
        return f"{column} LIKE %s ESCAPE '{_ESCAPE}'", (like_pattern(like_segments(self.rhs)),)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        return f"{column} ILIKE %s ESCAPE '{_ESCAPE}'", (like_pattern(like_segments(self.rhs)),)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        # Lower-cased sides under a binary collation: the column's own may ignore accents.
        column = self.lhs_sql(compiler, connection)
        sql = f"LOWER({column}) COLLATE utf8mb4_bin LIKE LOWER(%s) ESCAPE '{_ESCAPE}'"
        return sql, (like_pattern(like_segments(self.rhs)),)

    def as_microsoft(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        column = self.lhs_sql(compiler, connection)
        sql = f"LOWER({column}) LIKE LOWER(%s) ESCAPE '{_ESCAPE}'"
        return sql, (like_pattern(like_segments(self.rhs), special="%_["),)


NUMBER_LOOKUPS: dict[str, type[_Comparison]] = {
    "=": NumberEqual,
    "!=": NumberNotEqual,
    "<": NumberLess,
    "<=": NumberLessOrEqual,
    ">": NumberGreater,
    ">=": NumberGreaterOrEqual,
}
TEXT_LOOKUPS: dict[str, type[_Comparison]] = {
    "=": TextEqual,
    "!=": TextNotEqual,
    "IN": TextIn,
    "NOT IN": TextNotIn,
    "LIKE": Like,
    "ILIKE": ILike,
}


def number_condition(column: str, comparator: str, value: int | float) -> Lookup[Any]:
    """``column <comparator> value`` for a numeric column; NULL never matches."""
    return NUMBER_LOOKUPS[comparator](F(column), value)


def text_condition(column: str, comparator: str, value: str | tuple[str, ...]) -> Lookup[Any]:
    """``column <comparator> value`` for a text column (``=``, ``!=``, ``IN``, ``NOT IN``,
    ``LIKE``, ``ILIKE``), case-sensitive except ``ILIKE``; NULL never matches."""
    return TEXT_LOOKUPS[comparator](F(column), value)


def text_matches(actual: str | None, comparator: str, value: str | tuple[str, ...]) -> bool:
    """The same comparison evaluated in Python (for values kept in JSON, such as input tags)."""
    if actual is None:
        return False
    if comparator in ("IN", "NOT IN"):
        return (actual in value) == (comparator == "IN")
    assert isinstance(value, str)
    if comparator == "=":
        return actual == value
    if comparator == "!=":
        return actual != value
    return like_regex(value, ignore_case=comparator == "ILIKE").fullmatch(actual) is not None
