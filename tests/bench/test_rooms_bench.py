"""bench/rooms_bench.py and its generator at a tiny scale, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from rooms.models import Engagement, RoomTotals, Visit
from tests.rooms.test_totals import raw_totals
from workspaces.models import Workspace
from workspaces.services import api_key_create

BENCH = Path(__file__).resolve().parents[2] / "bench" / "rooms_bench.py"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator writes with COPY")
def test_the_rooms_bench_runs_every_case_over_generated_data():
    call_command("bench_rooms_generate", scale=0.001, workspace="smoke", stdout=io.StringIO())
    totals = RoomTotals.objects.filter(workspace__slug="smoke").select_related("room")
    assert totals.count() == 10
    # The generator's COPY bypasses the app's writers; it refreshes the rollup itself.
    assert all(
        {name: getattr(row, name) for name in raw_totals(row.room)} == raw_totals(row.room)
        for row in totals
    )
    spec = importlib.util.spec_from_file_location("rooms_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    visits, engagements = Visit.objects.count(), Engagement.objects.count()
    workspace = Workspace.objects.get(slug="smoke")
    key = api_key_create(workspace=workspace, name="smoke").plaintext
    # The baselines build the same JSON as the API: the ratios compare like with like.
    for label, api_call, sql_call in bench.cases(workspace, key)[:7]:
        assert api_call().json() == json.loads(sql_call()), label

    out = io.StringIO()
    results = bench.run(workspace_slug="smoke", runs=1, out=out)

    assert len(results) == 11  # 6 list pages, detail, 2 analytics, ingestion, whoami
    assert all(api > 0 and database > 0 for _, api, database in results)
    assert "events/s raw INSERT" in out.getvalue()
    # Two batches each way (the warm-up pair and one timed pair), 20 visits and 80 views and
    # engagements each.
    assert Visit.objects.count() - visits == 4 * 20
    assert Engagement.objects.count() - engagements == 4 * 80
