"""Offset page tokens: base64 of ``{"offset": N}``, as MLflow makes them. spec: search.md §7."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from config.errors import InvalidParameterValueError

T = TypeVar("T")


def encode_page_token(offset: int) -> str:
    """The token of the page starting at ``offset`` (``eyJvZmZzZXQiOiAxfQ==`` for 1)."""
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for; no token is offset 0. Messages are MLflow's."""
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token)
    except (binascii.Error, ValueError):
        raise InvalidParameterValueError("Invalid page token, could not base64-decode") from None
    try:
        parsed = json.loads(decoded)
    except ValueError:
        raise InvalidParameterValueError(f"Invalid page token, decoded value={decoded!r}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if not offset:
        raise InvalidParameterValueError(f"Invalid page token, parsed value={parsed}")
    try:
        number = int(offset)
    except (TypeError, ValueError):
        raise InvalidParameterValueError(f"Invalid page token, not stringable {offset}") from None
    if number < 0:
        # differs from reference: a negative offset reaches the database there.
        raise InvalidParameterValueError(f"Invalid page token, parsed value={parsed}")
    return number


@dataclass(frozen=True)
class SearchPage(Generic[T]):
    """One page of search results and the token of the next page, if there is one."""

    items: list[T]
    next_page_token: str | None


def page_from_rows(rows: Sequence[T], *, offset: int, max_results: int) -> SearchPage[T]:
    """A page from up to ``max_results + 1`` rows fetched at ``offset``: the extra row only
    tells that another page exists."""
    has_more = len(rows) > max_results
    token = encode_page_token(offset + max_results) if has_more else None
    return SearchPage(list(rows[:max_results]), token)
