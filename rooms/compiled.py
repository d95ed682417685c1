"""Hot reads whose SQL is compiled once per process, then run with each request's parameters.

Django builds and compiles a queryset on every call. For a read whose shape never changes and
that runs on every request, that is most of the request: a room's detail (two joins, six CRM
deal subqueries, three formatted times) took about 3.5 ms of CPU to build and compile against
0.2 ms to run (docs/benchmarks.md). ``CompiledValues`` builds such a ``values()`` queryset once
with stand-in parameters, keeps its SQL, and afterwards only puts the request's values where the
stand-ins were. Rows come back exactly as ``values()`` returns them (Django's converters
applied), so the queryset stays the single description of the read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.db import connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple
    # (position in params, parameter name, whether the driver is given the UUID's hex).
    slots: tuple[tuple[int, str, bool], ...]
    names: tuple[str, ...]
    converters: dict
    compiler: object
    alias: str


class CompiledValues:
    """``build(**params)`` returns a ``values()`` queryset; ``stand_ins`` give each parameter a
    value of its type that nothing else in the statement equals. ``rows(**params)`` is then
    ``list(build(**params))`` without building or compiling anything after the first call."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins):
        self._build = build
        self._stand_ins = stand_ins
        self._statement: _Statement | None = None

    def rows(self, **params) -> list[dict]:
        names = self._compiled().names
        return [dict(zip(names, row, strict=True)) for row in self.tuples(**params)]

    def tuples(self, **params) -> list[tuple]:
        """The rows as tuples, as ``values_list()`` returns them."""
        statement = self._compiled()
        values = list(statement.params)
        for position, name, as_hex in statement.slots:
            values[position] = params[name].hex if as_hex else params[name]
        with connections[statement.alias].cursor() as cursor:
            cursor.execute(statement.sql, values)
            rows = cursor.fetchall()
        if statement.converters:
            rows = statement.compiler.apply_converters(rows, statement.converters)
            return [tuple(row) for row in rows]
        return rows

    def _compiled(self) -> _Statement:
        if self._statement is None:
            self._statement = self._compile(self._build(**self._stand_ins))
        return self._statement

    def _compile(self, queryset: QuerySet) -> _Statement:
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots = []
        for position, param in enumerate(params):
            for name, stand_in in self._stand_ins.items():
                if param == stand_in:
                    slots.append((position, name, False))
                elif isinstance(stand_in, UUID) and param == stand_in.hex:
                    slots.append((position, name, True))
        missing = set(self._stand_ins) - {name for _, name, _ in slots}
        if missing:
            raise ValueError(f"Parameters not found in the statement: {sorted(missing)}")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        return _Statement(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            # As ValuesIterable names a row's columns.
            names=tuple(query.selected)
            if query.selected
            else (*query.extra_select, *query.values_select, *query.annotation_select),
            converters=compiler.get_converters(fields),
            compiler=compiler,
            alias=queryset.db,
        )
