"""The outbox against the fake rooms platform, with handlers registered by the test."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncing.models import Connection, OutboxMessage
from syncing.outbox import (
    UnknownKindError,
    outbox_enqueue,
    outbox_handler_register,
    outbox_handler_unregister,
    outbox_message_deliver,
    outbox_sweep,
)
from syncing.services import connection_merge_credentials
from syncing.tasks import deliver_outbox_message
from tests.syncing.fakes.handlers import CREATE, UPDATE, RoomCreate, reference

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("test_handlers")]


def enqueue(connection, n: int, kind: str = CREATE, **fields) -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            outbox_enqueue(
                connection=connection,
                kind=kind,
                payload={"title": f"Room {i}", **fields},
                object_ref=f"room:{i}",
            )
            for i in range(n)
        ]


@dataclass
class Task:
    name: str
    args: list
    eta: datetime | None


class Broker:
    """The test broker (Redis): its default queue read without consuming, and a restart."""

    def __init__(self, channel):
        self.client = channel.client
        self.queue = current_app.conf.task_default_queue

    def tasks(self) -> list[Task]:
        found = []
        for raw in self.client.lrange(self.queue, 0, -1):
            envelope = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            eta = envelope["headers"].get("eta")
            found.append(
                Task(envelope["headers"]["task"], args, eta and datetime.fromisoformat(eta))
            )
        return found

    def sent_ids(self) -> list[int]:
        return sorted(task.args[0] for task in self.tasks())

    def purge(self) -> None:
        self.client.delete(self.queue)

    def restart_without_persistence(self) -> None:
        self.client.flushdb()


@pytest.fixture
def broker(db):
    """An empty queue on a broker that has lost nothing since the last sweep."""
    with current_app.connection_for_write() as connection:
        broker = Broker(connection.default_channel)
        outbox_sweep()  # no message yet: it only notes the broker as seen
        broker.purge()
        yield broker
        broker.purge()


def deliver_until_settled(rounds: int = 30) -> None:
    """What the sweeper and on-commit tasks do, in this process: deliver whatever is due."""
    for _ in range(rounds):
        due = list(OutboxMessage.objects.deliverable(timezone.now()).values_list("pk", flat=True))
        if not due:
            return
        for message_id in due:
            outbox_message_deliver(message_id=message_id)


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(rooms_connection):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(connection=rooms_connection, kind=CREATE, payload={})


def test_enqueue_of_an_unknown_kind_is_refused(rooms_connection):
    with pytest.raises(UnknownKindError), transaction.atomic():
        outbox_enqueue(connection=rooms_connection, kind="nobody.handles.this", payload={})


def test_delivery_is_scheduled_on_commit(rooms_connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(rooms_connection, 2)

    assert len(callbacks) == 2


def test_a_message_is_delivered_and_its_upstream_id_kept(rooms_connection, rooms_fake):
    (message,) = enqueue(rooms_connection, 1)

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT

    message.refresh_from_db()
    (room,) = rooms_fake.rooms.values()
    assert message.upstream_id == room["id"]
    assert room["title"] == "Room 0"
    assert room["description"] == reference(message)
    assert message.attempts == 1
    assert message.sent_at is not None


def test_200_creations_through_faults_make_exactly_200_rooms(rooms_connection, rooms_fake):
    messages = enqueue(rooms_connection, 200)
    rooms_fake.fault_rate = 0.2
    rooms_fake.fault_kinds = ("503", "lost", "lost", "429", "500")
    rooms_fake.retry_after = 0

    deliver_until_settled()

    assert rooms_fake.faults_served.count("lost") >= 10, "the fault mix did not happen"
    assert len(rooms_fake.rooms) == 200
    sent = {m.idempotency_key: m for m in OutboxMessage.objects.all()}
    assert {m.status for m in sent.values()} == {OutboxMessage.Status.SENT}
    by_reference = {room["description"]: room["id"] for room in rooms_fake.rooms.values()}
    assert by_reference == {reference(m): m.upstream_id for m in sent.values()}
    assert any(m.attempts > 1 for m in sent.values())

    # Run twice: the second pass finds nothing to do and calls nobody.
    calls_before = len(rooms_fake.requests)
    for message in messages:
        assert outbox_message_deliver(message_id=message.pk) is None
    assert len(rooms_fake.requests) == calls_before


def test_a_lost_create_is_adopted_not_created_twice(rooms_connection, rooms_fake):
    (message,) = enqueue(rooms_connection, 1)
    rooms_fake.inject("lost", method="POST")

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.PENDING
    assert len(rooms_fake.rooms) == 1
    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT

    message.refresh_from_db()
    assert len(rooms_fake.rooms) == 1
    assert message.upstream_id == next(iter(rooms_fake.rooms))
    assert rooms_fake.count("POST", "/api/v2/rooms") == 1


def test_failed_after_the_configured_attempts(rooms_connection, rooms_fake, settings):
    settings.SYNC_OUTBOX_MAX_ATTEMPTS = 3
    (message,) = enqueue(rooms_connection, 1)
    rooms_fake.inject("503", times=100, method="POST")

    outcomes = [outbox_message_deliver(message_id=message.pk) for _ in range(4)]

    assert outcomes == ["pending", "pending", "failed", None]
    message.refresh_from_db()
    assert message.attempts == 3
    assert "HTTP 503" in message.last_error
    assert "upstream request id req-" in message.last_error
    assert rooms_fake.rooms == {}


def test_a_permanent_error_fails_at_once(rooms_connection, rooms_fake):
    (message,) = enqueue(rooms_connection, 1, title="")

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.FAILED
    message.refresh_from_db()
    assert message.attempts == 1
    assert "HTTP 400" in message.last_error


def test_a_retry_waits_for_its_backoff(rooms_connection, rooms_fake, settings):
    settings.SYNC_OUTBOX_BACKOFF_BASE = 60.0
    (message,) = enqueue(rooms_connection, 1)
    rooms_fake.inject("503", method="POST")
    before = timezone.now()

    outbox_message_deliver(message_id=message.pk)

    message.refresh_from_db()
    # First retry: base * 2**0 = 60 s with equal jitter, so between 30 and 60 s ahead.
    assert before + timedelta(seconds=30) <= message.next_attempt_at
    assert message.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert outbox_message_deliver(message_id=message.pk) is None
    assert rooms_fake.rooms == {}


def test_updates_of_one_object_wait_for_the_older_message(rooms_connection, rooms_fake):
    (create,) = enqueue(rooms_connection, 1)
    (update,) = enqueue(rooms_connection, 1, kind=UPDATE, coverTitle="Welcome")

    # The update must not overtake the pending create.
    assert outbox_message_deliver(message_id=update.pk) is None
    rooms_fake.inject("503", method="POST")
    assert outbox_message_deliver(message_id=create.pk) == "pending"
    assert outbox_message_deliver(message_id=update.pk) is None

    assert outbox_message_deliver(message_id=create.pk) == "sent"
    assert outbox_message_deliver(message_id=update.pk) == "sent"
    (room,) = rooms_fake.rooms.values()
    assert room["coverTitle"] == "Welcome"


def test_credentials_refused_park_messages_until_new_credentials(rooms_connection, rooms_fake):
    (message,) = enqueue(rooms_connection, 1)
    rooms_fake.api_key = "rotated"

    assert outbox_message_deliver(message_id=message.pk) == "pending"

    message.refresh_from_db()
    rooms_connection.refresh_from_db()
    assert rooms_connection.status == Connection.Status.NEEDS_REAUTH
    assert message.attempts == 0
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert not OutboxMessage.objects.deliverable(timezone.now()).exists()

    connection_merge_credentials(connection=rooms_connection, changes={"api_key": "rotated"})
    assert outbox_message_deliver(message_id=message.pk) == "sent"


def test_the_sweeper_recovers_messages_of_dead_workers(
    rooms_connection, rooms_fake, settings, broker
):
    settings.SYNC_OUTBOX_SENDING_TIMEOUT = 60
    stuck, _waiting = enqueue(rooms_connection, 2)
    OutboxMessage.objects.filter(pk=stuck.pk).update(
        status=OutboxMessage.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=5),
    )

    result = outbox_sweep()

    assert (result.recovered, result.enqueued) == (1, 1)
    assert broker.sent_ids() == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == OutboxMessage.Status.PENDING
    # Its dead worker may have created the room: the next attempt looks it up first.
    rooms_fake.add_room(title="Room 0", description=reference(stuck))
    assert outbox_message_deliver(message_id=stuck.pk) == "sent"
    assert len(rooms_fake.rooms) == 1


def test_the_sweeper_leaves_messages_whose_task_is_still_queued(
    rooms_connection, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        messages = enqueue(rooms_connection, 3)
    # A long backlog: their tasks have waited in the queue for an hour.
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))

    result = outbox_sweep()

    assert result.enqueued == 0
    assert broker.sent_ids() == sorted(m.pk for m in messages)


def test_once_the_queue_is_empty_a_message_overdue_past_the_grace_is_sent_again_once(
    rooms_connection, broker, settings
):
    settings.SYNC_OUTBOX_REQUEUE_AFTER = 60
    # Committed, but their tasks never reached a worker (lost with a killed worker, say).
    lost, recent = enqueue(rooms_connection, 2)
    OutboxMessage.objects.filter(pk=lost.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=90)
    )
    OutboxMessage.objects.filter(pk=recent.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=30)
    )

    assert outbox_sweep().enqueued == 1
    assert broker.sent_ids() == [lost.pk]

    # Its new task is stamped: the next pass does not send it again, even with the queue empty.
    broker.purge()
    assert outbox_sweep().enqueued == 0


def test_after_the_broker_lost_its_queue_every_due_message_is_sent_again(
    rooms_connection, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lost = enqueue(rooms_connection, 3)
    broker.restart_without_persistence()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(rooms_connection, 1)

    # The queue is not empty (a task written after the restart), yet the lost ones are sent.
    result = outbox_sweep()

    assert result.broker_lost
    assert {m.pk for m in lost} <= set(broker.sent_ids())
    broker.purge()
    assert not outbox_sweep().broker_lost


def test_a_failed_push_schedules_its_retry_for_its_backoff_time(
    rooms_connection, rooms_fake, broker, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_OUTBOX_BACKOFF_BASE = 60.0
    (message,) = enqueue(rooms_connection, 1)
    rooms_fake.inject("503", method="POST")

    with django_capture_on_commit_callbacks(execute=True):
        deliver_outbox_message(message.pk)

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=25)
    (task,) = broker.tasks()
    assert (task.name, task.args) == ("syncing.deliver_outbox_message", [message.pk])
    assert task.eta == message.next_attempt_at


class CreateWhoseFirstStoreFails(RoomCreate):
    """Stores its result like a handler that loses a unique-constraint race once."""

    kind = "test.room_create_store_fails_once"

    def __init__(self):
        self.stores = 0

    def on_delivered(self, message) -> None:
        self.stores += 1
        if self.stores == 1:
            raise IntegrityError("duplicate key value violates unique constraint")


@pytest.fixture
def flaky_store_handler():
    handler = outbox_handler_register(CreateWhoseFirstStoreFails())
    yield handler
    outbox_handler_unregister(handler.kind)


def test_a_failed_local_store_is_retried_and_adopts_the_created_object(
    rooms_connection, rooms_fake, flaky_store_handler
):
    (message,) = enqueue(rooms_connection, 1, kind=flaky_store_handler.kind)

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.PENDING
    message.refresh_from_db()
    assert "storing the delivery failed" in message.last_error

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT
    message.refresh_from_db()
    assert len(rooms_fake.rooms) == 1, "the retry adopted the room instead of creating another"
    assert message.upstream_id == next(iter(rooms_fake.rooms))
    assert flaky_store_handler.stores == 2
