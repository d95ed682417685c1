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


@pytest.fixture
def staff_client(cast, client):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


def test_sync_now_takes_the_user_to_the_queued_runs_page(staff_client, rooms_connection):
    response = staff_client.post(
        f"/admin/syncing/connection/{rooms_connection.pk}/sync/", {"stream": "rooms"}
    )
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.QUEUED
    assert response.status_code == 302
    assert response["Location"] == f"/admin/syncing/syncrun/{run.pk}/change/"


def test_full_refresh_takes_the_user_to_its_runs_page(staff_client, rooms_connection):
    response = staff_client.post(
        f"/admin/syncing/connection/{rooms_connection.pk}/sync/",
        {"stream": "rooms", "full_refresh": "1"},
    )
    run = SyncRun.objects.get()
    assert (run.status, run.full_refresh) == (SyncRun.Status.QUEUED, True)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/syncing/syncrun/{run.pk}/change/"


def test_the_list_action_on_two_connections_shows_both_runs(cast, staff_client, rooms_connection):
    second = Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Rooms 2",
        base_url="http://127.0.0.1:9/",
    )
    response = staff_client.post(
        "/admin/syncing/connection/",
        {"action": "full_refresh", "_selected_action": [rooms_connection.pk, second.pk]},
    )
    runs = SyncRun.objects.order_by("pk")
    assert [run.full_refresh for run in runs] == [True, True]
    assert response["Location"].endswith(f"?id__in={runs[0].pk},{runs[1].pk}")


def test_the_progress_panel_polls_while_active_and_reloads_once_ended(
    staff_client, rooms_connection
):
    run = _run(rooms_connection, "rooms", SyncRun.Status.RUNNING, 1, created=40)
    url = f"/admin/syncing/syncrun/{run.pk}/progress/"

    active = staff_client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in active.content.decode()
    assert "HX-Refresh" not in active

    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)
    ended = staff_client.get(url, HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in ended.content.decode()
    assert ended["HX-Refresh"] == "true"


def test_another_workspaces_run_progress_is_not_found(cast, client, rooms_connection):
    run = _run(rooms_connection, "rooms", SyncRun.Status.RUNNING, 1)
    cast.outsider.user.is_staff = True
    cast.outsider.user.save()
    client.force_login(cast.outsider.user)
    assert client.get(f"/admin/syncing/syncrun/{run.pk}/progress/").status_code == 404


def test_connections_list_shows_a_running_indicator(staff_client, rooms_connection):
    assert (
        "running-indicator" not in staff_client.get("/admin/syncing/connection/").content.decode()
    )
    _run(rooms_connection, "rooms", SyncRun.Status.RUNNING, 1)
    assert "running-indicator" in staff_client.get("/admin/syncing/connection/").content.decode()
