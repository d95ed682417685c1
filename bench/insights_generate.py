"""Generate insights benchmark data into the configured database (DATABASE_URL, PostgreSQL).

One workspace, slug ``insights-bench`` (replaced if it exists; a fresh database is
quickest), with over the year up to now, by default:
1,000,000 chat messages from 50,000 chat users (200 flows, 200,000 flow triggers) and
1,000,000 contact events from 100,000 contacts (500 rooms, 50 booking pages, 20,000
recordings). Chat and event rows are made in PostgreSQL (INSERT ... SELECT over
generate_series, seeded), so 10,000,000 take minutes; each INSERT is one statement, so the
rollup triggers add its rows in one pass. Users' first-seen times are the earliest of their
items, as ingestion would set them. Then VACUUM ANALYZE.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_insights_bench \\
        .venv/bin/python manage.py migrate
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_insights_bench \\
        .venv/bin/python bench/insights_generate.py [--messages N] [--events N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from rooms.models import Contact, Room  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

SLUG = "insights-bench"
YEAR = timedelta(days=365)
PHRASES = [
    "hi",
    "hello",
    "text me",
    "help",
    "pricing",
    "book a demo",
    "talk to sales",
    "/start",
    "yes",
    "no",
    "thanks",
    "convert a timestamp",
] + [f"question {n}" for n in range(500)]


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def run(sql: str, params: dict, what: str) -> None:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.rowcount
    log(f"{what}: {count:,} rows in {time.perf_counter() - began:.1f} s")


# A random index into an array of n ids: uniform, skewed (u**3: a few ids take most rows,
# yet every id gets some) or Pareto-like (alpha 1 or 1.1: a long tail).
UNIFORM = "1 + floor(random() * {n})::int"
CHAT_SQL = {
    "flows": """
        INSERT INTO insights_flow (workspace_id, upstream_id, name)
        SELECT %(ws)s, md5('flow' || n), 'Flow ' || n FROM generate_series(0, 199) AS n""",
    "users": """
        INSERT INTO insights_chatuser (workspace_id, upstream_id, name, first_seen_at)
        SELECT %(ws)s, 'u' || n, 'User ' || n, %(end)s
        FROM generate_series(0, %(users)s - 1) AS n""",
    "messages": """
        WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM insights_chatuser
                   WHERE workspace_id = %(ws)s),
             f AS (SELECT array_agg(id ORDER BY id) AS ids FROM insights_flow
                   WHERE workspace_id = %(ws)s),
             g AS (SELECT n, random() AS r_user, random() AS r_direction, random() AS r_text,
                          random() AS r_at, random() AS r_flow, random() AS r_which
                   FROM generate_series(0, %(messages)s - 1) AS n)
        INSERT INTO insights_chatmessage
            (workspace_id, client_id, user_id, direction, text, sent_at, flow_id)
        SELECT %(ws)s, 'm' || g.n, u.ids[1 + floor(%(users)s * g.r_user ^ 3)::int],
               CASE WHEN g.r_direction < 0.55 THEN 'received' ELSE 'sent' END,
               CASE WHEN g.n %% 7 = 0 THEN upper(t.phrase)
                    WHEN g.n %% 11 = 0 THEN ' ' || t.phrase || ' ' ELSE t.phrase END,
               %(start)s + g.r_at * interval '365 days',
               CASE WHEN g.r_flow < 0.3 THEN f.ids[1 + floor(g.r_which * 200)::int] END
        FROM g CROSS JOIN u CROSS JOIN f
        CROSS JOIN LATERAL (SELECT (%(phrases)s::text[])[
            1 + floor(g.r_text * cardinality(%(phrases)s::text[]))::int] AS phrase) AS t""",
    "triggers": """
        WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM insights_chatuser
                   WHERE workspace_id = %(ws)s),
             f AS (SELECT array_agg(id ORDER BY id) AS ids FROM insights_flow
                   WHERE workspace_id = %(ws)s),
             g AS (SELECT n, random() AS r_user, random() AS r_flow, random() AS r_at
                   FROM generate_series(0, %(messages)s / 5 - 1) AS n)
        INSERT INTO insights_flowtrigger (workspace_id, client_id, flow_id, user_id, at)
        SELECT %(ws)s, 't' || g.n,
               f.ids[1 + (floor(1 / (1 - g.r_flow))::bigint %% 200)::int],
               u.ids[1 + floor(g.r_user * %(users)s)::int],
               %(start)s + g.r_at * interval '365 days'
        FROM g CROSS JOIN u CROSS JOIN f""",
    "first seen": """
        UPDATE insights_chatuser AS cu SET first_seen_at = s.first_at
        FROM (SELECT user_id, min(at) AS first_at FROM (
                SELECT user_id, sent_at AS at FROM insights_chatmessage
                WHERE workspace_id = %(ws)s
                UNION ALL
                SELECT user_id, at FROM insights_flowtrigger WHERE workspace_id = %(ws)s
              ) AS items GROUP BY user_id) AS s
        WHERE cu.id = s.user_id""",
}
EVENTS_SQL = {
    "booking pages": """
        INSERT INTO insights_bookingpage (workspace_id, title, slug, created_at)
        SELECT %(ws)s, 'Booking page ' || n, 'page-' || n, %(start)s
        FROM generate_series(0, 49) AS n""",
    "contact events": """
        WITH r AS (SELECT array_agg(id ORDER BY slug) AS ids FROM rooms_room
                   WHERE workspace_id = %(ws)s),
             p AS (SELECT array_agg(id ORDER BY id) AS ids FROM insights_bookingpage
                   WHERE workspace_id = %(ws)s),
             c AS (SELECT array_agg(id ORDER BY email) AS ids FROM rooms_contact
                   WHERE workspace_id = %(ws)s),
             g AS (SELECT n, random() AS r_kind, random() AS r_target, random() AS r_other,
                          random() AS r_contact, random() AS r_at
                   FROM generate_series(0, %(events)s - 1) AS n)
        INSERT INTO insights_contactevent (workspace_id, client_id, event_type, contact_id,
                                           room_id, booking_page_id, occurred_at, metadata)
        SELECT %(ws)s, 'e' || g.n,
               CASE WHEN g.r_kind < 0.6 THEN 'room_join' WHEN g.r_kind < 0.9 THEN 'booking'
                    ELSE (ARRAY['page_view', 'webinar_registration', 'email_click'])[
                        1 + floor(g.r_other * 3)::int] END,
               c.ids[1 + floor(g.r_contact * cardinality(c.ids))::int],
               CASE WHEN g.r_kind < 0.6 THEN r.ids[1 + (floor((1 - g.r_target) ^ (-1 / 1.1))
                   ::bigint %% cardinality(r.ids))::int] END,
               CASE WHEN g.r_kind >= 0.6 AND g.r_kind < 0.9 THEN p.ids[1 + (floor(
                   (1 - g.r_target) ^ (-1 / 1.1))::bigint %% cardinality(p.ids))::int] END,
               %(start)s + g.r_at * interval '365 days', '{}'
        FROM g CROSS JOIN r CROSS JOIN p CROSS JOIN c""",
    "recordings": """
        WITH r AS (SELECT array_agg(id ORDER BY slug) AS ids FROM rooms_room
                   WHERE workspace_id = %(ws)s)
        INSERT INTO insights_recording
            (workspace_id, client_id, room_id, duration_seconds, status, created_at)
        SELECT %(ws)s, 'r' || n, r.ids[1 + floor(random() * cardinality(r.ids))::int],
               60 + floor(random() * 7141)::int, 'available',
               %(start)s + random() * interval '365 days'
        FROM generate_series(0, %(recordings)s - 1) AS n CROSS JOIN r""",
}
TABLES = [
    "insights_chatuser",
    "insights_chatmessage",
    "insights_flowtrigger",
    "insights_flow",
    "insights_contactevent",
    "insights_recording",
    "insights_bookingpage",
    "insights_chatcount",
    "insights_chatactiveuser",
    "insights_eventdaycount",
    "insights_eventtargetcount",
    "rooms_contact",
    "rooms_room",
]


def rooms_and_contacts(ws: int, rng: random.Random, start: datetime, contacts: int) -> None:
    """Rooms and contacts are the rooms app's models: created through the ORM, so that the
    generator follows their schema."""
    Room.objects.bulk_create(
        Room(workspace_id=ws, title=f"Room {n}", slug=f"room-{n:03}", is_template=n % 50 == 0)
        for n in range(500)
    )
    log("rooms_room: 500 rows")
    Contact.objects.bulk_create(
        (
            Contact(
                workspace_id=ws,
                email=f"buyer{n}@customer.example",
                name=f"Buyer {n}",
                created_at=start + timedelta(seconds=rng.random() * YEAR.total_seconds()),
            )
            for n in range(contacts)
        ),
        batch_size=5000,
    )
    log(f"rooms_contact: {contacts:,} rows")


def generate(
    *, messages: int, users: int, events: int, contacts: int, recordings: int, seed: int
) -> Workspace:
    """Replace the bench workspace with freshly generated data; the workspace."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - YEAR
    Workspace.objects.filter(slug=SLUG).delete()
    workspace = Workspace.objects.create(name="Insights bench", slug=SLUG)
    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    log(f"workspace {SLUG} (id {workspace.pk}); data from {span}")
    params = {
        "ws": workspace.pk,
        "start": start,
        "end": end,
        "messages": messages,
        "users": users,
        "events": events,
        "recordings": recordings,
        "phrases": PHRASES,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 2**31 % 1])
    for what, sql in CHAT_SQL.items():
        run(sql, params, what)
    rooms_and_contacts(workspace.pk, random.Random(seed), start, contacts)
    for what, sql in EVENTS_SQL.items():
        run(sql, params, what)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log("vacuumed and analyzed")
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The insights bench needs PostgreSQL (set DATABASE_URL).")
    generate(
        messages=args.messages,
        users=args.users,
        events=args.events,
        contacts=args.contacts,
        recordings=args.recordings,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
