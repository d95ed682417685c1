"""Chat figures read from the rollups (PostgreSQL), exact for any range, unit and offset.

The rollups hold UTC buckets (insights.models.ChatCount and ChatActiveUser, kept by triggers):
quarter hours, hours, days and months. A requested unit at an offset is cut here, in Python,
into pieces: the largest whole UTC buckets that fit inside the unit (and the range), quarter
hours where the unit starts or ends inside a UTC hour (offsets such as +330, -570 or +345:
every offset in use is a multiple of 15 minutes, so every local unit boundary is a quarter-hour
boundary in UTC), and, only where a bound cuts a quarter hour (an offset such as +7, or a range
bound at 10:07), short ``raw`` pieces read from the messages and triggers themselves. Every
piece carries the index of its unit, so the SQL only joins pieces to rows and groups by that
index: no time zone arithmetic in SQL, and a distinct count over the union of a unit's pieces
is exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from insights.periods import Series, next_unit_start

GRAINS = ("month", "day", "hour", "15min")  # largest first
QUARTER_HOUR = timedelta(minutes=15)
RAW = "raw"

PIECES = """
    pieces AS (
        SELECT * FROM unnest(%(grains)s::text[], %(starts)s::timestamptz[],
                             %(ends)s::timestamptz[], %(units)s::int[]) AS p (grain, s, e, u)
    )"""
# Each piece reads its rows through LATERAL (OFFSET 0 keeps the planner from flattening it
# into a hash join that compares every piece with every row): one index range scan a piece.
COUNTS_SQL = (
    "WITH"
    + PIECES
    + """
SELECT p.u, x.metric, sum(x.n)::bigint FROM pieces p CROSS JOIN LATERAL (
    SELECT c.metric, c.n FROM insights_chatcount c
    WHERE p.grain <> 'raw' AND c.workspace_id = %(ws)s AND c.grain = p.grain
        AND c.bucket >= p.s AND c.bucket < p.e
    UNION ALL
    SELECT m.direction, 1 FROM insights_chatmessage m
    WHERE p.grain = 'raw' AND m.workspace_id = %(ws)s AND m.sent_at >= p.s AND m.sent_at < p.e
    UNION ALL
    SELECT 'trigger', 1 FROM insights_flowtrigger t
    WHERE p.grain = 'raw' AND t.workspace_id = %(ws)s AND t.at >= p.s AND t.at < p.e
    OFFSET 0
) AS x
GROUP BY 1, 2
"""
)
# GROUPING SETS: per unit, and over the whole range (NULL unit) in the same pass.
ACTIVE_SQL = (
    "WITH"
    + PIECES
    + """
SELECT p.u, count(DISTINCT x.user_id) FROM pieces p CROSS JOIN LATERAL (
    SELECT a.user_id FROM insights_chatactiveuser a
    WHERE p.grain <> 'raw' AND a.workspace_id = %(ws)s AND a.grain = p.grain
        AND a.bucket >= p.s AND a.bucket < p.e
    UNION ALL
    SELECT m.user_id FROM insights_chatmessage m
    WHERE p.grain = 'raw' AND m.workspace_id = %(ws)s AND m.direction = 'received'
        AND m.sent_at >= p.s AND m.sent_at < p.e
    OFFSET 0
) AS x
GROUP BY GROUPING SETS ((p.u), ())
"""
)
METRIC_FIGURES = {"received": "received_messages", "sent": "sent_messages", "trigger": "triggers"}


def _is_bucket_start(moment: datetime, grain: str) -> bool:
    if moment.second or moment.microsecond or moment.minute % 15:
        return False
    if grain == "15min":
        return True
    if moment.minute:
        return False
    return grain == "hour" or (moment.hour == 0 and (grain == "day" or moment.day == 1))


def _bucket_end(moment: datetime, grain: str) -> datetime | None:
    """The end of the UTC bucket of ``grain`` starting at ``moment``; None if there is no such
    bucket start, or if the bucket ends past the calendar (December 9999)."""
    if not _is_bucket_start(moment, grain):
        return None
    try:
        return moment + QUARTER_HOUR if grain == "15min" else next_unit_start(moment, grain)
    except (OverflowError, ValueError):
        return None


def split_utc(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """``[start, end)`` (UTC) as consecutive pieces ``(grain, piece start, piece end)``: the
    largest whole UTC buckets that fit, ``raw`` where a bound cuts a quarter hour;
    neighbouring pieces of one grain merged."""
    pieces: list[tuple[str, datetime, datetime]] = []
    current = start
    while current < end:
        for grain in GRAINS:
            grain_end = _bucket_end(current, grain)
            if grain_end and grain_end <= end:
                break
        else:
            quarter = current.replace(
                minute=current.minute - current.minute % 15, second=0, microsecond=0
            )
            grain, grain_end = RAW, min(end, quarter + QUARTER_HOUR)
        if pieces and pieces[-1][0] == grain:
            pieces[-1] = (grain, pieces[-1][1], grain_end)
        else:
            pieces.append((grain, current, grain_end))
        current = grain_end
    return pieces


def series_pieces(series: Series) -> dict[str, list]:
    """Every unit of ``series`` (cut to the range) split into UTC pieces, as the four
    parallel arrays the SQL unnests."""
    arrays: dict[str, list] = {"grains": [], "starts": [], "ends": [], "units": []}
    for index, unit_start in enumerate(series.starts):
        unit_end = next_unit_start(unit_start, series.unit)
        start = max(unit_start, series.range.start).astimezone(UTC)
        end = min(unit_end, series.range.end).astimezone(UTC)
        for grain, piece_start, piece_end in split_utc(start, end):
            arrays["grains"].append(grain)
            arrays["starts"].append(piece_start)
            arrays["ends"].append(piece_end)
            arrays["units"].append(index)
    return arrays


def chat_figures(*, workspace_id: int, series: Series) -> tuple[dict[datetime, dict], dict]:
    """``received_messages``, ``sent_messages``, ``triggers`` and ``active_users`` for every
    unit with something in it (by unit start) and for the whole range. Two queries, after one
    that sets the transaction's planner settings."""
    params = {"ws": workspace_id, **series_pieces(series)}
    units: dict[datetime, dict] = {}
    totals = dict.fromkeys([*METRIC_FIGURES.values(), "active_users"], 0)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Until the request's transaction ends: the pieces' generic row estimates push these
        # small plans over JIT's cost thresholds (compiling costs more than running them), and
        # the distinct count's sort fits in memory instead of spilling at the default 4 MB.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)"
        )
        cursor.execute(COUNTS_SQL, params)
        for index, metric, n in cursor.fetchall():
            figure = METRIC_FIGURES[metric]
            unit = units.setdefault(series.starts[index], {})
            unit[figure] = unit.get(figure, 0) + n
            totals[figure] += n
        cursor.execute(ACTIVE_SQL, params)
        for index, n in cursor.fetchall():
            if index is None:
                totals["active_users"] = n
            else:
                units.setdefault(series.starts[index], {})["active_users"] = n
    return units, totals
