"""Video-rooms platform pull against the fake on loopback, beside a plain fetch-and-store
baseline.

Fills the fake with the rooms, booking pages and recordings of its ``populate`` and N contacts
(0-8 events each, about 4), then alternates, ``--pairs`` times: flowsync's ``workspace``
stream (a full sync into an empty workspace, as a worker runs it; creating the workspaces and
deleting them afterwards is outside the timings) and a baseline that GETs the same lists and
event lists with ``requests`` and COPYs each raw JSON record into a table. Prints medians of
wall and CPU seconds (this process: the pull and the fake) and their ratios (the harness of
bench/baseline.py), and upstream calls per 1,000 contact events. ``--pool-size`` sets the
connection's ``pool_size`` (event reads in flight at once; the baseline reads one at a time).

    createdb -h 127.0.0.1 -U postgres fs_video_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_video_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/sync_video.py [--contacts 250] [--pairs 5] [--pool-size 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from bench.baseline import alternate, copy_json, print_pair  # noqa: E402
from insights.models import ContactEvent  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.video_platform import FakeVideoPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

LIMIT = 100


def fresh_connection(fake: FakeVideoPlatform, index: int, pool_size: int | None) -> Connection:
    """A connection to the fake in a workspace of its own (set up outside the timings);
    ``pool_size``: its event reads in flight at once (None: SYNC_FETCH_POOL_SIZE)."""
    workspace = Workspace.objects.create(name=f"video bench {index}", slug=f"vb-{index}")
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.VIDEO_PLATFORM,
        name="Fake Nexus",
        base_url=fake.url,
        credentials={"api_key": fake.api_key},
        options={
            "workspace_id": fake.workspace_id,
            "requests_per_second": 100000,
            "burst": 100000,
            **({"pool_size": pool_size} if pool_size else {}),
        },
    )


def flowsync_pull(conn: Connection) -> tuple[int, int]:
    """A full sync into an empty workspace, as a worker runs it: (upstream calls, contact
    events stored)."""
    run = stream_run(connection=conn, stream="workspace", full_refresh=True)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run.upstream_calls, ContactEvent.objects.filter(workspace=conn.workspace).count()


def baseline_pull(fake: FakeVideoPlatform) -> tuple[int, int]:
    """The same calls with plain requests (rooms, booking pages, recording pages, contact
    pages, the events of each contact that has any), each raw record COPYed as one jsonb row;
    returns (upstream calls, events stored)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fake.api_key}"
    workspace = f"{fake.url}/api/workspaces/{fake.workspace_id}"
    calls, rows, events = 0, [], 0

    def get(url: str, key: str, **params) -> list:
        nonlocal calls
        calls += 1
        return session.get(url, params=params).json()[key]

    def paged(url: str, key: str) -> list:
        records, page = [], 1
        while True:
            chunk = get(url, key, page=page, limit=LIMIT)
            records += chunk
            if len(chunk) < LIMIT:
                return records
            page += 1

    rows += get(f"{workspace}/rooms", "rooms")
    rows += get(f"{workspace}/booking-pages", "booking_pages")
    rows += paged(f"{fake.url}/api/dashboard/recordings", "recordings")
    for contact in paged(f"{workspace}/contacts", "contacts"):
        rows.append(contact)
        if contact["event_count"]:
            contact_events = paged(f"{workspace}/contacts/{contact['id']}/events", "events")
            events += len(contact_events)
            rows += contact_events
    session.close()
    copy_json((json.dumps(row) for row in rows), "bench_video")
    return calls, events


def measure(contacts: int, pairs: int, pool_size: int | None = None) -> dict:
    """Per side: medians over ``pairs`` alternating runs (bench.baseline.alternate), upstream
    calls and contact events stored."""
    fake = FakeVideoPlatform().start()
    fake.populate(contacts)
    connections = [fresh_connection(fake, index, pool_size) for index in range(pairs)]
    try:
        measured = alternate(
            {
                "flowsync": lambda index: flowsync_pull(connections[index]),
                "baseline": lambda index: baseline_pull(fake),
            },
            pairs,
        )
    finally:
        fake.stop()
        Workspace.objects.filter(pk__in=[conn.workspace_id for conn in connections]).delete()
    for figures in measured.values():
        figures["calls"], figures["events"] = figures.pop("result")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=250)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=None)
    args = parser.parse_args()
    result = measure(args.contacts, args.pairs, args.pool_size)
    events = result["flowsync"]["events"]
    pool = args.pool_size or "default"
    title = f"{args.contacts} contacts, {events} contact events, pool {pool}"
    print_pair(title, result, args.pairs)
    for side, figures in result.items():
        per_thousand = figures["calls"] * 1000 / max(figures["events"], 1)
        print(f"  {side}: {per_thousand:.0f} upstream calls per 1,000 contact events")


if __name__ == "__main__":
    main()
