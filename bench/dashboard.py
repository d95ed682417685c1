"""Console dashboard server time against the API calls that return the same figures.

For the workspace made by ``manage.py bench_rooms_generate`` (10,000 rooms and 1,000,000
engagements at ``--scale 1``), over the 90 days that end on the day of its latest engagement,
prints the median time of ``GET /admin/?start=…&end=…`` (the whole page: every figure, the
sync health and the template, through Django's test client, no network) beside the median time
of the four API calls that return the same figures (``/api/dashboard/rooms``,
``/api/dashboard/webinars``, ``/api/insights``, ``/api/workspaces/{id}/analytics``), alternating
the two, and the number of SQL queries of each, which must not grow with the data.

    createdb -h 127.0.0.1 -U postgres fs_rooms_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench manage.py migrate
    DATABASE_URL=... manage.py bench_rooms_generate --scale 1
    DEBUG=true DATABASE_URL=... .venv/bin/python bench/dashboard.py [--workspace bench] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from rooms.models import Engagement, RoomTotals  # noqa: E402
from workspaces.models import Membership, User, Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

PERIOD_DAYS = 90


def _timed(call) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if isinstance(response, list):
        assert all(r.status_code == 200 for r in response), [r.status_code for r in response]
    else:
        assert response.status_code == 200, response.status_code
    return elapsed


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def calls(workspace: Workspace, key: str):
    """(dashboard page call, API calls) for the 90 days ending on the latest engagement."""
    last = Engagement.objects.filter(workspace=workspace).aggregate(at=Max("created_at"))["at"]
    end = last.date()
    start = end - timedelta(days=PERIOD_DAYS - 1)
    period = f"start={start}&end={end}"
    staff, _ = User.objects.get_or_create(
        email=f"dashboard-bench@{workspace.slug}.example", defaults={"is_staff": True}
    )
    Membership.objects.get_or_create(user=staff, workspace=workspace)
    page_client = Client(HTTP_HOST="127.0.0.1")
    page_client.force_login(staff)
    api_client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FLOWLA_API_KEY=key)
    paths = [
        f"/api/dashboard/rooms?{period}",
        f"/api/dashboard/webinars?{period}",
        f"/api/insights?start={start}&end={end}&unit=day",
        f"/api/workspaces/{workspace.pk}/analytics",
    ]

    def page():
        return page_client.get(f"/admin/?workspace={workspace.slug}&{period}")

    def api():
        return [api_client.get(path) for path in paths]

    return page, api


def run(*, workspace_slug: str, runs: int, out=sys.stdout) -> dict:
    workspace = Workspace.objects.get(slug=workspace_slug)
    key = api_key_create(workspace=workspace, name="dashboard bench").plaintext
    page, api = calls(workspace, key)
    rooms = RoomTotals.objects.filter(workspace=workspace).count()
    engagements = Engagement.objects.filter(workspace=workspace).count()
    settings.DEBUG = True  # the query log, for the counts only
    page_queries, api_queries = _queries(page), _queries(api)
    settings.DEBUG = False
    page_times, api_times = [], []
    _timed(page), _timed(api)  # warm-up
    for _ in range(runs):
        page_times.append(_timed(page))
        api_times.append(_timed(api))
    result = {
        "page_ms": statistics.median(page_times),
        "api_ms": statistics.median(api_times),
        "page_queries": page_queries,
        "api_queries": api_queries,
    }
    print(
        f"workspace {workspace.slug}: {rooms:,} rooms, {engagements:,} engagements; "
        f"{PERIOD_DAYS}-day period; medians of {runs} alternating runs\n\n"
        f"| request | median ms | SQL queries |\n|---|---|---|\n"
        f"| GET /admin/ (dashboard page) | {result['page_ms']:.1f} | {page_queries} |\n"
        f"| the 4 API calls with the same figures | {result['api_ms']:.1f} | {api_queries} |\n"
        f"\nratio page / API: {result['page_ms'] / result['api_ms']:.2f}",
        file=out,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    settings.DEBUG = False  # a server's settings: no query log while timing
    run(workspace_slug=args.workspace, runs=args.runs)


if __name__ == "__main__":
    main()
