"""Every sync benchmark script runs at a tiny scale (a few seconds each) against the test
database, so none can rot unnoticed: each must exit 0 and print the figures it exists for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import FAKE_UPSTREAM_NETWORKS, ROOT, database_url_for_test_db

# script, tiny arguments, a line its report must print
BENCHES = [
    ("sync_rooms.py", ["--rooms", "3", "--pairs", "1", "--latency", "0.01"], "3 rooms stored"),
    ("sync_registrants.py", ["--sessions", "1", "--registrants", "5"], "(must equal 5)"),
    ("sync_outbox.py", ["--messages", "5"], "rooms upstream: 5 (must equal 5)"),
    ("crm_attio.py", ["--deals", "5"], "deals: nothing changed"),
    ("crm_salesforce.py", ["--rooms", "5"], "pull again, nothing changed"),
    ("crm_write_back.py", ["--rooms", "5"], "rooms linked: 5"),
]


@pytest.mark.parametrize(("script", "arguments", "reported"), BENCHES, ids=[b[0] for b in BENCHES])
def test_the_bench_runs_at_a_tiny_scale(transactional_db, script, arguments, reported):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "SYNC_UPSTREAM_ALLOWED_NETWORKS": ",".join(FAKE_UPSTREAM_NETWORKS),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert reported in result.stdout
