"""bench/sync_hubspot.py at a tiny scale, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sync_hubspot.py"


@pytest.mark.django_db(transaction=True)
def test_the_hubspot_bench_runs_both_sides_over_the_same_data():
    spec = importlib.util.spec_from_file_location("sync_hubspot_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    # 60 deals: one search page, one of them archived (one in 50).
    result = bench.measure(deals=60, pairs=1)

    ours, baseline = result["flowsync"], result["baseline"]
    assert ours["deals"] == baseline["deals"] == 60
    # One search, one association read, one contact read, each owner once, one archived
    # list: the same calls on both sides.
    assert ours["calls"] == baseline["calls"] > 4
    assert ours["wall"] > 0
    assert baseline["wall"] > 0
