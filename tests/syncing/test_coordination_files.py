"""Without Redis (the embedded default) budgets and run locks are flock-ed files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db import transaction

from syncing.coordination import LockHeld, TokenBucket, _coordination_file, exclusive
from syncing.outbox import outbox_enqueue, outbox_message_deliver
from tests.syncing.fakes.handlers import CREATE

pytestmark = pytest.mark.django_db

HOLD_A_LOCK = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture(autouse=True)
def without_redis(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("SYNC_REDIS_URL", raising=False)
    settings.SYNC_REDIS_URL = ""
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.DATA_DIR = tmp_path


def test_a_bucket_grants_its_burst_then_asks_to_wait():
    bucket = TokenBucket(key="files:burst", rate=2.0, capacity=3)

    waits = [bucket.try_take() for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert 0.4 <= waits[3] <= 0.5


def test_a_held_lock_is_refused_until_released():
    with exclusive("run:1:rooms", ttl=60):
        with pytest.raises(LockHeld), exclusive("run:1:rooms", ttl=60):
            pass
        with exclusive("run:2:rooms", ttl=60):
            pass  # another connection's lock is another file

    with exclusive("run:1:rooms", ttl=60) as lock:
        assert lock.extend()


def test_the_lock_of_a_killed_process_is_free_at_once():
    path = _coordination_file("lock", "run:9:rooms")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_LOCK, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld), exclusive("run:9:rooms", ttl=60):
            pass

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)

        with exclusive("run:9:rooms", ttl=60):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()


@pytest.mark.usefixtures("test_handlers")
def test_the_outbox_delivers_without_redis(rooms_connection, rooms_fake):
    with transaction.atomic():
        message = outbox_enqueue(
            connection=rooms_connection, kind=CREATE, payload={"title": "No Redis here"}
        )

    assert outbox_message_deliver(message_id=message.pk) == "sent"
    assert [room["title"] for room in rooms_fake.rooms.values()] == ["No Redis here"]
