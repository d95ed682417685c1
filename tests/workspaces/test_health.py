import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from workspaces.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def background_seen(*, worker_ago: timedelta | None, beat_ago: timedelta | None) -> None:
    """A worker heartbeat and beat's last send of the heartbeat task, that long ago."""
    now = timezone.now()
    if worker_ago is not None:
        WorkerHeartbeat.objects.create(hostname="worker-1", seen_at=now - worker_ago)
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="worker-heartbeat",
        task="workspaces.worker_heartbeat",
        interval=every,
        last_run_at=None if beat_ago is None else now - beat_ago,
    )


def test_healthz_is_ok_when_everything_answers_and_the_worker_and_beat_are_fresh(client):
    background_seen(worker_ago=timedelta(seconds=30), beat_ago=timedelta(seconds=31))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"]["ok"] is True
    assert ISO_MILLIS_Z.match(body["worker"]["lastHeartbeat"])
    assert body["beat"]["ok"] is True
    assert ISO_MILLIS_Z.match(body["beat"]["lastScheduled"])


@pytest.mark.parametrize(
    ("worker_ago", "beat_ago", "worker_ok", "beat_ok"),
    [
        (None, None, False, False),  # never ran
        (timedelta(minutes=3), timedelta(seconds=10), False, True),  # the worker died
        (timedelta(minutes=3), timedelta(minutes=3), False, False),  # beat died
        (timedelta(hours=5), None, False, False),  # hours-old heartbeat
    ],
)
def test_healthz_is_degraded_when_no_heartbeat_is_fresher_than_two_intervals(
    client, worker_ago, beat_ago, worker_ok, beat_ok
):
    background_seen(worker_ago=worker_ago, beat_ago=beat_ago)

    response = client.get("/healthz")

    assert response.status_code == 200  # the web process still serves requests
    body = response.json()
    assert body["status"] == "degraded"
    assert (body["worker"]["ok"], body["beat"]["ok"]) == (worker_ok, beat_ok)


def test_healthz_is_503_when_broker_is_unreachable(client, settings):
    # Nothing listens on port 1 of the loopback address.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_heartbeat_task_records_the_worker(client):
    from workspaces.tasks import worker_heartbeat

    worker_heartbeat.apply()

    assert client.get("/healthz").json()["worker"]["ok"] is True


@pytest.mark.django_db(transaction=True)  # the scheduler closes and reopens connections
def test_beat_writes_the_heartbeat_send_time_at_once(client):
    """Beat's liveness comes from last_run_at, which django-celery-beat writes only when it
    syncs: CELERY_BEAT_SYNC_EVERY = 1 makes that every send (by default every 3 minutes)."""
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    scheduler = DatabaseScheduler(app=app)
    scheduler.apply_async(scheduler.schedule["worker-heartbeat"], producer=scheduler.producer)
    before_second_send = timezone.now()  # the first send is always written
    scheduler.apply_async(scheduler.schedule["worker-heartbeat"], producer=scheduler.producer)

    stored = PeriodicTask.objects.get(name="worker-heartbeat").last_run_at
    assert stored >= before_second_send
    assert client.get("/healthz").json()["beat"]["ok"] is True
