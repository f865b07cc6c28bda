"""Plain SQL for the registry's hottest statements: creating a model version, and the latest
version per stage that every registered model shown carries.

Creating a version locks its registered model, checks the request's run and asks whether any
webhook subscribes to the event. Compiled by the ORM as one annotated ``SELECT ... FOR UPDATE``,
that read cost half of the request's time; here it is one statement written once per process
from the models' metadata and Django's own vendor operations (name quoting, where the row lock
goes), so it runs wherever the ORM's version ran, and the counter is written back by primary key.
The latest versions are a ``ROW_NUMBER()`` window over the versions of the models on a page,
which the ORM can only filter through a costly nested compilation (a third of a search), and
whether a shown row has tags or aliases, and whether it belongs to a prompt, are small
correlated ``EXISTS`` (``own_rows_exist``, ``not_prompt_model``, ``not_prompt_version``)
instead of ORM subqueries compiled on every search.

S608 is silenced where statements are formatted: only quoted table and column names from the
models are formatted in; every value is a bound parameter. These statements bypass the
workspace manager, so each takes ``workspace_id`` and filters on it explicitly, subqueries
included (STYLE §2); ``tests/isolation/test_route_table.py`` creates a version of another
workspace's model, and ``tests/registry/test_version_rows.py`` calls them across workspaces.
Callers run them inside a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import BooleanField, CharField, IntegerField, Model
from django.db.models.expressions import RawSQL

from config.sql import quoted_column as _name
from config.sql import quoted_table as _table
from registry.models import (
    IS_PROMPT_TAG_KEY,
    WEBHOOK_STATUS_ACTIVE,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    Webhook,
    WebhookEvent,
)
from registry.webhooks.events import Event
from tracking.models import Run
from tracking.search.conditions import TextEqual

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType


@dataclass(frozen=True)
class LockedModel:
    """A registered model read with its row lock, and what its version creation checks."""

    model: RegisteredModel
    is_subscribed: bool  # an active webhook of the workspace subscribes to the event
    run_artifact_uri: str | None  # of the run asked for; None when the workspace has none


def _model_fields() -> list[str]:
    return [field.attname for field in RegisteredModel._meta.concrete_fields]


@cache
def _lock_sql() -> str:
    """The model by name with its row lock, whether a webhook subscribes, the run's URI."""
    ops, features = connection.ops, connection.features
    columns = ", ".join(_name(RegisteredModel, field) for field in _model_fields())
    subscribed = (
        f"SELECT 1 FROM {_table(WebhookEvent)} e INNER JOIN {_table(Webhook)} w "  # noqa: S608
        f"ON {_name(WebhookEvent, 'webhook', 'e')} = {_name(Webhook, 'webhook_id', 'w')} "
        f"WHERE {_name(WebhookEvent, 'workspace', 'e')} = %s "
        f"AND {_name(WebhookEvent, 'entity', 'e')} = %s "
        f"AND {_name(WebhookEvent, 'action', 'e')} = %s AND {_name(Webhook, 'status', 'w')} = %s"
    )
    run_uri = (
        f"SELECT {_name(Run, 'artifact_uri', 'r')} FROM {_table(Run)} r "  # noqa: S608
        f"WHERE {_name(Run, 'workspace', 'r')} = %s AND {_name(Run, 'run_uuid', 'r')} = %s"
    )
    lock = ops.for_update_sql() if features.has_select_for_update else ""
    table = _table(RegisteredModel)
    if lock and features.for_update_after_from:  # SQL Server: a table hint
        table, lock = f"{table} {lock}", ""
    return (
        f"SELECT {columns}, CASE WHEN EXISTS ({subscribed}) THEN 1 ELSE 0 END, "  # noqa: S608
        f"({run_uri}) FROM {table} "
        f"WHERE {_name(RegisteredModel, 'workspace')} = %s "
        f"AND {_name(RegisteredModel, 'name')} = %s {lock}"
    ).rstrip()


def model_lock(*, workspace_id: int, name: str, event: Event, run_id: str) -> LockedModel | None:
    """The registered model ``name`` of the workspace, row-locked until the transaction ends
    (creators of its versions queue here), or None when there is none; with whether an active
    webhook of the workspace subscribes to ``event`` and the artifact URI of its run ``run_id``
    (``""``: none asked)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_sql(),
            [
                workspace_id,
                event.entity,
                event.action,
                WEBHOOK_STATUS_ACTIVE,
                workspace_id,
                run_id,
                workspace_id,
                name,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    fields = _model_fields()
    model = RegisteredModel.from_db(connection.alias, fields, row[: len(fields)])
    is_subscribed, run_artifact_uri = row[len(fields) :]
    return LockedModel(model, bool(is_subscribed), run_artifact_uri)


@cache
def _counter_sql() -> str:
    version, updated = (
        _name(RegisteredModel, "last_version"),
        _name(RegisteredModel, "last_updated_timestamp"),
    )
    pk, workspace = _name(RegisteredModel, "id"), _name(RegisteredModel, "workspace")
    return (
        f"UPDATE {_table(RegisteredModel)} SET {version} = %s, {updated} = %s "  # noqa: S608
        f"WHERE {pk} = %s AND {workspace} = %s"
    )


def model_counter_save(*, workspace_id: int, model: RegisteredModel) -> None:
    """Write the model's ``last_version`` and ``last_updated_timestamp`` (by id)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _counter_sql(),
            [model.last_version, model.last_updated_timestamp, model.pk, workspace_id],
        )


def _version_fields() -> list[str]:
    return [field.attname for field in ModelVersion._meta.concrete_fields]


@cache
def _latest_sql_parts() -> tuple[str, str]:
    """The latest-versions statement around its ``IN (...)`` list of model ids."""
    columns = [_name(ModelVersion, field) for field in _version_fields()]
    model, stage, version = (
        _name(ModelVersion, field) for field in ("registered_model", "current_stage", "version")
    )
    ranked_columns = ", ".join(f"ranked.{column}" for column in columns)
    has_tags = (
        f"SELECT 1 FROM {_table(ModelVersionTag)} t "  # noqa: S608
        f"WHERE {_name(ModelVersionTag, 'workspace', 't')} = %s "
        f"AND {_name(ModelVersionTag, 'model_version', 't')} = ranked.{_name(ModelVersion, 'id')}"
    )
    head = (
        f"SELECT {ranked_columns}, CASE WHEN EXISTS ({has_tags}) THEN 1 ELSE 0 END "  # noqa: S608
        f"FROM (SELECT {', '.join(columns)}, ROW_NUMBER() OVER (PARTITION BY {model}, {stage} "
        f"ORDER BY {version} DESC) AS stage_rank FROM {_table(ModelVersion)} "
        f"WHERE {_name(ModelVersion, 'workspace')} = %s AND {model} IN ("
    )
    tail = f")) ranked WHERE ranked.stage_rank = 1 ORDER BY ranked.{model}, ranked.{version}"
    return head, tail


def latest_versions(*, workspace_id: int, model_ids: Sequence[int]) -> list[ModelVersion]:
    """The newest version in each stage of each of the workspace's registered models
    ``model_ids``, ordered by model id and version number; each says in ``has_tags`` whether
    it has tags (see ``registry.selectors.details.versions_flagged``)."""
    if not model_ids:
        return []
    head, tail = _latest_sql_parts()
    marks = ", ".join(["%s"] * len(model_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"{head}{marks}{tail}", [workspace_id, workspace_id, *model_ids])
        rows = cursor.fetchall()
    fields = _version_fields()
    versions = []
    for row in rows:
        version = ModelVersion.from_db(connection.alias, fields, row[: len(fields)])
        version.has_tags = bool(row[len(fields)])  # type: ignore[attr-defined]  # see HAS_TAGS
        versions.append(version)
    return versions


class OwnRowsSQL(RawSQL):
    """An SQL fragment about each row of the query it is used in: ``{row}`` stands for that
    query's own table (as aliased), so a correlated subquery can name the row's columns, its
    workspace included, and needs no workspace of its own."""

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        row = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"({self.sql.format(row=row)})", tuple(self.params)


@cache
def _own_rows_exist_sql(child: type[Model], owner: str) -> str:
    parent = child._meta.get_field(owner).related_model
    assert isinstance(parent, type), owner
    assert issubclass(parent, Model), owner
    workspace, owner_id = _name(child, "workspace", "c"), _name(child, owner, "c")
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {_table(child)} c "  # noqa: S608
        f"WHERE {workspace} = {{row}}.{_name(parent, 'workspace')} "
        f"AND {owner_id} = {{row}}.{_name(parent, 'id')}) THEN 1 ELSE 0 END"
    )


def own_rows_exist(child: type[Model], owner: str) -> OwnRowsSQL:
    """1 when the row has ``child`` rows (its tags, its aliases: ``owner`` is their foreign
    key to the row's model) in its own workspace, else 0; to annotate the row's query."""
    return OwnRowsSQL(_own_rows_exist_sql(child, owner), (), output_field=IntegerField())


class _NotPrompt(OwnRowsSQL):
    """``NOT EXISTS`` a ``mlflow.prompt.is_prompt`` tag whose value is ``true`` (compared as
    the search language compares text, exactly, on every database) for the row's model; the
    SQL has ``{row}`` and ``{is_true}`` (the tag value comparison) to fill in."""

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        row = compiler.quote_name_unless_alias(compiler.query.base_table)
        # both tag tables name the column "value"; only a quoted column name is formatted in
        column = _name(ModelVersionTag, "value", "t")
        value = RawSQL(column, (), output_field=CharField())  # noqa: S611
        is_true, true_params = compiler.compile(TextEqual(value, "true"))
        sql = self.sql.format(row=row, is_true=is_true)
        return f"({sql})", (*self.params, *true_params)


@cache
def _not_prompt_model_sql() -> str:
    tag = RegisteredModelTag
    return (
        f"NOT EXISTS (SELECT 1 FROM {_table(tag)} t "  # noqa: S608
        f"WHERE {_name(tag, 'workspace', 't')} = {{row}}.{_name(RegisteredModel, 'workspace')} "
        f"AND {_name(tag, 'registered_model', 't')} = {{row}}.{_name(RegisteredModel, 'id')} "
        f"AND {_name(tag, 'key', 't')} = %s AND {{is_true}})"
    )


def not_prompt_model() -> OwnRowsSQL:
    """A condition on registered models: not a prompt (no ``mlflow.prompt.is_prompt`` tag
    with the value ``true``)."""
    return _NotPrompt(_not_prompt_model_sql(), (IS_PROMPT_TAG_KEY,), output_field=BooleanField())


@cache
def _not_prompt_version_sql() -> str:
    tag, version = ModelVersionTag, ModelVersion
    return (
        f"NOT EXISTS (SELECT 1 FROM {_table(tag)} t INNER JOIN {_table(version)} v "  # noqa: S608
        f"ON {_name(tag, 'model_version', 't')} = {_name(version, 'id', 'v')} "
        f"WHERE {_name(tag, 'workspace', 't')} = {{row}}.{_name(version, 'workspace')} "
        f"AND {_name(version, 'registered_model', 'v')} = "
        f"{{row}}.{_name(version, 'registered_model')} "
        f"AND {_name(tag, 'key', 't')} = %s AND {{is_true}})"
    )


def not_prompt_version() -> OwnRowsSQL:
    """A condition on model versions: their model is not a prompt, i.e. none of its versions
    has a ``mlflow.prompt.is_prompt`` tag with the value ``true`` (as in the reference)."""
    return _NotPrompt(_not_prompt_version_sql(), (IS_PROMPT_TAG_KEY,), output_field=BooleanField())
