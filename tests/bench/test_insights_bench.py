"""bench/insights_generate.py and bench/insights_bench.py at a tiny scale, so the benchmark
cannot rot: the endpoints (reading the rollups) and the raw-SQL anchor agree on every case."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=True)  # the generator runs VACUUM
def test_the_insights_bench_compares_rollups_with_the_raw_sql_anchor():
    generate, bench = load("insights_generate"), load("insights_bench")
    generate.generate(messages=3000, users=300, events=3000, contacts=400, recordings=50, seed=1)

    result = bench.measure(runs=1, top_lists=True)

    assert result["mismatches"] == []
    # 3 units x 3 offsets x 3 endpoints, and the workspace analytics
    assert len(result["rows"]) == 28
    assert all(min(row[3:]) > 0 for row in result["rows"])
