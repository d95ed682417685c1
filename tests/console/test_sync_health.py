"""The dashboard's sync health: connection status, latest run, next run, failing streams,
running indicator, outbox backlog and liveness, from the workspace's own rows only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from syncing.health import sync_health
from syncing.models import Connection, OutboxMessage, SyncRun
from syncing.schedules import connection_schedules_ensure
from workspaces.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms_connection(cast):
    return Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Rooms",
        base_url="http://127.0.0.1:9/",
    )


def _run(connection, stream, status, minutes_ago, **counts):
    return SyncRun.objects.create(
        workspace=connection.workspace,
        connection=connection,
        stream=stream,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=status,
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        **counts,
    )


def test_connection_rows_show_latest_runs_failures_and_next_run(cast, rooms_connection):
    connection_schedules_ensure(connection=rooms_connection)
    _run(rooms_connection, "rooms", SyncRun.Status.FAILED, 60)
    _run(rooms_connection, "rooms", SyncRun.Status.SUCCEEDED, 5, created=3)
    _run(rooms_connection, "templates", SyncRun.Status.SUCCEEDED, 50)
    _run(rooms_connection, "templates", SyncRun.Status.FAILED, 10)

    [row] = sync_health(workspace=cast.workspace, now=timezone.now())["connections"]

    assert row["failing_streams"] == ["templates"]
    assert row["last_run"].status == SyncRun.Status.SUCCEEDED
    assert row["last_run"].created == 3
    assert row["running"] is False
    assert row["next_run_at"] is not None


def test_a_queued_run_shows_the_running_indicator(cast, rooms_connection):
    _run(rooms_connection, "rooms", SyncRun.Status.QUEUED, 0)
    [row] = sync_health(workspace=cast.workspace, now=timezone.now())["connections"]
    assert row["running"] is True


def test_outbox_backlog_and_liveness(cast, rooms_connection):
    now = timezone.now()
    for status, minutes in (("pending", 30), ("pending", 5), ("failed", 90), ("sent", 200)):
        message = OutboxMessage.objects.create(
            workspace=cast.workspace,
            connection=rooms_connection,
            kind="rooms.create",
            status=status,
        )
        OutboxMessage.objects.filter(pk=message.pk).update(
            created_at=now - dt.timedelta(minutes=minutes)
        )
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=now - dt.timedelta(minutes=1))
    PeriodicTask.objects.filter(name="worker-heartbeat").delete()

    health = sync_health(workspace=cast.workspace, now=now)

    assert health["outbox"]["pending"] == 2
    assert health["outbox"]["failed"] == 1
    assert (
        dt.timedelta(minutes=29)
        < health["outbox"]["oldest_pending_age"]
        <= dt.timedelta(minutes=30)
    )
    assert health["worker"]["alive"] is True
    assert health["beat"]["alive"] is False


def test_a_stale_heartbeat_means_the_worker_is_down(cast):
    now = timezone.now()
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=now - dt.timedelta(minutes=10))
    assert sync_health(workspace=cast.workspace, now=now)["worker"]["alive"] is False


def test_other_workspaces_connections_are_not_listed(cast):
    Connection.objects.create(
        workspace=cast.other_workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Theirs",
        base_url="http://127.0.0.1:9/",
    )
    assert sync_health(workspace=cast.workspace, now=timezone.now())["connections"] == []
