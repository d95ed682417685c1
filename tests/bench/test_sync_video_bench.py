"""bench/sync_video.py at a tiny scale, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sync_video.py"


@pytest.mark.django_db(transaction=True)
def test_the_video_bench_runs_both_sides_over_the_same_data():
    spec = importlib.util.spec_from_file_location("sync_video_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    result = bench.measure(contacts=12, pairs=1)

    ours, baseline = result["flowsync"], result["baseline"]
    assert ours["events"] == baseline["events"] > 12
    # Rooms, booking pages, one recordings page, one contacts page, and the event list of
    # each contact that has events: the same calls on both sides.
    assert ours["calls"] == baseline["calls"] > 4
    assert ours["wall"] > 0
    assert baseline["wall"] > 0
