"""Recursive-descent grammar of MLflow's search language, producing an entity-agnostic AST.

spec: search.md §1::

    filter      := clause ( AND clause )*
    clause      := ident op value | ident IS [NOT] NULL | ident [NOT] IN list
    ident       := part ( "." part )*              -- part: word | `back quoted` | "double quoted"
    op          := = | != | < | <= | > | >= | [NOT] LIKE | [NOT] ILIKE | ...
    value       := 'text' | "text" | number | word | list
    list        := "(" item ( "," item )* [","] ")"

What an identifier means (entity, key, allowed comparators and values) is decided afterwards by a
``SearchSpec`` (``tracking.search.rules``), so registry and logged-model searches reuse this.
Like MLflow (which groups tokens with ``sqlparse``), tokens that form no clause are collected and
reported together: ``Invalid clause(s) in filter string: 'OR'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from config.errors import InvalidParameterValueError
from tracking.search.lexer import Kind, Token, tokenize

_PART_KINDS = (Kind.WORD, Kind.BACKTICK, Kind.QUOTED)
_PATTERN_OPERATORS = ("LIKE", "ILIKE", "RLIKE")


@dataclass(frozen=True)
class Part:
    """One dot-separated part of an identifier, as written and with its quotes removed."""

    text: str
    value: str


@dataclass(frozen=True)
class Identifier:
    """``[entity "."] key`` as written: ``params.p1``, ``tags.`mlflow.runName```, ``status``."""

    parts: tuple[Part, ...]
    text: str

    @property
    def entity(self) -> str | None:
        """The entity prefix as written (quotes kept), or None for a bare key."""
        return self.parts[0].text if len(self.parts) > 1 else None

    @property
    def key_text(self) -> str:
        """Everything after the first dot as written (MLflow splits on the first dot)."""
        parts = self.parts[1:] if len(self.parts) > 1 else self.parts
        return ".".join(part.text for part in parts)

    @property
    def unquoted_key(self) -> str:
        """The key with every part's quotes removed (how ``order_by`` items are read)."""
        parts = self.parts[1:] if len(self.parts) > 1 else self.parts
        return ".".join(part.value for part in parts)


class ValueKind(Enum):
    """What kind of literal a clause compares with."""

    STRING = "string"  # 'x' or "x"
    NUMBER = "number"
    WORD = "word"  # an unquoted word or back-quoted text: a string someone forgot to quote
    LIST = "list"  # ( ... )


@dataclass(frozen=True)
class Literal:
    """The right-hand side of a clause. ``text`` is the source text, used in error messages."""

    kind: ValueKind
    text: str
    string: str = ""
    number: int | float = 0
    # For lists: the items when the list is well formed (strings and numbers), else None.
    items: tuple[str | int | float, ...] | None = None


@dataclass(frozen=True)
class RawClause:
    """A syntactically valid clause, not yet checked against any entity's rules.

    ``comparator`` is upper-case with single spaces: ``=``, ``LIKE``, ``NOT IN``, ``IS NULL``.
    ``value`` is None for ``IS NULL`` / ``IS NOT NULL``.
    """

    identifier: Identifier
    comparator: str
    value: Literal | None


@dataclass(frozen=True)
class OrderItem:
    """One ``order_by`` entry: ``<identifier> [ASC|DESC]``."""

    identifier: Identifier
    ascending: bool
    text: str


def _number(text: str) -> int | float:
    """The numeric value of a NUMBER token: an int when written without '.' or exponent."""
    if any(char in text for char in ".eE"):
        return float(text)
    return int(text)


class _Parser:
    """Cursor over the tokens of one filter or ``order_by`` string."""

    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.position = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at_end(self) -> bool:
        return self.position >= len(self.tokens)

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def span(self, first: Token, last: Token) -> str:
        return self.source[first.start : last.end]

    def identifier(self) -> Identifier | None:
        """``part ("." part)*``, or None (consuming nothing) when no identifier starts here."""
        first = self.peek()
        if first is None or first.kind not in _PART_KINDS:
            return None
        parts = [self._part(self.advance())]
        last = first
        while True:
            dot, following = self.peek(), self.peek(1)
            if dot is None or dot.kind is not Kind.DOT:
                break
            if following is None or following.kind not in (*_PART_KINDS, Kind.NUMBER):
                break
            self.position += 2
            parts.append(self._part(following))
            last = following
        return Identifier(tuple(parts), self.span(first, last))

    @staticmethod
    def _part(token: Token) -> Part:
        quoted = token.kind in (Kind.BACKTICK, Kind.QUOTED)
        return Part(token.text, token.inner if quoted else token.text)

    def clause(self) -> RawClause | None:
        """One clause, or None (consuming nothing) when the tokens here form no clause."""
        start = self.position
        identifier = self.identifier()
        if identifier is not None:
            result = self._clause_rest(identifier)
            if result is not None:
                return result
        self.position = start
        return None

    def _clause_rest(self, identifier: Identifier) -> RawClause | None:
        token = self.peek()
        if token is None:
            return None
        if token.kind is Kind.OPERATOR or token.is_keyword(*_PATTERN_OPERATORS):
            self.advance()
            return self._compared(identifier, token.text.upper())
        following = self.peek(1)
        if token.is_keyword("NOT") and following is not None:
            if following.is_keyword(*_PATTERN_OPERATORS):
                self.position += 2
                return self._compared(identifier, f"NOT {following.text.upper()}")
            if following.is_keyword("IN"):
                self.position += 2
                return self._listed(identifier, "NOT IN")
            return None
        if token.is_keyword("IN"):
            self.advance()
            return self._listed(identifier, "IN")
        if token.is_keyword("IS") and following is not None:
            if following.is_keyword("NULL"):
                self.position += 2
                return RawClause(identifier, "IS NULL", None)
            after = self.peek(2)
            if following.is_keyword("NOT") and after is not None and after.is_keyword("NULL"):
                self.position += 3
                return RawClause(identifier, "IS NOT NULL", None)
        return None

    def _compared(self, identifier: Identifier, comparator: str) -> RawClause | None:
        value = self.value()
        return None if value is None else RawClause(identifier, comparator, value)

    def _listed(self, identifier: Identifier, comparator: str) -> RawClause | None:
        token = self.peek()
        if token is None or token.kind is not Kind.LPAREN:
            return None
        value = self.parenthesized()
        return None if value is None else RawClause(identifier, comparator, value)

    def value(self) -> Literal | None:
        """A literal, or None when the next tokens are not one."""
        token = self.peek()
        if token is None:
            return None
        if token.kind in (Kind.STRING, Kind.QUOTED):
            self.advance()
            return Literal(ValueKind.STRING, token.text, string=token.inner)
        if token.kind is Kind.NUMBER:
            self.advance()
            return Literal(ValueKind.NUMBER, token.text, number=_number(token.text))
        if token.kind is Kind.LPAREN:
            return self.parenthesized()
        if token.kind in (Kind.WORD, Kind.BACKTICK):
            identifier = self.identifier()
            assert identifier is not None  # a WORD or BACKTICK always starts one
            return Literal(ValueKind.WORD, identifier.text)
        return None

    def invalid_group(self) -> str:
        """Consume and return what forms no clause here: a whole identifier, a whole
        parenthesized group (MLflow rejects parentheses as one token), or one token."""
        identifier = self.identifier()
        if identifier is not None:
            return identifier.text
        token = self.peek()
        if token is not None and token.kind is Kind.LPAREN:
            group = self.parenthesized()  # consumes "(" even when it finds no match
            return group.text if group is not None else token.text
        return self.advance().text

    def parenthesized(self) -> Literal | None:
        """``( ... )`` up to the matching parenthesis; items are read when it is a flat list."""
        first = self.advance()
        depth, index = 1, self.position
        while index < len(self.tokens) and depth:
            kind = self.tokens[index].kind
            depth += (kind is Kind.LPAREN) - (kind is Kind.RPAREN)
            index += 1
        if depth:
            return None  # unbalanced: no clause here
        inside, last = self.tokens[self.position : index - 1], self.tokens[index - 1]
        self.position = index
        return Literal(ValueKind.LIST, self.span(first, last), items=_list_items(inside))


def _list_items(tokens: list[Token]) -> tuple[str | int | float, ...] | None:
    """``'a', "b", 1`` (a trailing comma allowed) as values, or None when ill-formed."""
    items: list[str | int | float] = []
    expect_item = True
    for token in tokens:
        if expect_item and token.kind in (Kind.STRING, Kind.QUOTED):
            items.append(token.inner)
        elif expect_item and token.kind is Kind.NUMBER:
            items.append(_number(token.text))
        elif not expect_item and token.kind is Kind.COMMA:
            pass
        else:
            return None
        expect_item = not expect_item
    return tuple(items)  # ends after an item or after a trailing comma, as in Python


def _invalid_clauses(texts: list[str], *, quote: bool) -> InvalidParameterValueError:
    shown = ", ".join(f"'{text}'" if quote else text for text in texts)
    return InvalidParameterValueError(f"Invalid clause(s) in filter string: {shown}")


def parse_filter(text: str, *, quote_invalid: bool = True) -> list[RawClause]:
    """The clauses of a filter string, AND-ed. An empty filter has none.

    ``quote_invalid`` chooses how unparsable tokens are listed: runs quote each (``'OR'``),
    experiments and the registry do not (``OR``).
    """
    if not text or not text.strip():
        return []
    tokens = tokenize(text)
    statements = [
        statement
        for statement in _split_statements(tokens)
        if any(token.kind is not Kind.SEMICOLON for token in statement)
    ]
    if len(statements) > 1:
        raise InvalidParameterValueError(
            f"Search filter contained multiple expression {text!r}. Provide AND-ed expression list."
        )
    parser = _Parser(text, tokens)
    clauses: list[RawClause] = []
    invalid: list[str] = []
    while not parser.at_end():
        token = parser.peek()
        assert token is not None
        if token.is_keyword("AND"):  # AND is a separator; a trailing one is tolerated
            parser.advance()
            continue
        clause = parser.clause()
        if clause is not None:
            clauses.append(clause)
            continue
        invalid.append(parser.invalid_group())
    if invalid:
        raise _invalid_clauses(invalid, quote=quote_invalid)
    return clauses


def _split_statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        statements[-1].append(token)
        if token.kind is Kind.SEMICOLON:
            statements.append([])
    return statements


def parse_order_by(text: str) -> OrderItem:
    """One ``order_by`` entry: an identifier and an optional ``ASC``/``DESC`` (any case)."""
    could_not_parse = InvalidParameterValueError(
        f"Invalid order_by clause '{text}'. Could not be parsed."
    )
    parser = _Parser(text, tokenize(text))
    identifier = parser.identifier()
    if identifier is None:
        raise could_not_parse
    ascending = True
    direction = parser.peek()
    if direction is not None:
        parser.advance()
        if not parser.at_end() or direction.kind not in _PART_KINDS:
            raise could_not_parse
        word = _Parser._part(direction).value.upper()
        if word not in ("ASC", "DESC"):
            raise InvalidParameterValueError(f"Invalid ordering key in order_by clause '{text}'.")
        ascending = word == "ASC"
    return OrderItem(identifier, ascending, text)
