"""Map MLflow-style database URIs (``DATABASE_URL``) onto Django's ``DATABASES`` entries.

MLflow accepts SQLAlchemy URIs: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``,
``postgresql://``, ``postgresql+psycopg2://``, ``mysql://``, ``mysql+pymysql://``,
``mssql://`` and ``mssql+pyodbc://``. The driver suffix only names a Python driver; Django picks
its own per backend, so the suffix is accepted and ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgresql": "django.db.backends.postgresql",
    "postgres": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
    "mssql": "mssql",
}

# SQLite: writers queue behind one another instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL;",
}
# MariaDB/MySQL: full Unicode; strict mode so an over-long value is an error, not a truncation;
# NO_AUTO_VALUE_ON_ZERO so the Default experiment keeps id 0 instead of drawing the next one.
MYSQL_OPTIONS = {
    "charset": "utf8mb4",
    "sql_mode": "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO",
}
# utf8mb4_bin compares names case-sensitively, as MLflow names are (MariaDB's default does not).
MYSQL_TEST = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"}
# PostgreSQL: server-side parameter binding (psycopg 3 sends values apart from the SQL instead
# of quoting each one in Python), and statements run five times on a connection are prepared,
# so the hot writes skip parsing and planning. Behind a transaction-mode pooler (PgBouncer)
# prepared statements need `?prepare_threshold=` (empty: off) on the URL.
POSTGRESQL_OPTIONS: dict[str, Any] = {"server_side_binding": True, "prepare_threshold": 5}
MSSQL_OPTIONS = {"driver": "ODBC Driver 18 for SQL Server"}


def database_from_url(url: str) -> dict[str, Any]:
    """Return one ``DATABASES`` entry for an MLflow-style database URI."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in ENGINES:
        raise ImproperlyConfigured(
            f"Unsupported DATABASE_URL scheme {parts.scheme!r}: "
            "use sqlite, postgresql, mysql or mssql."
        )
    options: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "sqlite":
        # sqlite:///relative.db keeps the relative path, sqlite:////abs.db is absolute.
        name = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        if not name or name == ":memory:":
            name = ":memory:"
        return {
            "ENGINE": ENGINES[scheme],
            "NAME": name,
            "OPTIONS": {**SQLITE_OPTIONS, **options},
            # A file database keeps its connection, saving an open and its PRAGMAs per request.
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": None},
        }
    entry: dict[str, Any] = {
        "ENGINE": ENGINES[scheme],
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        # No health check: it is a `SELECT 1` round trip at the start of every request. A kept
        # connection that died (a database restart) fails its one request with a 5xx, which
        # the client retries, and Django discards the connection when that request ends.
        "CONN_HEALTH_CHECKS": False,
    }
    if not entry["NAME"]:
        raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database.")
    if scheme in ("mysql", "mariadb"):
        entry["OPTIONS"] = {**MYSQL_OPTIONS, **options}
        entry["TEST"] = dict(MYSQL_TEST)
    elif scheme == "mssql":
        entry["OPTIONS"] = {**MSSQL_OPTIONS, **options}
    else:
        entry["OPTIONS"] = {**POSTGRESQL_OPTIONS, **_postgresql_url_options(options)}
    return entry


def _postgresql_url_options(options: dict[str, Any]) -> dict[str, Any]:
    """URL options are strings; the two psycopg settings above need a bool and an int/None."""
    typed = dict(options)
    if "server_side_binding" in typed:
        typed["server_side_binding"] = typed["server_side_binding"].lower() in ("1", "true", "on")
    if "prepare_threshold" in typed:
        value = typed["prepare_threshold"].strip()
        try:
            typed["prepare_threshold"] = int(value) if value else None
        except ValueError:
            raise ImproperlyConfigured(
                f"DATABASE_URL option prepare_threshold={value!r} is not an integer"
            ) from None
    return typed
