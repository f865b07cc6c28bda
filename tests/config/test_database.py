"""DATABASE_URL: one test per MLflow-style scheme (MSSQL configuration-tested, no server)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.database import database_from_url


def test_sqlite_relative_path() -> None:
    entry = database_from_url("sqlite:///mlflow.db")

    assert entry["ENGINE"] == "django.db.backends.sqlite3"
    assert entry["NAME"] == "mlflow.db"
    assert entry["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert entry["OPTIONS"]["timeout"] > 0


def test_sqlite_absolute_path() -> None:
    entry = database_from_url("sqlite:////var/lib/mlflow/mlflow.db")

    assert entry["NAME"] == "/var/lib/mlflow/mlflow.db"


def test_sqlite_memory() -> None:
    assert database_from_url("sqlite://")["NAME"] == ":memory:"


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2", "postgres"])
def test_postgresql(scheme: str) -> None:
    entry = database_from_url(f"{scheme}://user:p%40ss@db.example:5433/mlflow?sslmode=require")

    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["USER"], entry["PASSWORD"]) == ("user", "p@ss")
    assert (entry["HOST"], entry["PORT"], entry["NAME"]) == ("db.example", "5433", "mlflow")
    assert entry["OPTIONS"] == {
        "sslmode": "require",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert entry["CONN_HEALTH_CHECKS"] is False


def test_postgresql_binding_and_prepared_statements_can_be_switched_off() -> None:
    entry = database_from_url(
        "postgresql://db.example/mlflow?prepare_threshold=&server_side_binding=false"
    )

    assert entry["OPTIONS"] == {"server_side_binding": False, "prepare_threshold": None}


def test_postgresql_prepare_threshold_must_be_an_integer() -> None:
    with pytest.raises(ImproperlyConfigured, match="prepare_threshold='often'"):
        database_from_url("postgresql://db.example/mlflow?prepare_threshold=often")


@pytest.mark.parametrize("scheme", ["mysql", "mysql+pymysql", "mysql+mysqldb"])
def test_mysql(scheme: str) -> None:
    entry = database_from_url(f"{scheme}://root@127.0.0.1:3306/mlflow")

    assert entry["ENGINE"] == "django.db.backends.mysql"
    assert (entry["USER"], entry["PASSWORD"], entry["NAME"]) == ("root", "", "mlflow")
    assert entry["OPTIONS"]["charset"] == "utf8mb4"
    assert "NO_AUTO_VALUE_ON_ZERO" in entry["OPTIONS"]["sql_mode"]
    assert entry["TEST"]["COLLATION"] == "utf8mb4_bin"


@pytest.mark.parametrize("scheme", ["mssql", "mssql+pyodbc"])
def test_mssql(scheme: str) -> None:
    entry = database_from_url(f"{scheme}://sa:secret@sql.example:1433/mlflow")

    assert entry["ENGINE"] == "mssql"
    assert (entry["USER"], entry["PASSWORD"], entry["HOST"]) == ("sa", "secret", "sql.example")
    assert entry["OPTIONS"]["driver"] == "ODBC Driver 18 for SQL Server"


def test_mssql_driver_can_be_chosen_in_the_query() -> None:
    entry = database_from_url("mssql+pyodbc://sa:x@h/mlflow?driver=ODBC+Driver+17+for+SQL+Server")

    assert entry["OPTIONS"]["driver"] == "ODBC Driver 17 for SQL Server"


def test_mssql_engine_is_importable() -> None:
    from mssql import base  # the backend module Django loads for ENGINE "mssql"

    assert base.DatabaseWrapper.vendor == "microsoft"


@pytest.mark.parametrize("url", ["oracle://x/y", "file:///tmp/mlruns", "postgresql://host:5432/"])
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url)


def test_names_get_a_case_sensitive_collation_on_serverless_backends() -> None:
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
    from mssql.base import DatabaseWrapper as MSSQLWrapper

    from workspaces.fields import NameField

    field = NameField(max_length=63)
    field.set_attributes_from_name("name")
    wrappers = {
        "postgresql": PostgreSQLWrapper(database_from_url("postgresql://u@h/x")),
        "mssql": MSSQLWrapper(database_from_url("mssql://sa:x@h/x")),
    }

    collations = {name: field.db_parameters(w)["collation"] for name, w in wrappers.items()}

    # MariaDB's utf8mb4_bin is proven against the real server by the name tests.
    assert collations == {
        "postgresql": None,  # PostgreSQL's default collation is deterministic
        "mssql": "Latin1_General_100_CS_AS_SC_UTF8",
    }
    assert connections["default"].vendor in {"sqlite", "postgresql", "mysql"}
