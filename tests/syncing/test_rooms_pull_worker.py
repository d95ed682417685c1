"""A real Celery worker killed with SIGKILL in the middle of a rooms pull: its lock expires,
the next run completes, and nothing is duplicated."""

from __future__ import annotations

import os
import signal

import pytest

from syncing.coordination import redis_client
from syncing.models import Connection, SyncRun
from syncing.services import connection_create
from syncing.streams import stream_run
from syncing.tasks import run_stream
from tests.conftest import wait_until
from tests.factories import WorkspaceFactory
from tests.syncing.rooms_state import expected, stored


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_nothing_duplicated(short_lock_worker, rooms_fake):
    workspace = WorkspaceFactory()
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )
    rooms_fake.populate(150)  # two pages
    rooms_fake.delay = 0.03  # slow enough for the kill to land while page 2 is read

    run_stream.delay(connection.pk, "rooms", SyncRun.Trigger.MANUAL, False)
    killed = wait_until(
        lambda: SyncRun.objects.filter(connection=connection, created__gte=100).first(),
        timeout=120,
        interval=0.05,
    )
    os.kill(short_lock_worker.pid, signal.SIGKILL)
    short_lock_worker.wait(timeout=10)

    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.RUNNING
    lock = f"sync:lock:run:{connection.pk}:rooms"
    wait_until(lambda: not redis_client().exists(lock), timeout=30)
    rooms_fake.delay = 0.0
    run = stream_run(connection=connection, stream="rooms")

    assert run.status == SyncRun.Status.SUCCEEDED
    # The killed run's first page was kept: this run adds the rest and rewrites nothing.
    assert (run.created, run.updated, run.unchanged) == (50, 0, 100)
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED
    assert killed.errors[-1]["message"] == "The worker stopped before the run finished."
    assert stored(workspace)["rooms"] == expected(rooms_fake, members=set())["rooms"]
