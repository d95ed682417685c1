"""Generate insights benchmark data into the configured database (DATABASE_URL, PostgreSQL).

One workspace, slug ``insights-bench`` (replaced if it exists; a fresh database is
quickest), with over the year up to now:
1,000,000 chat messages from 50,000 chat users (200 flows, 200,000 flow triggers) and
1,000,000 contact events from 100,000 contacts (500 rooms, 50 booking pages, 20,000
recordings). Rows are written with COPY; users' first-seen times are the earliest of their
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
import uuid
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
OTHER_EVENT_TYPES = ["page_view", "webinar_registration", "email_click"]


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def copy_rows(table: str, columns: list[str], rows) -> int:
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    log(f"{table}: {count:,} rows")
    return count


def random_time(rng: random.Random, start: datetime) -> datetime:
    return start + timedelta(seconds=rng.random() * YEAR.total_seconds())


def next_ids(table: str, n: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def chat(ws: int, rng: random.Random, start: datetime, messages: int, users: int) -> None:
    flow_ids = next_ids("insights_flow", 200)
    copy_rows(
        "insights_flow",
        ["id", "workspace_id", "upstream_id", "name"],
        ((fid, ws, uuid.UUID(int=fid).hex[-24:], f"Flow {n}") for n, fid in enumerate(flow_ids)),
    )
    user_ids = next_ids("insights_chatuser", users)
    # Items first, so that each user's first-seen time is the earliest of its items.
    first_seen = dict.fromkeys(user_ids, start + YEAR)
    message_rows = []
    for n in range(messages):
        user = user_ids[int(users * rng.random() ** 3)]  # skewed, yet every user talks
        at = random_time(rng, start)
        first_seen[user] = min(first_seen[user], at)
        phrase = rng.choice(PHRASES)
        text = phrase.upper() if n % 7 == 0 else (f" {phrase} " if n % 11 == 0 else phrase)
        direction = "received" if rng.random() < 0.55 else "sent"
        flow = rng.choice(flow_ids) if rng.random() < 0.3 else None
        message_rows.append((ws, f"m{n}", user, direction, text, at, flow))
    trigger_rows = []
    for n in range(messages // 5):
        user = rng.choice(user_ids)
        at = random_time(rng, start)
        first_seen[user] = min(first_seen[user], at)
        flow = flow_ids[int(rng.paretovariate(1.0)) % len(flow_ids)]
        trigger_rows.append((ws, f"t{n}", flow, user, at))
    copy_rows(
        "insights_chatuser",
        ["id", "workspace_id", "upstream_id", "name", "first_seen_at"],
        ((uid, ws, f"u{uid}", f"User {uid}", seen) for uid, seen in first_seen.items()),
    )
    copy_rows(
        "insights_chatmessage",
        ["workspace_id", "client_id", "user_id", "direction", "text", "sent_at", "flow_id"],
        message_rows,
    )
    copy_rows(
        "insights_flowtrigger",
        ["workspace_id", "client_id", "flow_id", "user_id", "at"],
        trigger_rows,
    )


def workspace_activity(ws: int, rng: random.Random, start: datetime, events: int) -> None:
    # Rooms and contacts are the rooms app's models: created through the ORM, so that the
    # generator follows their schema.
    rooms = Room.objects.bulk_create(
        Room(workspace_id=ws, title=f"Room {n}", slug=f"room-{n}", is_template=n % 50 == 0)
        for n in range(500)
    )
    room_ids = [room.pk for room in rooms]
    log(f"rooms_room: {len(room_ids):,} rows")
    page_ids = next_ids("insights_bookingpage", 50)
    copy_rows(
        "insights_bookingpage",
        ["id", "workspace_id", "title", "slug", "created_at"],
        ((pid, ws, f"Booking page {n}", f"page-{n}", start) for n, pid in enumerate(page_ids)),
    )
    contacts = Contact.objects.bulk_create(
        (
            Contact(
                workspace_id=ws,
                email=f"buyer{n}@customer.example",
                name=f"Buyer {n}",
                created_at=random_time(rng, start),
            )
            for n in range(100_000)
        ),
        batch_size=5000,
    )
    contact_ids = [contact.pk for contact in contacts]
    log(f"rooms_contact: {len(contact_ids):,} rows")

    def event(n: int):
        draw = rng.random()
        room = page = None
        if draw < 0.6:
            kind, room = "room_join", room_ids[int(rng.paretovariate(1.1)) % len(room_ids)]
        elif draw < 0.9:
            kind, page = "booking", page_ids[int(rng.paretovariate(1.1)) % len(page_ids)]
        else:
            kind = rng.choice(OTHER_EVENT_TYPES)
        at = random_time(rng, start)
        return (ws, f"e{n}", kind, rng.choice(contact_ids), room, page, at, "{}")

    copy_rows(
        "insights_contactevent",
        [
            "workspace_id",
            "client_id",
            "event_type",
            "contact_id",
            "room_id",
            "booking_page_id",
            "occurred_at",
            "metadata",
        ],
        (event(n) for n in range(events)),
    )
    copy_rows(
        "insights_recording",
        ["workspace_id", "client_id", "room_id", "duration_seconds", "status", "created_at"],
        (
            (
                ws,
                f"r{n}",
                rng.choice(room_ids),
                rng.randint(60, 7200),
                "available",
                random_time(rng, start),
            )
            for n in range(20_000)
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The insights bench needs PostgreSQL (set DATABASE_URL).")

    rng = random.Random(args.seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - YEAR
    Workspace.objects.filter(slug=SLUG).delete()
    ws = Workspace.objects.create(name="Insights bench", slug=SLUG).pk
    log(f"workspace {SLUG} (id {ws}); data from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    chat(ws, rng, start, args.messages, args.users)
    workspace_activity(ws, rng, start, args.events)
    with connection.cursor() as cursor:
        for table in [
            "insights_chatuser",
            "insights_chatmessage",
            "insights_flowtrigger",
            "insights_flow",
            "insights_contactevent",
            "insights_recording",
            "insights_bookingpage",
            "rooms_contact",
            "rooms_room",
        ]:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log("vacuumed and analyzed")


if __name__ == "__main__":
    main()
