"""bench/sync_chatbot.py at a tiny scale, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sync_chatbot.py"


@pytest.mark.django_db(transaction=True)
def test_the_chatbot_bench_runs_both_sides_over_the_same_data():
    spec = importlib.util.spec_from_file_location("sync_chatbot_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    result = bench.measure(conversations=12, pairs=1)

    ours, baseline = result["flowsync"], result["baseline"]
    assert ours["messages"] == baseline["messages"] > 12
    # One list page and one message list per conversation, plus flowsync's workflow list.
    assert baseline["calls"] == 13
    assert ours["calls"] == 14
    # Run again over the same data: no message list is read, every conversation unchanged.
    assert ours["again"] == {"calls": 2, "unchanged": 12, "wall": ours["again"]["wall"]}
    assert ours["wall"] > 0
    assert baseline["wall"] > 0
