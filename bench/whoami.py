"""Fixed cost of one API request: ``GET /api/whoami`` beside ``SELECT 1`` (#14 item 4).

whoami does no work of its own, so its time is what every API request pays: middleware, API
key lookup, throttle, transaction, rendering. It runs through Django's test client (the full
stack in this process, no network) and alternates with one ``SELECT 1`` on the same database
connection; prints both medians and their ratio. The target is under 2 ms of server time.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/whoami.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from workspaces.services import api_key_create, workspace_get_or_create  # noqa: E402


def measure(*, runs: int, warmup: int = 50) -> dict:
    """Median milliseconds of whoami and of SELECT 1, alternating, after ``warmup`` of each."""
    settings.DEBUG = False  # no query log growing in memory
    settings.API_THROTTLE_RATE = "100000000/min"  # measured, never refused
    workspace = workspace_get_or_create(slug="bench-whoami", name="Bench whoami")
    key = api_key_create(workspace=workspace, name="bench whoami").plaintext
    client = Client(headers={"x-flowla-api-key": key}, HTTP_HOST="localhost")
    api, sql = [], []
    for n in range(warmup + runs):
        started = time.perf_counter()
        response = client.get("/api/whoami")
        api_ms = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        sql_ms = (time.perf_counter() - started) * 1000
        if n >= warmup:
            api.append(api_ms)
            sql.append(sql_ms)
    return {"whoami": statistics.median(api), "select1": statistics.median(sql), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    result = measure(runs=args.runs)
    ratio = result["whoami"] / result["select1"]
    print(f"runs: {result['runs']} alternating pairs")
    print(f"GET /api/whoami  median {result['whoami']:.3f} ms")
    print(f"SELECT 1         median {result['select1']:.3f} ms")
    print(f"ratio            {ratio:.1f}x   (target: whoami under 2 ms)")


if __name__ == "__main__":
    main()
