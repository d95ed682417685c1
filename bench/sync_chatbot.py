"""Chatbot platform pull against the fake on loopback, beside a plain fetch-and-store baseline.

Fills the fake with N conversations (2-6 messages each), then alternates, ``--pairs`` times:
flowsync's ``conversations`` stream (a full sync into a fresh workspace, as a worker runs it)
and a baseline that GETs the same conversation pages and message lists with ``requests`` and
COPYs each raw JSON message into a table. Prints medians of wall and CPU seconds (this
process: the pull and the fake), their ratios, and upstream calls per 1,000 conversations.

    createdb -h 127.0.0.1 -U postgres fs_chatbot_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_chatbot_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/sync_chatbot.py [--conversations 1000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

import requests  # noqa: E402
from django.db import connection  # noqa: E402

from insights.models import ChatMessage  # noqa: E402
from syncing.models import Connection, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.chatbot_platform import FakeChatbotPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402


def flowsync_pull(fake: FakeChatbotPlatform, index: int) -> tuple[int, int]:
    """A full sync into a fresh workspace: (upstream calls, messages stored)."""
    workspace = Workspace.objects.create(name=f"chatbot bench {index}", slug=f"cb-{index}")
    try:
        conn = connection_create(
            workspace=workspace,
            provider=Connection.Provider.CHATBOT_PLATFORM,
            name="Fake Flow XO",
            base_url=fake.url,
            api_key=fake.api_key,
            options={"requests_per_second": 100000, "burst": 100000},
        )
        run = stream_run(connection=conn, stream="conversations", full_refresh=True)
        assert run.status == SyncRun.Status.SUCCEEDED, run.errors
        return run.upstream_calls, ChatMessage.objects.filter(workspace=workspace).count()
    finally:
        workspace.delete()


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
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_messages (body jsonb)")
        cursor.execute("TRUNCATE bench_messages")
        with cursor.copy("COPY bench_messages (body) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row,))
    return calls, len(rows)


def timed(function, *args) -> tuple[object, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - started, time.process_time() - cpu


def measure(conversations: int, pairs: int) -> dict:
    """Medians over ``pairs`` alternating runs of both sides, and each side's call count."""
    fake = FakeChatbotPlatform().start()
    fake.populate(conversations)
    sides: dict[str, dict[str, list]] = {
        side: {"wall": [], "cpu": [], "calls": [], "messages": []}
        for side in ("flowsync", "baseline")
    }
    try:
        for index in range(pairs):
            for side, run in (
                ("flowsync", lambda i=index: flowsync_pull(fake, i)),
                ("baseline", lambda: baseline_pull(fake)),
            ):
                (calls, messages), wall, cpu = timed(run)
                for name, value in (("wall", wall), ("cpu", cpu), ("calls", calls)):
                    sides[side][name].append(value)
                sides[side]["messages"].append(messages)
    finally:
        fake.stop()
    return {
        side: {name: statistics.median(values) for name, values in figures.items()}
        for side, figures in sides.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.conversations, args.pairs)
    ours, base = result["flowsync"], result["baseline"]
    print(
        f"{args.conversations} conversations, {ours['messages']:.0f} messages, "
        f"medians of {args.pairs} alternating pairs"
    )
    print(f"{'':>10} | {'wall s':>8} | {'CPU s':>8} | {'calls/1,000 conversations':>26}")
    for side, figures in result.items():
        per_thousand = figures["calls"] * 1000 / args.conversations
        print(f"{side:>10} | {figures['wall']:8.2f} | {figures['cpu']:8.2f} | {per_thousand:26.0f}")
    print(
        f"{'ratio':>10} | {ours['wall'] / base['wall']:8.2f} | {ours['cpu'] / base['cpu']:8.2f} |"
    )


if __name__ == "__main__":
    main()
