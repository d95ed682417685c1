"""Rooms pull against the fake rooms platform on loopback, beside a plain fetch-and-store
baseline (bench/baseline.py: the same calls with requests, raw JSON COPYed).

Fills the fake with N rooms whose analytics have sections, pages, action items, assignees,
viewership and engagements (``FakeRoomsPlatform.populate``), pulls them once untimed and
ANALYZEs the rooms tables (``analyzed_after``), then, each as ``--pairs`` alternating pairs
with medians of wall and CPU seconds and their ratios:

1. a full sync into an empty workspace (the rooms stream in this process, as a worker runs it)
   beside the baseline;
2. the same again into the synced workspace (every room unchanged) beside the baseline;
3. with ``--latency`` seconds added to every fake answer, a full sync with the pool of
   analytics calls at 4 beside the same at 1;

then SQL queries and upstream calls per room, and, in a pass with tracemalloc on (slower, so
not timed), the peak memory traced during a full sync.

    createdb -h 127.0.0.1 -U postgres fs_rooms_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/sync_rooms.py [--rooms 1000] [--pairs 5] [--latency 0.05]

It migrates the database it is given and deletes its own workspaces afterwards. The fake runs
in this process (a thread), so its JSON encoding shares the CPU and the traced memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.baseline import alternate, print_pair, rooms_baseline  # noqa: E402
from rooms.models import Engagement, Room, Section, Viewership  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.rooms_platform import INTERNAL, FakeRoomsPlatform  # noqa: E402
from workspaces.models import Membership, User, Workspace  # noqa: E402


def workspace_with_connection(
    fake: FakeRoomsPlatform, name: str, *, pool_size: int | None = None
) -> Connection:
    workspace = Workspace.objects.create(name=name, slug=f"{name}-{os.getpid()}")
    for email, full_name, _ in INTERNAL[:2]:
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        Membership.objects.create(user=user, workspace=workspace)
    options: dict = {"requests_per_second": 100000, "burst": 100000}
    if pool_size:
        options["pool_size"] = pool_size
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Fake Flowla",
        base_url=fake.url,
        api_key=fake.api_key,
        options=options,
    )


def full_sync(conn: Connection) -> SyncRun:
    run = stream_run(connection=conn, stream="rooms", full_refresh=True)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run


def counted_sync(conn: Connection) -> tuple[SyncRun, int]:
    """A full sync and its SQL queries."""
    queries = []
    with connection.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        run = full_sync(conn)
    return run, len(queries)


def analyzed_after(warm_up) -> None:
    """Run ``warm_up`` (not timed), then ANALYZE the tables a pull writes, as autovacuum does on
    a production database as they fill: without statistics (a scratch database, or a server
    running without autovacuum) the planner guesses, and a page's statements may scan whole
    tables instead of the page's rows."""
    warm_up()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in apps.get_app_config("rooms").get_models():
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log growing in memory
    fake = FakeRoomsPlatform().start()
    fake.populate(args.rooms)
    connections: list[Connection] = []

    def fresh(name: str, **options) -> Connection:
        connections.append(workspace_with_connection(fake, f"{name}-{len(connections)}", **options))
        return connections[-1]

    try:
        n, pairs = args.rooms, args.pairs
        analyzed_after(lambda: full_sync(fresh("rooms-bench-warm-up")))
        empty = [fresh("rooms-bench") for _ in range(pairs)]
        measured = alternate(
            {
                "flowsync": lambda i: full_sync(empty[i]),
                "baseline": lambda i: rooms_baseline(fake.url, fake.api_key),
            },
            pairs,
        )
        print_pair(f"rooms full sync, {n} rooms", measured, pairs)
        synced = empty[0]
        measured = alternate(
            {
                "flowsync": lambda i: full_sync(synced),
                "baseline": lambda i: rooms_baseline(fake.url, fake.api_key),
            },
            pairs,
        )
        unchanged = measured["flowsync"]["result"]
        assert unchanged.unchanged == n, (unchanged.created, unchanged.updated)
        print_pair(f"rooms sync again, all {n} unchanged", measured, pairs)

        fake.delay = args.latency
        pooled = [fresh("rooms-bench-pool4", pool_size=4) for _ in range(pairs)]
        single = [fresh("rooms-bench-pool1", pool_size=1) for _ in range(pairs)]
        measured = alternate(
            {"pool 4": lambda i: full_sync(pooled[i]), "pool 1": lambda i: full_sync(single[i])},
            pairs,
        )
        fake.delay = 0.0
        print_pair(
            f"rooms full sync, {n} rooms, {args.latency * 1000:.0f} ms per answer", measured, pairs
        )

        run, queries = counted_sync(fresh("rooms-bench-count"))
        workspace = run.connection.workspace
        print(
            f"{n} upstream rooms: {Section.objects.filter(workspace=workspace).count()} sections, "
            f"{Viewership.objects.filter(workspace=workspace).count()} viewership rows, "
            f"{Engagement.objects.filter(workspace=workspace).count()} engagements; "
            f"{Room.objects.filter(workspace=workspace).count()} rooms stored; "
            f"{queries / n:.2f} SQL queries and {run.upstream_calls / n:.3f} upstream calls "
            "per room"
        )

        memory_conn = fresh("rooms-bench-memory")
        tracemalloc.start()
        full_sync(memory_conn)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak traced memory of a full sync (tracemalloc): {peak / 2**20:.1f} MiB")
    finally:
        for conn in connections:
            conn.workspace.delete()
        fake.stop()


if __name__ == "__main__":
    main()
