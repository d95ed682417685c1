"""Salesforce pull and write-back against the fake Salesforce org on loopback.

Pulls N opportunities (``queryAll`` pages of 2,000), pulls again with nothing changed, writes
N linked rooms back (sObject Collections of 200), then gives 10 % of the rooms a new
visit and writes back again. Prints, per step, the upstream calls, SQL queries, records
counted on the run and wall time. The last step should take about N / 10 / 200 calls.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_sync_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/crm_salesforce.py [--rooms 10000]

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
from django.test.utils import CaptureQueriesContext  # noqa: E402

from rooms.models import Room, Visit  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.salesforce import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeSalesforce,
    ago,
)
from workspaces.models import User, Workspace  # noqa: E402


def measure(label: str, connection: Connection, stream: str, rows: list) -> SyncRun:
    with CaptureQueriesContext(db) as queries:
        started = time.perf_counter()
        run = stream_run(connection=connection, stream=stream)
        seconds = time.perf_counter() - started
    assert run is not None
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    counted = f"{run.created}/{run.updated}/{run.unchanged}/{run.failed}"
    rows.append((label, run.upstream_calls, len(queries), counted, f"{seconds:.2f}"))
    return run


def analyze() -> None:
    """Planner statistics for the freshly bulk-inserted tables, as autovacuum would give a
    live database (without them PostgreSQL plans the room queries for empty tables)."""
    with db.cursor() as cursor:
        for table in ("rooms_room", "rooms_visit", "syncing_crmdeal", "syncing_crmwriteback"):
            cursor.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    fake = FakeSalesforce().start()
    workspace = Workspace.objects.create(name="SF bench", slug=f"sf-bench-{os.getpid()}")
    try:
        connection = Connection(
            workspace=workspace,
            provider=Connection.Provider.SALESFORCE,
            name="Fake Salesforce",
            base_url=fake.url,
            options={"requests_per_second": 100000, "burst": 100000},
        )
        connection.credentials = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
        connection.save()
        opportunities = [
            fake.add_opportunity(at=ago(hours=2, seconds=n % 3600)) for n in range(args.rooms)
        ]
        rooms = Room.objects.bulk_create(
            Room(
                workspace=workspace,
                title=f"Room {n}",
                slug=f"sf-bench-{n}",
                sf_opportunity_id=o["Id"],
            )
            for n, o in enumerate(opportunities)
        )
        analyze()
        rows: list[tuple] = []
        measure(f"pull {args.rooms} opportunities", connection, "deals", rows)
        measure("pull again, nothing changed", connection, "deals", rows)
        measure(f"write back {args.rooms} rooms", connection, "write_back", rows)
        measure("write back, nothing changed", connection, "write_back", rows)
        viewer = User.objects.create(email=f"sf-bench-{os.getpid()}@example.com")
        Visit.objects.bulk_create(
            Visit(workspace=workspace, room=room, user=viewer) for room in rooms[::10]
        )
        analyze()
        measure(f"write back, {len(rooms[::10])} changed (10 %)", connection, "write_back", rows)
    finally:
        Workspace.objects.filter(pk=workspace.pk).delete()
        User.objects.filter(email=f"sf-bench-{os.getpid()}@example.com").delete()
        fake.stop()

    header = ("step", "upstream calls", "SQL queries", "created/updated/unchanged/failed", "s")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
