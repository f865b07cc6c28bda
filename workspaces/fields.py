"""Model fields for MLflow names, which compare case-sensitively on every database."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# PostgreSQL's and SQLite's default collations are already case-sensitive.
CASE_SENSITIVE_COLLATIONS = {
    "mysql": "utf8mb4_bin",
    "microsoft": "Latin1_General_100_CS_AS_SC_UTF8",
}


class NameField(models.CharField[Any, Any]):
    """A ``CharField`` with a case-sensitive collation chosen per database vendor.

    MariaDB's default collation would make ``Exp`` and ``exp`` collide in a unique index, and
    ``name = 'exp'`` find ``Exp``; MLflow names are distinct in both cases.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if self.db_collation is None:
            parameters["collation"] = CASE_SENSITIVE_COLLATIONS.get(connection.vendor)
        return parameters
