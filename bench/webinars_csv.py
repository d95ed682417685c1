"""Peak memory and time of the registrants CSV report for one large session.

Creates a scratch workspace with one session and N registrants (bulk_create) in the configured
database, requests GET /api/v1/reports/events/sessions/registrants/{token}/csv through the
whole Django stack (API key auth, view, StreamingHttpResponse), reads the stream chunk by chunk
without keeping it, and prints a table. The compiled report (a JSON object that holds every CSV
in memory by design) is measured too, for contrast. The scratch workspace is deleted at the end.

    DEBUG=true DATABASE_URL=postgres://... .venv/bin/python bench/webinars_csv.py [--rows 100000]

The database must be migrated (``manage.py migrate``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import secrets
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from events.models import Event, Operator, Registrant, Session  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

QUESTIONS = ["Company size?", "Role?"]


def scratch_session(rows: int) -> tuple[Workspace, Session]:
    suffix = secrets.token_hex(4)
    workspace = Workspace.objects.create(name=f"bench {suffix}", slug=f"bench-webinars-{suffix}")
    creator = Operator.objects.create(workspace=workspace, email="o@bench.example", first_name="O")
    event = Event.objects.create(workspace=workspace, creator=creator, title="Bench webinar")
    session = Session(
        event=event,
        date=dt.date(2026, 5, 5),
        time=dt.time(14, 0),
        timezone="Europe/Berlin",
        published=True,
        questions=QUESTIONS,
    )
    session.schedule()
    session.save()
    batch = 5000
    for start in range(0, rows, batch):
        Registrant.objects.bulk_create(
            Registrant(
                session=session,
                email=f"person{n}@bench.example",
                first_name=f"First{n}" if n % 100 else '=HYPERLINK("x","y")',
                last_name=f'Last, "{n}"',
                answers={"Company size?": "51-200", "Role?": "Head of\nRevenue 🎯"},
                attended=n % 3 == 0,
                minutes_watched=n % 90,
            )
            for n in range(start, min(start + batch, rows))
        )
    return workspace, session


def stream(client: Client, path: str, key: str) -> tuple[int, int, int]:
    """(status, bytes, chunks) of a streamed response, read without keeping it."""
    response = client.get(path, HTTP_API_SECRET=key)
    size = chunks = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        chunks += 1
    response.close()
    return response.status_code, size, chunks


def fetch(client: Client, path: str, key: str) -> tuple[int, int, int]:
    response = client.get(path, HTTP_API_SECRET=key)
    return response.status_code, len(response.content), 1


def measure(label, run, *args) -> dict:
    print(f"measuring {label}…", file=sys.stderr)
    started = time.perf_counter()
    status, size, chunks = run(*args)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    run(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "label": label,
        "status": status,
        "bytes": size,
        "chunks": chunks,
        "seconds": seconds,
        "peak": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch workspace")
    args = parser.parse_args()

    started = time.perf_counter()
    workspace, session = scratch_session(args.rows)
    created = time.perf_counter() - started
    key = api_key_create(workspace=workspace, name="bench").plaintext
    client = Client(HTTP_HOST="127.0.0.1")
    reports = "/api/v1/reports/events/sessions"
    try:
        results = [
            measure(
                "registrants CSV (streamed)",
                stream,
                client,
                f"{reports}/registrants/{session.token}/csv",
                key,
            ),
            measure(
                "compiled report (in memory)",
                fetch,
                client,
                f"{reports}/compiled/{session.token}",
                key,
            ),
        ]
        check = client.get(f"{reports}/registrants/{session.token}/csv", HTTP_API_SECRET=key)
        text = b"".join(check.streaming_content).decode()
        parsed = list(csv.reader(io.StringIO(text, newline="")))
        assert len(parsed) == args.rows + 1, len(parsed)
    finally:
        if not args.keep:
            workspace.delete()

    print(f"\n{args.rows:,} registrants on {connection.vendor}; bulk_create took {created:.1f} s")
    print(
        f"{'report':<30} {'status':>6} {'rows':>8} {'MB':>7} {'chunks':>7} {'s':>6} {'peak MiB':>9}"
    )
    for row in results:
        print(
            f"{row['label']:<30} {row['status']:>6} {args.rows:>8,} "
            f"{row['bytes'] / 1e6:>7.1f} {row['chunks']:>7} {row['seconds']:>6.2f} "
            f"{row['peak'] / 2**20:>9.1f}"
        )
    print("time: one run without tracemalloc; peak: tracemalloc during a second run")


if __name__ == "__main__":
    main()
