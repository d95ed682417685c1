"""A real Celery worker delivers an outbox message committed by this process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from syncing import conf
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_enqueue
from syncing.services import connection_create
from syncing.tasks import sweep_outbox
from tests.conftest import wait_until
from tests.factories import WorkspaceFactory
from tests.syncing.fakes.handlers import CREATE


@pytest.fixture
def outbox_worker(transactional_db, monkeypatch, request, test_handlers):
    """The worker process registers the same test handlers at start-up."""
    monkeypatch.setenv("SYNC_OUTBOX_HANDLER_MODULES", "tests.syncing.fakes.worker_handlers")
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_delivered_by_a_worker(outbox_worker, rooms_fake):
    connection = connection_create(
        workspace=WorkspaceFactory(),
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
    )

    with transaction.atomic():
        message = outbox_enqueue(
            connection=connection, kind=CREATE, payload={"title": "From the worker"}
        )

    def delivered():
        message.refresh_from_db()
        return message.status == OutboxMessage.Status.SENT

    # Nothing but the on-commit task and the worker delivers it.
    wait_until(delivered, timeout=90, interval=0.5)
    assert outbox_worker.poll() is None, "the worker died"
    (room,) = rooms_fake.rooms.values()
    assert room["title"] == "From the worker"
    assert message.upstream_id == room["id"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_sweeper_delivers_a_message_whose_commit_hook_never_ran(outbox_worker, rooms_fake):
    connection = connection_create(
        workspace=WorkspaceFactory(),
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
    )
    # As if the process died between COMMIT and the on-commit hook, longer ago than the
    # sweeper's grace period: a row, no task.
    message = OutboxMessage.objects.create(
        workspace=connection.workspace,
        connection=connection,
        kind=CREATE,
        payload={"title": "Stranded"},
        next_attempt_at=timezone.now() - timedelta(seconds=conf.get("SYNC_OUTBOX_REQUEUE_AFTER")),
    )

    sweep_outbox.delay()

    wait_until(
        lambda: OutboxMessage.objects.filter(pk=message.pk, status="sent").exists(), timeout=90
    )
    assert [room["title"] for room in rooms_fake.rooms.values()] == ["Stranded"]
