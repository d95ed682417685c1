"""Outbox delivery against the fake rooms platform on loopback.

Enqueues N room creations in one transaction, then delivers them in this process the way one
worker would (claim, handler, settle; retries due at once), and prints messages per second,
upstream calls and SQL queries per message, and how many rooms the fake ends with (must be N).
With ``--fault-rate`` that share of upstream requests fails (503, 429, or a response lost
after the write applied).

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_sync_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/sync_outbox.py [--messages 1000] [--fault-rate 0.2]

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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from syncing.models import Connection, OutboxMessage  # noqa: E402
from syncing.outbox import outbox_enqueue, outbox_message_deliver  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from tests.syncing.fakes import handlers  # noqa: E402
from tests.syncing.fakes.rooms_platform import FakeRoomsPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.SYNC_OUTBOX_BACKOFF_BASE = 0.0
    settings.SYNC_OUTBOX_MAX_ATTEMPTS = 20
    settings.SYNC_HTTP_BACKOFF_FACTOR = 0.0
    settings.SYNC_HTTP_BACKOFF_JITTER = 0.0
    handlers.register()
    fake = FakeRoomsPlatform().start()
    fake.fault_rate = args.fault_rate
    fake.fault_kinds = ("503", "429", "lost")
    fake.retry_after = 0
    workspace = Workspace.objects.create(name="Sync bench", slug=f"sync-bench-{os.getpid()}")
    try:
        conn = connection_create(
            workspace=workspace,
            provider=Connection.Provider.ROOMS_PLATFORM,
            name="Fake Flowla",
            base_url=fake.url,
            api_key=fake.api_key,
            options={"requests_per_second": 100000, "burst": 100000},
        )
        with transaction.atomic():
            for n in range(args.messages):
                outbox_enqueue(
                    connection=conn,
                    kind=handlers.CREATE,
                    payload={"title": f"Bench room {n}"},
                    object_ref=f"bench:{n}",
                )
        queries = []
        started = time.perf_counter()
        with connection.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
            while due := list(
                OutboxMessage.objects.filter(connection=conn)
                .deliverable(timezone.now())
                .values_list("pk", flat=True)
            ):
                for message_id in due:
                    outbox_message_deliver(message_id=message_id)
        elapsed = time.perf_counter() - started
        sent = OutboxMessage.objects.filter(connection=conn, status="sent").count()
        n = args.messages
        print(f"messages: {n}, fault rate {args.fault_rate:.0%} ({len(fake.faults_served)} faults)")
        print(f"delivered: {sent} in {elapsed:.2f} s = {sent / elapsed:.0f} messages/s")
        print(f"upstream calls per message: {len(fake.requests) / n:.2f}")
        print(f"SQL queries per message: {len(queries) / n:.2f}")
        print(f"rooms upstream: {len(fake.rooms)} (must equal {n})")
    finally:
        workspace.delete()
        fake.stop()


if __name__ == "__main__":
    main()
