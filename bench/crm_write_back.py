"""CRM write-back to the fake HubSpot on loopback: N linked rooms, a share of them changed.

Creates N rooms each linked to a deal of the fake HubSpot, runs the "write_back" stream once
(every room is new to it), gives a share of the rooms a visit, and runs it again: the table
shows, per run, the rooms written, the upstream calls (batch updates of at most 100), the
largest batch, SQL queries and wall time. A third run with nothing changed must send nothing.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_hubspot_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/crm_write_back.py [--rooms 10000] [--changed 0.1]

It migrates the database it is given and deletes its own workspace afterwards.
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
from syncing.models import Connection  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.hubspot import BATCH_MAX, FakeHubSpot  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

UPDATE = "/crm/v3/objects/deals/batch/update"


def analyze(*tables: str) -> None:
    """Statistics for the bulk-loaded tables, as autovacuum keeps them on a live database
    (without them the planner takes 10,000 rooms for one and picks nested loops)."""
    with db.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def write_back(conn: Connection, fake: FakeHubSpot, label: str) -> tuple:
    batches, calls = len(fake.updates), len(fake.requests)
    queries: list[int] = []
    started = time.perf_counter()
    with db.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        run = stream_run(connection=conn, stream="write_back")
    elapsed = time.perf_counter() - started
    sent = fake.updates[batches:]
    return (
        label,
        run.status,
        sum(len(batch) for batch in sent),
        len(fake.requests) - calls,
        max((len(batch) for batch in sent), default=0),
        len(queries),
        elapsed,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.1)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    fake = FakeHubSpot().start()
    workspace = Workspace.objects.create(name="CRM bench", slug=f"crm-bench-{os.getpid()}")
    try:
        conn = connection_create(
            workspace=workspace,
            provider=Connection.Provider.HUBSPOT,
            name="Fake HubSpot",
            base_url=fake.url,
            credentials={"access_token": fake.api_key},
            options={"requests_per_second": 100000, "burst": 100000},
        )
        deals = [fake.add_deal()["id"] for _ in range(args.rooms)]
        rooms = Room.objects.bulk_create(
            Room(workspace=workspace, title=f"Room {n}", slug=f"room-{n}", hs_deal_id=deal)
            for n, deal in enumerate(deals)
        )
        analyze("rooms_room")
        rows = [write_back(conn, fake, "first (all new)")]
        contact = Contact.objects.create(workspace=workspace, email="viewer@example.com")
        changed = rooms[:: round(1 / args.changed)] if args.changed else []
        Visit.objects.bulk_create(
            Visit(workspace=workspace, room=room, contact=contact) for room in changed
        )
        analyze("rooms_visit", "syncing_crmwriteback")
        rows.append(write_back(conn, fake, f"{len(changed)} changed"))
        rows.append(write_back(conn, fake, "nothing changed"))

        print(f"rooms linked: {args.rooms}; batch limit {BATCH_MAX}")
        print(
            f"{'run':<18}{'status':<11}{'written':>8}{'calls':>7}{'max batch':>10}"
            f"{'SQL':>6}{'seconds':>9}"
        )
        for label, status, written, calls, largest, queries, seconds in rows:
            print(
                f"{label:<18}{status:<11}{written:>8}{calls:>7}{largest:>10}"
                f"{queries:>6}{seconds:>9.2f}"
            )
    finally:
        workspace.delete()
        fake.stop()


if __name__ == "__main__":
    main()
