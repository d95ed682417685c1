"""bench/dashboard.py at a tiny scale, so the benchmark cannot rot; and its query counts do
not grow when the data does."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.console.seed import seed_dashboard
from workspaces.models import Workspace

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dashboard.py"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator writes with COPY")
def test_the_dashboard_bench_runs_and_its_query_counts_do_not_grow():
    call_command("bench_rooms_generate", scale=0.001, workspace="smoke", stdout=io.StringIO())
    spec = importlib.util.spec_from_file_location("dashboard_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    workspace = Workspace.objects.get(slug="smoke")
    seed_dashboard(workspace)  # a connection, webinars and chats besides the rooms
    out = io.StringIO()
    small = bench.run(workspace_slug="smoke", runs=1, out=out)
    seed_dashboard(workspace)
    larger = bench.run(workspace_slug="smoke", runs=1, out=io.StringIO())

    assert "| GET /admin/ (dashboard page) |" in out.getvalue()
    assert small["page_ms"] > 0
    assert small["api_ms"] > 0
    assert (larger["page_queries"], larger["api_queries"]) == (
        small["page_queries"],
        small["api_queries"],
    )
