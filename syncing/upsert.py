"""Set-based writes shared by the pulls: a page of rows goes to the database as one parameter
and each table takes one statement, however many rows the page has.

``Staged`` holds a page's rows (tuples) with a Django field per column for its type. It is sent
as one JSON array of arrays and read back inside the statement as a typed relation ``s``
(PostgreSQL: ``jsonb_array_elements`` and a cast per column; SQLite: ``json_each`` and
``json_extract``). That is the staging table: no model instance is built, no temporary table
is created (no catalog churn per page, the same SQL on both databases), and a statement may
read the same page twice (the rows absent from it, then the rows in it).

``upsert`` is one ``INSERT … SELECT … FROM s [JOIN …] ON CONFLICT (…) DO UPDATE SET … WHERE
(a column differs) RETURNING …``: new rows are inserted, known rows are updated only when a
value differs (an unchanged row gets no new row version and keeps its ``updated_at``), and
``touch`` columns (``updated_at``) are set in the same statement. Parents are found by joins
in the statement (their natural key, e.g. the upstream id), so no ids travel back and forth.
Columns the caller does not give take the model field's default (a new UUID primary key is made
by the database). ``delete_absent`` deletes, within a scope, the rows the page no longer has.

The conflict target must name a unique index: for a partial one (the upstream-id constraints
hold only for rows that have one) its predicate is given as ``conflict_where``; an expression
index (a contact's ``lower(email)``) is named by its expressions. Rows that collide on the
conflict target within one page are an error (ON CONFLICT cannot update a row twice).

Both databases flowsync runs on are covered, selected by ``connection.vendor``: PostgreSQL
(the suite, production) and SQLite 3.39 or later (``bin/flowsync start``; it needs ``IS
DISTINCT FROM``). On SQLite the values are prepared by their fields first (UUIDs as hex,
datetimes as UTC text), as Django stores them, and a partial index's predicate must be given
with the text its migration wrote (SQLite compares it as written).

Measured (``bench/sync_rooms.py``, ``docs/benchmarks.md``): a full rooms pull of 1,000 rooms
spends about half the CPU it spent with ``bulk_create``/``bulk_update``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from django.db import connection, models
from django.utils import timezone


@dataclass
class Staged:
    """A page's rows: ``columns`` names each tuple position and gives its field (its type)."""

    columns: Mapping[str, models.Field]
    rows: Sequence[tuple]

    def relation(self, alias: str = "s") -> tuple[str, list]:
        """The rows as a subquery with typed columns, aliased ``alias``, and its parameter."""
        quote = connection.ops.quote_name
        postgres = connection.vendor == "postgresql"
        select = []
        for index, (name, field) in enumerate(self.columns.items()):
            if postgres:
                select.append(f"CAST(e ->> {index} AS {_cast_type(field)}) AS {quote(name)}")
            else:
                select.append(f"json_extract(e.value, '$[{index}]') AS {quote(name)}")
        source = (
            "jsonb_array_elements(CAST(%s AS jsonb)) AS e" if postgres else "json_each(%s) AS e"
        )
        return f"(SELECT {', '.join(select)} FROM {source}) AS {alias}", [self._document()]

    def _document(self) -> str:
        if connection.vendor == "postgresql":
            return msgspec.json.encode(self.rows).decode()
        fields = list(self.columns.values())
        return msgspec.json.encode(
            [
                [_prep(field, value) for field, value in zip(fields, row, strict=True)]
                for row in self.rows
            ]
        ).decode()


def upsert(
    model: type[models.Model],
    staged: Staged,
    *,
    values: Mapping[str, str],
    constants: Mapping[str, Any] | None = None,
    conflict: Sequence[str] = (),
    conflict_where: str = "",
    update: Mapping[str, str] | Sequence[str] = (),
    touch: Sequence[str] = (),
    joins: str = "",
    params: Sequence[Any] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert the staged rows into ``model``'s table; a row that hits the ``conflict`` target
    updates the ``update`` columns of the row there when one of them differs.

    ``values``: column -> SQL over ``s`` (and ``joins``) for each inserted row; columns left out
    take their field's default. ``update``: columns set from the proposed row (``EXCLUDED``), or
    column -> SQL that may also read the current row by the table's name; with none, a
    conflicting row is left alone (``DO NOTHING``). ``touch``: columns set to now on insert and
    on update, not compared. ``params`` are those of ``joins``. Returns the ``returning`` SQL of
    each row inserted or updated (not of the rows left alone), as the database gives it (on
    SQLite a UUID is its hex text).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    now = models.DateTimeField().get_db_prep_value(timezone.now(), connection)
    fields = {field.column: field for field in model._meta.concrete_fields}
    columns = dict(values) | {column: "%s" for column in [*(constants or {}), *touch]}
    column_params = {column: [now] for column in touch} | {
        column: [_prep(fields[column], value)] for column, value in (constants or {}).items()
    }
    for field in model._meta.concrete_fields:
        if field.column in columns:
            continue
        if field.primary_key and isinstance(field, models.UUIDField):
            columns[field.column] = _new_uuid()
        elif not field.primary_key and (field.has_default() or not field.null):
            columns[field.column] = "%s"
            column_params[field.column] = [_prep(fields[field.column], field.get_default())]
    source, source_params = staged.relation()
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(column) for column in columns)}) "
        f"SELECT {', '.join(columns.values())} FROM {source} {joins} WHERE TRUE"
    )
    sql_params = [p for column in columns for p in column_params.get(column, [])]
    sql_params += [*source_params, *params]
    updates = dict(update) if isinstance(update, Mapping) else {c: "" for c in update}
    updates = {c: expr or f"EXCLUDED.{quote(c)}" for c, expr in updates.items()}
    target = f" ({', '.join(conflict)})" + (f" WHERE {conflict_where}" if conflict_where else "")
    if not updates:
        sql += f" ON CONFLICT{target if conflict else ''} DO NOTHING"
    else:
        assignments = [f"{quote(c)} = {expr}" for c, expr in updates.items()]
        assignments += [f"{quote(c)} = %s" for c in touch]
        differs = " OR ".join(
            f"{table}.{quote(c)} IS DISTINCT FROM ({expr})" for c, expr in updates.items()
        )
        sql += f" ON CONFLICT{target} DO UPDATE SET {', '.join(assignments)} WHERE {differs}"
        sql_params += [now] * len(touch)
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        return cursor.fetchall() if returning else []


def delete_absent(
    model: type[models.Model],
    staged: Staged,
    *,
    scope: str,
    scope_params: Sequence[Any] = (),
    match: str,
    joins: str = "",
    params: Sequence[Any] = (),
) -> int:
    """Delete the rows of ``model`` within ``scope`` that no staged row ``match``es (both SQL
    over the table, by its name; ``match`` also over ``s`` and ``joins``, whose ``params`` come
    first). For tables nothing refers to (no cascade
    here); give ``match`` an equality to hash on, the anti-join is then linear."""
    table = connection.ops.quote_name(model._meta.db_table)
    source, source_params = staged.relation()
    sql = (
        f"DELETE FROM {table} WHERE ({scope}) AND NOT EXISTS "
        f"(SELECT 1 FROM {source} {joins} WHERE {match})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*scope_params, *source_params, *params])
        return cursor.rowcount


def any_of(field: models.Field, values: Iterable[Any]) -> tuple[str, list]:
    """SQL to put after a column for ``IN`` these values, and its one parameter (PostgreSQL:
    ``= ANY`` of an array, which the planner estimates well; SQLite: a JSON array)."""
    if connection.vendor == "postgresql":
        return f"= ANY(CAST(%s AS {_cast_type(field)}[]))", [list(values)]
    source, params = Staged({"value": field}, [(value,) for value in values]).relation("v")
    return f"IN (SELECT v.value FROM {source})", params


def _cast_type(field: models.Field) -> str:
    """PostgreSQL type to cast a JSON text to: ``text`` for any character column, so that a
    value too long fails on the insert (an explicit cast to varchar(n) would truncate it)."""
    db_type = field.db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


def _prep(field: models.Field, value: Any) -> Any:
    return None if value is None else field.get_db_prep_value(value, connection)


def _new_uuid() -> str:
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"  # how Django stores a UUID on SQLite: 32 hex digits
