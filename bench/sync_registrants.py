"""A full sync of N webinar registrants from the fake webinar platform on loopback.

The fake holds ``--sessions`` upcoming sessions with ``--registrants`` registrants each
(answers, names, registration times). The ``webinars`` stream runs in this process, the way
one worker runs it, three times:

1. full refresh into an empty workspace: registrants per second, CPU time of this process
   (the stream and the fake; PostgreSQL's is not in it), SQL queries per 1,000 registrants,
   upstream calls;
2. full refresh again: every row must be counted unchanged, nothing written;
3. full refresh into a second empty workspace under tracemalloc: peak Python memory of the
   run (the fake's stored state is allocated before tracing starts; the JSON pages it
   encodes for the run are traced, since it serves from a thread of this process).

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_sync_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/sync_registrants.py [--sessions 20] [--registrants 5000]

It migrates the database it is given and deletes its own workspaces afterwards.
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

from events.models import Registrant  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402


def fake_with(sessions: int, registrants: int) -> FakeWebinarPlatform:
    fake = FakeWebinarPlatform()
    for s in range(sessions):
        session = fake.add_session(period="future", title=f"Bench webinar {s}")
        session["questions"] = ["Company"]
        for n in range(registrants):
            fake.add_registrant(
                session["token"],
                email=f"person{n}.s{s}@bench.example",
                firstName=f"Person{n}",
                lastName="Bench",
                registeredAt=f"2026-11-{1 + n % 28:02d}T10:{n % 60:02d}:00.000Z",
                answers={"Company": f"Company {n % 500}"},
            )
    return fake.start()


def sync(fake: FakeWebinarPlatform, workspace: Workspace) -> tuple[SyncRun, float, float, int, int]:
    conn = Connection.objects.filter(workspace=workspace).first() or connection_create(
        workspace=workspace,
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="Fake FLOW",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 100000, "burst": 100000},
    )
    queries = []
    calls_before = len(fake.requests)
    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        run = stream_run(connection=conn, stream="webinars", full_refresh=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return run, elapsed, cpu, len(queries), len(fake.requests) - calls_before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--registrants", type=int, default=5000)
    args = parser.parse_args()
    total = args.sessions * args.registrants

    call_command("migrate", verbosity=0)
    # A worker runs without DEBUG: no log of every query's SQL (it would hold every page's
    # INSERT text in memory and show up in the peak).
    settings.DEBUG = False
    fake = fake_with(args.sessions, args.registrants)
    pid = os.getpid()
    first = Workspace.objects.create(name="Pull bench", slug=f"pull-bench-{pid}")
    second = Workspace.objects.create(name="Pull bench 2", slug=f"pull-bench-2-{pid}")
    try:
        full, full_s, full_cpu, full_q, full_calls = sync(fake, first)
        again, again_s, again_cpu, again_q, again_calls = sync(fake, first)
        tracemalloc.start()
        traced, *_ = sync(fake, second)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        stored = Registrant.objects.filter(session__event__workspace=first).count()
        print(f"registrants: {total} ({args.sessions} sessions x {args.registrants})")
        print(
            "| run | status | wall s | registrants/s | process CPU s | SQL per 1,000 "
            "| upstream calls | counts |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for name, run, seconds, cpu, queries, calls in (
            ("full sync", full, full_s, full_cpu, full_q, full_calls),
            ("second full sync", again, again_s, again_cpu, again_q, again_calls),
        ):
            counts = f"{run.created} created, {run.updated} updated, {run.unchanged} unchanged"
            print(
                f"| {name} | {run.status} | {seconds:.1f} | {total / seconds:,.0f} | {cpu:.1f} "
                f"| {queries / total * 1000:.1f} | {calls} | {counts}, {run.failed} failed |"
            )
        print(f"peak traced memory of a full sync: {peak / 2**20:.1f} MiB ({traced.status})")
        print(f"registrants stored: {stored} (must equal {total})")
    finally:
        first.delete()
        second.delete()
        fake.stop()


if __name__ == "__main__":
    main()
