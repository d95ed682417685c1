"""bench/whoami.py at a tiny scale, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "whoami.py"


@pytest.mark.django_db
def test_the_whoami_bench_measures_both_sides():
    spec = importlib.util.spec_from_file_location("whoami_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    result = bench.measure(runs=5, warmup=1)

    assert result["runs"] == 5
    assert result["whoami"] > result["select1"] > 0
