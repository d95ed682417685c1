"""Rooms pull against the fake rooms platform on loopback.

Fills the fake with N rooms whose analytics have sections, pages, action items, assignees,
viewership and engagements (``FakeRoomsPlatform.populate``), then runs the rooms stream in this
process the way a worker would: a full sync into an empty workspace, then the same again
(every room unchanged). Prints rooms per second, SQL queries and upstream calls per room, and,
in a third pass into a fresh workspace with tracemalloc on (slower, so not timed), the peak
memory traced during a full sync.

    createdb -h 127.0.0.1 -U postgres fs_rooms_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/sync_rooms.py [--rooms 10000]

It migrates the database it is given and deletes its own workspaces afterwards. The fake runs
in this process (a thread), so its JSON encoding shares the CPU and the traced memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from rooms.models import Engagement, Room, Section, Viewership  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.rooms_platform import INTERNAL, FakeRoomsPlatform  # noqa: E402
from workspaces.models import Membership, User, Workspace  # noqa: E402


def workspace_with_connection(fake: FakeRoomsPlatform, name: str) -> Connection:
    workspace = Workspace.objects.create(name=name, slug=f"{name}-{os.getpid()}")
    for email, full_name, _ in INTERNAL[:2]:
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        Membership.objects.create(user=user, workspace=workspace)
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Fake Flowla",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 100000, "burst": 100000},
    )


def timed_run(conn: Connection) -> tuple[SyncRun, float, float, int]:
    """The run, its wall-clock and CPU seconds (this process: the pull and the fake), and its
    SQL queries. On a shared machine the CPU time is the steadier figure."""
    queries = []
    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        run = stream_run(connection=conn, stream="rooms", full_refresh=True)
    return run, time.perf_counter() - started, time.process_time() - cpu, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=10000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log growing in memory
    fake = FakeRoomsPlatform().start()
    fake.populate(args.rooms)
    connections = []
    try:
        conn = workspace_with_connection(fake, "rooms-bench")
        connections.append(conn)
        rows = []
        for label in ("full sync", "again, unchanged"):
            run, seconds, cpu, queries = timed_run(conn)
            assert run.status == SyncRun.Status.SUCCEEDED, run.errors
            rows.append((label, run, seconds, cpu, queries))

        memory_conn = workspace_with_connection(fake, "rooms-bench-memory")
        connections.append(memory_conn)
        tracemalloc.start()
        stream_run(connection=memory_conn, stream="rooms", full_refresh=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        n = args.rooms
        workspace = conn.workspace
        print(
            f"{n} upstream rooms: {Section.objects.filter(workspace=workspace).count()} sections, "
            f"{Viewership.objects.filter(workspace=workspace).count()} viewership rows, "
            f"{Engagement.objects.filter(workspace=workspace).count()} engagements; "
            f"{Room.objects.filter(workspace=workspace).count()} rooms stored"
        )
        header = (
            "run",
            "seconds",
            "rooms/s",
            "CPU s",
            "rooms/CPU s",
            "SQL/room",
            "calls/room",
            "created",
            "updated",
            "unchanged",
        )
        print(" | ".join(f"{h:>12}" for h in header))
        for label, run, seconds, cpu, queries in rows:
            cells = (
                label,
                f"{seconds:.1f}",
                f"{n / seconds:.0f}",
                f"{cpu:.1f}",
                f"{n / cpu:.0f}",
                f"{queries / n:.3f}",
                f"{run.upstream_calls / n:.3f}",
                run.created,
                run.updated,
                run.unchanged,
            )
            print(" | ".join(f"{cell:>12}" for cell in cells))
        print(f"peak traced memory of a full sync (tracemalloc): {peak / 2**20:.1f} MiB")
    finally:
        for conn in connections:
            conn.workspace.delete()
        fake.stop()


if __name__ == "__main__":
    main()
