"""Median latency of the insights endpoints beside hand-written SQL producing the same figures.

Run after bench/insights_generate.py, against the same database:

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_insights_bench \\
        .venv/bin/python bench/insights_bench.py [--runs 7] [--top-lists]

Endpoints are called in-process through Django's test client with an API key (so the figure
includes authentication, the view, serialization and JSON rendering); they read the rollups.
The anchor is hand-written SQL over the raw rows, run on the same connection with PostgreSQL's
JIT on and with it off, its result turned into the endpoint's JSON shape; the figures are
compared and any difference is reported. The three are run alternately, ``--runs`` times
each after a warm-up, and the medians printed with the endpoint's ratio to each anchor.
The ranges end at the last full hour of the generated data; ``start``/``end`` are passed
without a zone, so ``offset`` moves the units (+330 exercises the cut hours read from raw rows).
The top lists read raw rows on both sides; ``--top-lists`` adds them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["API_THROTTLE_RATE"] = "1000000/min"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from config.formats import iso_utc  # noqa: E402
from insights.workspace_analytics import activity_window  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

SLUG = "insights-bench"
CASES = [("hour", timedelta(days=7)), ("day", timedelta(days=90)), ("month", timedelta(days=365))]
OFFSETS = [0, -480, 330]
LABEL = {"hour": 'YYYY-MM-DD"T"HH24', "day": "YYYY-MM-DD", "month": "YYYY-MM"}

BUCKETS_SQL = """
WITH series AS (
    -- An integer series, so that PostgreSQL knows how many units there are.
    SELECT date_trunc(%(unit)s, %(start)s::timestamptz AT TIME ZONE 'UTC' + %(shift)s::interval)
           + n * ('1 ' || %(unit)s)::interval AS b
    FROM generate_series(0, %(units)s - 1) AS n
), m AS (
    SELECT date_trunc(%(unit)s, sent_at AT TIME ZONE 'UTC' + %(shift)s::interval) AS b,
           count(DISTINCT user_id) FILTER (WHERE direction = 'received') AS active,
           count(*) FILTER (WHERE direction = 'received') AS received,
           count(*) FILTER (WHERE direction = 'sent') AS sent
    FROM insights_chatmessage
    WHERE workspace_id = %(ws)s AND sent_at >= %(start)s AND sent_at < %(end)s
    GROUP BY 1
), t AS (
    SELECT date_trunc(%(unit)s, at AT TIME ZONE 'UTC' + %(shift)s::interval) AS b, count(*) AS n
    FROM insights_flowtrigger
    WHERE workspace_id = %(ws)s AND at >= %(start)s AND at < %(end)s
    GROUP BY 1
), u AS (
    SELECT date_trunc(%(unit)s, first_seen_at AT TIME ZONE 'UTC' + %(shift)s::interval) AS b,
           count(*) AS n
    FROM insights_chatuser
    WHERE workspace_id = %(ws)s AND first_seen_at >= %(start)s AND first_seen_at < %(end)s
    GROUP BY 1
), before AS (
    SELECT count(*) AS n FROM insights_chatuser
    WHERE workspace_id = %(ws)s AND first_seen_at < %(start)s
)
SELECT to_char(s.b, %(label)s), s.b - %(shift)s::interval,
       coalesce(m.active, 0),
       (before.n + sum(coalesce(u.n, 0)) OVER (ORDER BY s.b))::bigint,
       coalesce(u.n, 0), coalesce(t.n, 0), coalesce(m.received, 0), coalesce(m.sent, 0)
FROM series s CROSS JOIN before
LEFT JOIN m USING (b) LEFT JOIN t USING (b) LEFT JOIN u USING (b)
ORDER BY s.b
"""
STATS_SQL = """
SELECT m.active, u.total, u.new, t.n, m.received, m.sent
FROM (SELECT count(DISTINCT user_id) FILTER (WHERE direction = 'received') AS active,
             count(*) FILTER (WHERE direction = 'received') AS received,
             count(*) FILTER (WHERE direction = 'sent') AS sent
      FROM insights_chatmessage
      WHERE workspace_id = %(ws)s AND sent_at >= %(start)s AND sent_at < %(end)s) m,
     (SELECT count(*) AS n FROM insights_flowtrigger
      WHERE workspace_id = %(ws)s AND at >= %(start)s AND at < %(end)s) t,
     (SELECT count(*) AS total, count(*) FILTER (WHERE first_seen_at >= %(start)s) AS new
      FROM insights_chatuser
      WHERE workspace_id = %(ws)s AND first_seen_at < %(end)s) u
"""
TOP_MESSAGES_SQL = """
SELECT lower(trim(text)) AS k, count(*) FROM insights_chatmessage
WHERE workspace_id = %(ws)s AND direction = 'received'
  AND sent_at >= %(start)s AND sent_at < %(end)s AND lower(trim(text)) <> ''
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10
"""
TOP_FLOWS_SQL = """
SELECT f.upstream_id, f.name, c.n
FROM (SELECT flow_id, count(*) AS n FROM insights_flowtrigger
      WHERE workspace_id = %(ws)s AND at >= %(start)s AND at < %(end)s GROUP BY 1) c
JOIN insights_flow f ON f.id = c.flow_id
ORDER BY c.n DESC, f.name, f.upstream_id LIMIT 10
"""
WORKSPACE_SQL = {
    "kpis": """
        SELECT (SELECT count(*) FROM rooms_room WHERE workspace_id = %(ws)s AND NOT is_template),
               (SELECT count(*) FROM insights_recording WHERE workspace_id = %(ws)s),
               (SELECT coalesce(sum(duration_seconds), 0) FROM insights_recording
                WHERE workspace_id = %(ws)s),
               (SELECT count(*) FROM rooms_contact WHERE workspace_id = %(ws)s),
               (SELECT count(*) FROM insights_contactevent
                WHERE workspace_id = %(ws)s AND event_type = 'booking')""",
    "activityTimeline": """
        SELECT (occurred_at AT TIME ZONE 'UTC')::date,
               count(*) FILTER (WHERE event_type = 'booking'),
               count(*) FILTER (WHERE event_type = 'room_join')
        FROM insights_contactevent
        WHERE workspace_id = %(ws)s AND occurred_at >= %(start)s AND occurred_at < %(end)s
          AND event_type IN ('booking', 'room_join')
        GROUP BY 1 ORDER BY 1""",
    "eventTypeBreakdown": """
        SELECT event_type, count(*) FROM insights_contactevent WHERE workspace_id = %(ws)s
        GROUP BY 1 ORDER BY 2 DESC, 1""",
    "topBookingPages": """
        SELECT p.id, p.title, p.slug, c.n
        FROM (SELECT booking_page_id, count(*) AS n FROM insights_contactevent
              WHERE workspace_id = %(ws)s AND event_type = 'booking'
                AND booking_page_id IS NOT NULL
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5) c
        JOIN insights_bookingpage p ON p.id = c.booking_page_id ORDER BY c.n DESC, p.id""",
    "newContactsTimeline": """
        SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM rooms_contact
        WHERE workspace_id = %(ws)s AND created_at >= %(start)s AND created_at < %(end)s
        GROUP BY 1 ORDER BY 1""",
    "topRooms": """
        SELECT r.id, r.slug, r.title, c.n
        FROM (SELECT room_id, count(*) AS n FROM insights_contactevent
              WHERE workspace_id = %(ws)s AND event_type = 'room_join' AND room_id IS NOT NULL
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5) c
        JOIN rooms_room r ON r.id = c.room_id ORDER BY c.n DESC, r.id""",
}


def query(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def figures(row) -> dict:
    names = ["active_users", "total_users", "new_users", "triggers"]
    return dict(zip([*names, "received_messages", "sent_messages"], row, strict=True))


def insights_by_sql(params: dict) -> dict:
    metrics = [
        {"_id": label, "_timestamp": iso_utc(start.replace(tzinfo=UTC)), **figures(rest)}
        for label, start, *rest in query(BUCKETS_SQL, params)
    ]
    (stats,) = query(STATS_SQL, params)
    return {"stats": [{"_id": None, **figures(stats)}], "metrics": metrics}


def top_messages_by_sql(params: dict) -> list:
    return [{"_id": text, "count": n} for text, n in query(TOP_MESSAGES_SQL, params)]


def top_flows_by_sql(params: dict) -> list:
    return [
        {"_id": {"id": flow_id, "name": name}, "count": n}
        for flow_id, name, n in query(TOP_FLOWS_SQL, params)
    ]


def workspace_by_sql(params: dict) -> dict:
    rows = {name: query(sql, params) for name, sql in WORKSPACE_SQL.items()}
    kpi_names = ["rooms", "recordings", "recordingDuration", "contacts", "bookings"]
    return {
        "kpis": dict(zip(kpi_names, rows["kpis"][0], strict=True)),
        "activityTimeline": [
            {"date": d.isoformat(), "bookings": b, "room_joins": j}
            for d, b, j in rows["activityTimeline"]
        ],
        "eventTypeBreakdown": [{"type": t, "count": n} for t, n in rows["eventTypeBreakdown"]],
        "topBookingPages": [
            {"id": i, "title": title, "slug": slug, "count": n}
            for i, title, slug, n in rows["topBookingPages"]
        ],
        "newContactsTimeline": [
            {"date": d.isoformat(), "count": n} for d, n in rows["newContactsTimeline"]
        ],
        "topRooms": [
            {"id": str(i), "name": slug, "display_name": title, "count": n}
            for i, slug, title, n in rows["topRooms"]
        ],
    }


def jit(setting: str):
    """``call`` run with PostgreSQL's JIT ``on`` or ``off`` for this connection."""

    def run(call):
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {setting}")
            try:
                return call()
            finally:
                cursor.execute("RESET jit")

    return run


def medians_ms(calls: list, runs: int) -> tuple[list[float], list]:
    """Each call once (warm-up, and the result to compare), then all of them in turn ``runs``
    times: the median milliseconds of each, and the first results."""
    results = [call() for call in calls]
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for call, spent in zip(calls, times, strict=True):
            began = time.perf_counter()
            call()
            spent.append((time.perf_counter() - began) * 1000)
    return [statistics.median(spent) for spent in times], results


def units_between(start: datetime, end: datetime, unit: str, offset: int) -> int:
    """How many units of ``unit`` at ``offset`` overlap [start, end)."""
    first, last = (m + timedelta(minutes=offset) for m in (start, end - timedelta.resolution))
    if unit == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    if unit == "day":
        return (last.date() - first.date()).days + 1
    return (
        int(
            (
                last.replace(minute=0, second=0, microsecond=0)
                - first.replace(minute=0, second=0, microsecond=0)
            ).total_seconds()
            // 3600
        )
        + 1
    )


def local(moment: datetime, offset: int) -> str:
    """``moment`` as a zone-less local date-time at ``offset``, as a client would send it."""
    return (moment + timedelta(minutes=offset)).replace(tzinfo=None).isoformat()


def row_line(path, case, offset, api_ms, on_ms, off_ms) -> str:
    return (
        f"| `{path}` | {case} | {offset} | {api_ms:.1f} | {on_ms:.1f} | {off_ms:.1f}"
        f" | {api_ms / on_ms:.2f} | {api_ms / off_ms:.2f} |"
    )


def measure(*, runs: int, top_lists: bool = False, on_row=None) -> dict:
    """Time every case; ``{"rows": [(endpoint, case, offset, ms, sql ms jit on, sql ms jit
    off)], "mismatches": [...], "end": datetime}``."""
    workspace = Workspace.objects.get(slug=SLUG)
    key = api_key_create(workspace=workspace, name="bench").plaintext
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="localhost")
    (last,) = query(
        "SELECT max(sent_at) FROM insights_chatmessage WHERE workspace_id = %(ws)s",
        {"ws": workspace.pk},
    )[0]
    end = last.replace(minute=0, second=0, microsecond=0)

    def endpoint(path: str, params: dict):
        def call():
            response = client.get(path, params)
            assert response.status_code == 200, response.content
            return response.json()

        return call

    def compare(path: str, case: str, offset, api_call, sql_call) -> None:
        (api_ms, on_ms, off_ms), (api_body, *sql_bodies) = medians_ms(
            [api_call, lambda: jit("on")(sql_call), lambda: jit("off")(sql_call)], runs
        )
        rows.append((path, case, offset, api_ms, on_ms, off_ms))
        if on_row:
            on_row(rows[-1])
        if any(api_body != body for body in sql_bodies):
            mismatches.append((path, case, offset))

    rows: list[tuple] = []
    mismatches: list[tuple] = []
    paths = [("/api/insights", insights_by_sql)]
    if top_lists:
        paths += [
            ("/api/insights/top_messages", top_messages_by_sql),
            ("/api/insights/top_flows", top_flows_by_sql),
        ]
    for unit, span in CASES:
        for offset in OFFSETS:
            http = {"offset": offset, "start": local(end - span, offset), "end": local(end, offset)}
            sql = {
                "ws": workspace.pk,
                "start": end - span,
                "end": end,
                "shift": f"{offset} minutes",
                "unit": unit,
                "label": LABEL[unit],
                "units": units_between(end - span, end, unit, offset),
            }
            for path, by_sql in paths:
                extra = {"unit": unit} if path == "/api/insights" else {}
                case = f"{unit} over {span.days} d" if extra else f"{span.days} d"
                api_call = endpoint(path, {**http, **extra})
                compare(path, case, offset, api_call, lambda f=by_sql, p=sql: f(p))

    window_start, window_end = activity_window(datetime.now(UTC).date())
    params = {"ws": workspace.pk, "start": window_start, "end": window_end}
    compare(
        "/api/workspaces/{id}/analytics",
        "lifetime + 30 d",
        "-",
        endpoint(f"/api/workspaces/{workspace.pk}/analytics", {}),
        lambda: workspace_by_sql(params),
    )
    return {"rows": rows, "mismatches": mismatches, "end": end}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top-lists", action="store_true")
    args = parser.parse_args()
    (messages,) = query("SELECT count(*) FROM insights_chatmessage", {})[0]
    print(f"\nworkspace {SLUG}: {messages:,} messages; median of {args.runs} alternating runs\n")
    print(
        "| endpoint | range | offset | endpoint ms | SQL ms, JIT on | SQL ms, JIT off "
        "| ratio (JIT on) | ratio (JIT off) |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|", flush=True)
    result = measure(
        runs=args.runs,
        top_lists=args.top_lists,
        on_row=lambda row: print(row_line(*row), flush=True),
    )
    print(f"\nranges end {result['end']:%Y-%m-%d %H:%M} UTC")
    mismatches = result["mismatches"]
    print("\nsame figures from both: " + ("yes" if not mismatches else f"NO: {mismatches}"))


if __name__ == "__main__":
    main()
