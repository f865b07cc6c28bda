"""Tokens of MLflow's search language (filters and ``order_by`` items). spec: search.md §1.

The tokenizer never fails: characters it does not know become ``OTHER`` tokens, which the grammar
reports as invalid clauses, the way MLflow reports what ``sqlparse`` could not group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What a token is."""

    WORD = "word"  # names and keywords (AND, IN, IS, NOT, NULL, LIKE, ILIKE): \w+
    NUMBER = "number"  # 1, -2, 3.5, .5, 1e10
    STRING = "string"  # 'single quoted'
    QUOTED = "quoted"  # "double quoted"
    BACKTICK = "backtick"  # `back quoted`
    OPERATOR = "operator"  # a run of < > = ! ~
    DOT = "dot"
    COMMA = "comma"
    LPAREN = "lparen"
    RPAREN = "rparen"
    SEMICOLON = "semicolon"
    OTHER = "other"  # anything else, including an unterminated quote and the rest after it


@dataclass(frozen=True)
class Token:
    """One token and where it sits in the source text (``source[start:end] == text``)."""

    kind: Kind
    text: str
    start: int
    end: int

    def is_keyword(self, *words: str) -> bool:
        """Whether this is a bare word equal (case-insensitively) to one of ``words``."""
        return self.kind is Kind.WORD and self.text.upper() in words

    @property
    def inner(self) -> str:
        """The text between the quotes of a quoted token, verbatim (MLflow does not unescape)."""
        return self.text[1:-1]


_PATTERNS: list[tuple[Kind | None, str]] = [
    (None, r"\s+"),
    (Kind.STRING, r"'(?:''|\\.|[^'\\])*'"),
    (Kind.QUOTED, r'"(?:""|\\.|[^"\\])*"'),
    (Kind.BACKTICK, r"`(?:``|[^`])*`"),
    # A number may not follow a dot or a word character: in ``metrics.1m`` the key is a word.
    (Kind.NUMBER, r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w)"),
    (Kind.WORD, r"\w+"),
    (Kind.OPERATOR, r"[<>=!~]+"),
    (Kind.DOT, r"\."),
    (Kind.COMMA, r","),
    (Kind.LPAREN, r"\("),
    (Kind.RPAREN, r"\)"),
    (Kind.SEMICOLON, r";"),
    (Kind.OTHER, r"['\"`].*"),  # an unterminated quote swallows the rest of the text
    (Kind.OTHER, r"."),
]
_MASTER = re.compile(
    "|".join(f"(?P<g{index}>{pattern})" for index, (_, pattern) in enumerate(_PATTERNS)),
    re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, dropping whitespace."""
    tokens: list[Token] = []
    for match in _MASTER.finditer(text):
        group = match.lastgroup
        assert group is not None  # every alternative is a named group
        kind = _PATTERNS[int(group[1:])][0]
        if kind is not None:
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
    return tokens
