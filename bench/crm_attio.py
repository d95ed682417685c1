"""Attio against the fake Attio on loopback: reconciliation reads and write-back calls.

Puts N deals in the fake (owners and contacts shared among them), runs the "deals" stream
three times (the first import, a run with nothing changed, a full refresh), then links a room
to each deal and runs "write_back" three times (every room new, a share of rooms changed,
nothing changed). Attio has no batch update, so write-back costs one PATCH per changed room;
the table shows, per run, the records counted, upstream calls, SQL queries and wall time.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_attio_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/crm_attio.py [--deals 10000] [--changed 0.1]

It migrates the database it is given and deletes its own workspace afterwards. The budget is
lifted so the figures are flowsync's and the fake's; at Attio's default budget of 20 calls/s
the write-back calls alone take calls / 20 seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402

from rooms.models import Contact, Room, Visit  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.attio import FakeAttio  # noqa: E402
from workspaces.models import Workspace  # noqa: E402


def measure(conn: Connection, fake: FakeAttio, stream: str, label: str, **options) -> tuple:
    calls = len(fake.requests)
    queries: list[int] = []
    started = time.perf_counter()
    with db.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        run: SyncRun = stream_run(connection=conn, stream=stream, **options)
    elapsed = time.perf_counter() - started
    counts = f"{run.created}/{run.updated}/{run.unchanged}/{run.failed}"
    return (
        f"{stream}: {label}",
        run.status,
        counts,
        len(fake.requests) - calls,
        len(queries),
        elapsed,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.1)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    fake = FakeAttio().start()
    workspace = Workspace.objects.create(name="Attio bench", slug=f"attio-bench-{os.getpid()}")
    try:
        conn = connection_create(
            workspace=workspace,
            provider=Connection.Provider.ATTIO,
            name="Fake Attio",
            base_url=fake.url,
            api_key=fake.api_key,
            options={"requests_per_second": 100000, "burst": 100000},
        )
        owners = [fake.add_member(f"ae{n}@example.com") for n in range(20)]
        people = [fake.add_person(f"buyer{n}@example.com") for n in range(500)]
        deals = [
            fake.add_deal(
                name=f"Deal {n}", amount=str(n), owner=owners[n % 20], people=(people[n % 500],)
            )
            for n in range(args.deals)
        ]
        rows = [
            measure(conn, fake, "deals", "first import"),
            measure(conn, fake, "deals", "nothing changed"),
            measure(conn, fake, "deals", "full refresh", full_refresh=True),
        ]
        rooms = Room.objects.bulk_create(
            Room(workspace=workspace, title=f"Room {n}", slug=f"room-{n}", attio_deal_id=deal)
            for n, deal in enumerate(deals)
        )
        rows.append(measure(conn, fake, "write_back", "all new"))
        contact = Contact.objects.create(workspace=workspace, email="viewer@example.com")
        changed = rooms[:: round(1 / args.changed)] if args.changed else []
        Visit.objects.bulk_create(
            Visit(workspace=workspace, room=room, contact=contact) for room in changed
        )
        rows.append(measure(conn, fake, "write_back", f"{len(changed)} changed"))
        rows.append(measure(conn, fake, "write_back", "nothing changed"))

        print(f"deals: {args.deals} (20 owners, 500 contacts); rooms linked: {len(rooms)}")
        print(f"{'run':<34}{'status':<11}{'c/u/same/failed':>18}{'calls':>7}{'SQL':>7}{'s':>8}")
        for label, status, counts, calls, queries, seconds in rows:
            print(f"{label:<34}{status:<11}{counts:>18}{calls:>7}{queries:>7}{seconds:>8.2f}")
    finally:
        workspace.delete()
        fake.stop()


if __name__ == "__main__":
    main()
