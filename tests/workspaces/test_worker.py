"""A real Celery worker process consumes a task sent through the configured broker (Redis)."""

import pytest

from tests.conftest import wait_until
from workspaces.models import WorkerHeartbeat
from workspaces.tasks import worker_heartbeat


@pytest.mark.worker
def test_real_worker_runs_a_task_sent_through_the_broker(celery_worker_process):
    assert not WorkerHeartbeat.objects.exists()

    worker_heartbeat.delay()

    beat = wait_until(lambda: WorkerHeartbeat.objects.first(), timeout=60)
    assert beat.hostname
    assert celery_worker_process.poll() is None, "the worker died"
