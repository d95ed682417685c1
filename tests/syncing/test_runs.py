"""SyncRun recording with a small stream written in the test (the real streams come later)."""

from __future__ import annotations

import pytest

from syncing.coordination import LockHeld
from syncing.errors import RecordError
from syncing.models import Connection, SyncRun
from syncing.providers.rooms_platform import schemas
from syncing.runs import sync_run
from syncing.validation import validate_records

pytestmark = pytest.mark.django_db


def read_rooms(run) -> None:
    client = run.client()
    for page in client.room_pages(limit=2):
        for record in validate_records(schemas.Room, page):
            if isinstance(record, RecordError):
                run.record_failure(record)
            else:
                run.count(created=1)
        run.checkpoint()
    run.cursor_after = {"updatedAt": "2026-05-05T14:30:44.260Z"}


def test_a_run_records_counts_calls_and_cursor(rooms_connection, rooms_fake):
    for n in range(3):
        rooms_fake.add_room(title=f"Room {n}")

    with sync_run(connection=rooms_connection, stream="rooms", trigger="manual") as run:
        read_rooms(run)

    record = SyncRun.objects.get()
    assert record.status == SyncRun.Status.SUCCEEDED
    assert (record.created, record.failed) == (3, 0)
    # 3 rooms at 2 per page: two calls.
    assert record.upstream_calls == 2
    assert record.cursor_before is None
    assert record.cursor_after == {"updatedAt": "2026-05-05T14:30:44.260Z"}
    assert record.finished_at is not None


def test_the_next_run_starts_from_the_last_cursor(rooms_connection, rooms_fake):
    with sync_run(connection=rooms_connection, stream="rooms", trigger="manual") as run:
        read_rooms(run)
    with sync_run(connection=rooms_connection, stream="rooms", trigger="schedule") as run:
        pass

    latest = SyncRun.objects.first()
    assert latest.cursor_before == {"updatedAt": "2026-05-05T14:30:44.260Z"}
    with sync_run(connection=rooms_connection, stream="rooms", trigger="manual", full_refresh=True):
        pass
    assert SyncRun.objects.first().cursor_before is None


def test_a_record_missing_a_required_field_is_a_recorded_failure(rooms_connection, rooms_fake):
    rooms_fake.add_room(title="Fine")
    broken = rooms_fake.add_room(title="Broken")
    del rooms_fake.rooms[broken["id"]]["createdAt"]

    with sync_run(connection=rooms_connection, stream="rooms", trigger="manual") as run:
        read_rooms(run)

    record = SyncRun.objects.get()
    assert record.status == SyncRun.Status.PARTIAL
    assert (record.created, record.failed) == (1, 1)
    assert record.errors == [
        {
            "message": "invalid record: createdAt: This field is required.",
            "upstreamId": broken["id"],
            "correlationId": None,
            "status": None,
        }
    ]


def test_an_upstream_failure_fails_the_run_keeps_the_cursor_and_flags_the_connection(
    rooms_connection, rooms_fake
):
    # The first try and the three retries of the tests' HTTP settings.
    rooms_fake.inject("500", times=4, method="GET")

    with sync_run(connection=rooms_connection, stream="rooms", trigger="schedule") as run:
        read_rooms(run)

    record = SyncRun.objects.get()
    assert record.status == SyncRun.Status.FAILED
    assert record.cursor_after is None
    assert record.errors[0]["status"] == 500
    assert record.errors[0]["correlationId"] == "req-4"
    rooms_connection.refresh_from_db()
    assert rooms_connection.status == Connection.Status.FAILING

    with sync_run(connection=rooms_connection, stream="rooms", trigger="schedule") as run:
        read_rooms(run)
    rooms_connection.refresh_from_db()
    assert rooms_connection.status == Connection.Status.OK


def test_runs_of_one_stream_do_not_overlap(rooms_connection):
    with sync_run(connection=rooms_connection, stream="rooms", trigger="manual"):
        with (
            pytest.raises(LockHeld),
            sync_run(connection=rooms_connection, stream="rooms", trigger="manual"),
        ):
            pass
        # Another stream of the same connection may run.
        with sync_run(connection=rooms_connection, stream="statuses", trigger="manual"):
            pass

    assert SyncRun.objects.count() == 2


def test_a_run_left_running_by_a_dead_worker_is_closed_by_the_next(rooms_connection):
    dead = SyncRun.objects.create(
        workspace=rooms_connection.workspace,
        connection=rooms_connection,
        stream="rooms",
        trigger="schedule",
    )

    with sync_run(connection=rooms_connection, stream="rooms", trigger="schedule"):
        pass

    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert dead.errors == [{"message": "The worker stopped before the run finished."}]


def test_an_unexpected_exception_is_recorded_and_raised(rooms_connection):
    with (
        pytest.raises(ZeroDivisionError),
        sync_run(connection=rooms_connection, stream="rooms", trigger="manual"),
    ):
        1 / 0  # noqa: B018

    record = SyncRun.objects.get()
    assert record.status == SyncRun.Status.FAILED
    assert record.errors[0]["message"] == "ZeroDivisionError: division by zero"
