"""The plain fetch-and-store baseline the pull benchmarks compare flowsync with, and the harness
that alternates the two and takes medians.

The baseline makes the same upstream calls as the pull with ``requests`` and COPYs each raw
JSON record into a temporary jsonb table: no validation, no mapping, no upsert, no budget. It
is the floor a pull cannot go under, so ``flowsync / baseline`` is what the pull's own work
costs. Both sides run in this process (the fake serves from a thread of it), so CPU seconds
are this process's: the client and the fake, not PostgreSQL.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable

import requests
from django.db import connection


def copy_json(rows: Iterable[str], table: str) -> int:
    """COPY raw JSON documents into a fresh temporary table ``table (body jsonb)``."""
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (body jsonb)")
        cursor.execute(f"TRUNCATE {table}")
        with cursor.copy(f"COPY {table} (body) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row,))
                count += 1
    return count


def rooms_baseline(url: str, api_key: str) -> tuple[int, int]:
    """Every room page (updatedAt ascending, 100 a page), each room's analytics, one jsonb row
    per room: (upstream calls, rows stored)."""
    session = requests.Session()
    session.headers["x-flowla-api-key"] = api_key
    calls, rows, page = 0, [], 1
    while True:
        params = {"sortBy": "updatedAt", "sortDirection": "ASC", "page": page, "limit": 100}
        results = session.get(f"{url}/api/v2/rooms", params=params).json()["results"]
        calls += 1
        for room in results:
            analytics = session.get(f"{url}/api/v2/rooms/{room['id']}/analytics").json()
            calls += 1
            rows.append(json.dumps({"room": room, "analytics": analytics}))
        if len(results) < 100:
            break
        page += 1
    session.close()
    return calls, copy_json(rows, "bench_rooms")


def timed(function: Callable[[], object]) -> tuple[object, float, float]:
    """The result, wall seconds and CPU seconds (this process) of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - started, time.process_time() - cpu


def alternate(sides: dict[str, Callable[[int], object]], pairs: int) -> dict[str, dict]:
    """Run the sides in turn, ``pairs`` times (so machine noise hits both alike); per side the
    median wall and CPU seconds and the last result."""
    samples: dict[str, dict[str, list]] = {side: {"wall": [], "cpu": []} for side in sides}
    results: dict[str, object] = {}
    for index in range(pairs):
        for side, run in sides.items():
            results[side], wall, cpu = timed(lambda run=run, index=index: run(index))
            samples[side]["wall"].append(wall)
            samples[side]["cpu"].append(cpu)
    return {
        side: {
            "wall": statistics.median(figures["wall"]),
            "cpu": statistics.median(figures["cpu"]),
            "result": results[side],
        }
        for side, figures in samples.items()
    }


def print_pair(title: str, measured: dict[str, dict], pairs: int) -> None:
    """One table: each side's medians, then the first side over the second."""
    (first, ours), (second, theirs) = measured.items()
    print(f"{title} (medians of {pairs} alternating pairs)")
    print(f"  {'':>20} | {'wall s':>8} | {'CPU s':>8}")
    for side, figures in measured.items():
        print(f"  {side:>20} | {figures['wall']:8.2f} | {figures['cpu']:8.2f}")
    print(
        f"  {first + ' / ' + second:>20} | {ours['wall'] / theirs['wall']:8.2f}"
        f" | {ours['cpu'] / max(theirs['cpu'], 1e-9):8.2f}"
    )
