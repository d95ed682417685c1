"""Chatbot platform pull against the fake on loopback, beside a plain fetch-and-store baseline.

Fills the fake with N conversations (2-6 messages each), then alternates, ``--pairs`` times:
flowsync's ``conversations`` stream (a full sync into an empty workspace, as a worker runs it;
creating the workspaces and deleting them afterwards is outside the timings) and a baseline
that GETs the same conversation pages and message lists with ``requests`` and COPYs each raw
JSON message into a table. Prints medians of wall and CPU seconds (this
process: the pull and the fake) and their ratios (the harness of bench/baseline.py), and
upstream calls per 1,000 conversations.

    createdb -h 127.0.0.1 -U postgres fs_chatbot_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_chatbot_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/sync_chatbot.py [--conversations 1000] [--pairs 5] [--pool-size 4]
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

from bench.baseline import alternate, copy_json, print_pair, timed  # noqa: E402
from insights.models import ChatMessage  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.chatbot_platform import FakeChatbotPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402


def fresh_connection(fake: FakeChatbotPlatform, index: int, pool_size: int | None) -> Connection:
    """A connection to the fake in a workspace of its own (set up outside the timings);
    ``pool_size``: message lists read at once (None: SYNC_FETCH_POOL_SIZE)."""
    workspace = Workspace.objects.create(name=f"chatbot bench {index}", slug=f"cb-{index}")
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.CHATBOT_PLATFORM,
        name="Fake Flow XO",
        base_url=fake.url,
        api_key=fake.api_key,
        options={
            "requests_per_second": 100000,
            "burst": 100000,
            **({"pool_size": pool_size} if pool_size else {}),
        },
    )


def flowsync_pull(conn: Connection) -> tuple[int, int]:
    """A full sync into an empty workspace, as a worker runs it: (upstream calls, messages
    stored)."""
    run = stream_run(connection=conn, stream="conversations", full_refresh=True)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run.upstream_calls, ChatMessage.objects.filter(workspace=conn.workspace).count()


def baseline_pull(fake: FakeChatbotPlatform) -> tuple[int, int]:
    """The same calls with plain requests, each raw message COPYed as one jsonb row."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fake.api_key}"
    calls, rows, skip = 0, [], 0
    while True:
        page = session.get(f"{fake.url}/api/conversations", params={"skip": skip, "limit": 100})
        calls += 1
        conversations = page.json()["conversations"]
        for conversation in conversations:
            url = f"{fake.url}/api/conversations/{conversation['id_url_encoded']}/messages"
            messages = session.get(url, params={"skip": 0, "limit": 1000}).json()
            calls += 1
            rows.extend(json.dumps(message) for message in messages)
        skip += len(conversations)
        if len(conversations) < 100:
            break
    session.close()
    return calls, copy_json(rows, "bench_messages")


def measure(conversations: int, pairs: int, pool_size: int | None = None) -> dict:
    """Per side: medians over ``pairs`` alternating runs (bench.baseline.alternate), upstream
    calls and messages stored; for flowsync also a second full refresh over the same data
    (``again``: its calls, unchanged conversations and wall seconds)."""
    fake = FakeChatbotPlatform().start()
    fake.populate(conversations)
    connections = [fresh_connection(fake, index, pool_size) for index in range(pairs)]
    try:
        measured = alternate(
            {
                "flowsync": lambda index: flowsync_pull(connections[index]),
                "baseline": lambda index: baseline_pull(fake),
            },
            pairs,
        )
        last = connections[-1]
        run, wall, _ = timed(
            lambda: stream_run(connection=last, stream="conversations", full_refresh=True)
        )
        again = {"calls": run.upstream_calls, "unchanged": run.unchanged, "wall": wall}
    finally:
        fake.stop()
        Workspace.objects.filter(pk__in=[conn.workspace_id for conn in connections]).delete()
    for figures in measured.values():
        figures["calls"], figures["messages"] = figures.pop("result")
    measured["flowsync"]["again"] = again
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--pool-size", type=int, help="default: SYNC_FETCH_POOL_SIZE")
    args = parser.parse_args()
    result = measure(args.conversations, args.pairs, args.pool_size)
    calls = {side: figures["calls"] for side, figures in result.items()}
    print_pair(
        f"{args.conversations} conversations, {result['flowsync']['messages']} messages",
        result,
        args.pairs,
    )
    for side, n in calls.items():
        print(
            f"  {side}: {n * 1000 / args.conversations:.0f} upstream calls per 1,000 conversations"
        )
    again = result["flowsync"]["again"]
    print(
        f"  flowsync again (a second full refresh, {again['unchanged']} conversations unchanged):"
        f" {again['calls'] * 1000 / args.conversations:.0f} upstream calls per 1,000"
        f" conversations, {again['wall']:.2f} s"
    )


if __name__ == "__main__":
    main()
