"""Pieces of the few statements written as SQL (hot paths where the ORM's Python cost showed
in benchmarks): identifiers come from the models' metadata, quoted for the connection's
database; values are always bound parameters, never formatted in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def quoted_table(model: type[Model]) -> str:
    """``model``'s table name, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def quoted_column(model: type[Model], field_name: str, alias: str = "") -> str:
    """The column of ``model``'s field ``field_name``, quoted; after ``alias.`` if given."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field)  # a concrete column, never a reverse relation
    quoted = connection.ops.quote_name(field.column or field_name)
    return f"{alias}.{quoted}" if alias else quoted


def placeholders(values: Iterable[Any]) -> str:
    """``%s, %s, ...``: one bound parameter per value."""
    return ", ".join("%s" for _ in values)
