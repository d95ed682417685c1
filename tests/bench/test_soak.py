"""bench/soak.py at a small scale: gunicorn, a Celery worker and beat as real processes on the
test database and a private Redis; room creations through the API while the worker is
SIGKILLed and Redis restarted; then everything converges, exactly once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import database_url_for_test_db

BENCH = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.worker
@pytest.mark.timeout(900)  # about 40 s on a quiet machine; minutes when it is loaded
@pytest.mark.django_db(transaction=True)
def test_a_small_soak_loses_nothing_and_duplicates_nothing():
    spec = importlib.util.spec_from_file_location("soak_bench", BENCH)
    soak = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = soak  # its dataclasses look their module up
    spec.loader.exec_module(soak)

    figures = soak.soak(
        database_url=database_url_for_test_db(),
        writes=12,
        workers=1,
        tenants_count=1,
        web_workers=1,
        latency=0.01,
        timeout=600,
    )

    assert figures.problems == []
    assert figures.messages_per_second > 0
