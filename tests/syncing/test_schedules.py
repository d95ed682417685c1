"""Per-connection schedules, the admin's "Sync now" / "Full refresh", and stream runs."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from syncing.coordination import exclusive
from syncing.models import Connection, SyncRun
from syncing.schedules import connection_schedules
from syncing.services import connection_create
from syncing.streams import UnknownStreamError, stream_run, streams_of
from syncing.tasks import run_stream
from tests.conftest import wait_until
from tests.syncing.conftest import admin_edit_connection

pytestmark = pytest.mark.django_db


def test_a_connection_gets_one_schedule_per_stream(connection):
    streams = streams_of(connection.provider)
    assert streams, "the rooms platform has pull streams"

    schedules = list(connection_schedules(connection))

    assert len(schedules) == len(streams)
    for task in schedules:
        kwargs = json.loads(task.kwargs)
        assert task.task == "syncing.run_stream"
        assert kwargs == {
            "connection_id": connection.pk,
            "stream": kwargs["stream"],
            "trigger": "schedule",
        }
        every = streams[kwargs["stream"]].every
        assert task.interval.schedule.run_every == every
        assert task.enabled


def test_the_scheduled_task_runs_the_stream(connection, rooms_fake):
    rooms_fake.add_room(title="Kick-off")
    (task,) = [t for t in connection_schedules(connection) if '"rooms"' in t.kwargs]

    run_stream(**json.loads(task.kwargs))

    run = SyncRun.objects.get(connection=connection, stream="rooms")
    assert (run.trigger, run.status, run.created) == ("schedule", "succeeded", 1)


def test_schedules_edited_in_the_admin_survive_a_connection_save(client, staff, connection):
    task = connection_schedules(connection).first()
    task.interval = IntervalSchedule.objects.create(every=3, period="hours")
    task.save()
    client.force_login(staff.owner.user)

    admin_edit_connection(client, connection, name="Flowla EU")

    task.refresh_from_db()
    assert (task.interval.every, task.interval.period) == (3, "hours")


def test_disabling_a_connection_switches_its_schedules_off_and_back_on(client, staff, connection):
    client.force_login(staff.owner.user)

    admin_edit_connection(client, connection, enabled="")
    assert not connection_schedules(connection).filter(enabled=True).exists()

    admin_edit_connection(client, connection)
    assert not connection_schedules(connection).filter(enabled=False).exists()


def test_deleting_a_connection_deletes_its_schedules(client, staff, connection):
    name_prefix = f"sync:{connection.pk}:"
    assert PeriodicTask.objects.filter(name__startswith=name_prefix).exists()
    client.force_login(staff.owner.user)

    client.post(f"/admin/syncing/connection/{connection.pk}/delete/", {"post": "yes"})

    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert not PeriodicTask.objects.filter(name__startswith=name_prefix).exists()


def test_overlapping_runs_are_refused(connection):
    with exclusive(f"run:{connection.pk}:rooms", ttl=30):
        assert stream_run(connection=connection, stream="rooms") is None

    run = stream_run(connection=connection, stream="rooms")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert SyncRun.objects.filter(connection=connection).count() == 1


def test_scheduled_runs_skip_a_connection_that_needs_new_credentials(connection, rooms_fake):
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.NEEDS_REAUTH)
    connection.refresh_from_db()

    assert stream_run(connection=connection, stream="rooms", trigger="schedule") is None
    assert rooms_fake.requests == []
    # A person asking for a run still gets one (it may be how they check new credentials).
    assert stream_run(connection=connection, stream="rooms", trigger="manual") is not None


def test_disabled_connections_do_not_run(connection, rooms_fake):
    Connection.objects.filter(pk=connection.pk).update(enabled=False)
    connection.refresh_from_db()

    assert stream_run(connection=connection, stream="rooms") is None
    assert rooms_fake.requests == []


def test_an_unknown_stream_is_an_error(connection):
    with pytest.raises(UnknownStreamError):
        stream_run(connection=connection, stream="invoices")


def test_the_default_owner_must_be_a_member(client, staff):
    """A CRM connection's (rooms are auto-created for its deals); nothing listens on its URL."""
    connection = connection_create(
        workspace=staff.workspace,
        provider=Connection.Provider.HUBSPOT,
        name="HubSpot",
        base_url="http://127.0.0.1:9",
        api_key="pat-unused",
    )
    client.force_login(staff.owner.user)

    admin_edit_connection(client, connection, default_owner=staff.outsider.user.pk)
    connection.refresh_from_db()
    assert connection.default_owner is None

    admin_edit_connection(client, connection, default_owner=staff.member.user.pk)
    connection.refresh_from_db()
    assert connection.default_owner == staff.member.user


def test_the_change_page_lists_streams_with_their_schedule_and_latest_run(
    client, staff, connection
):
    run = stream_run(connection=connection, stream="rooms")
    client.force_login(staff.member.user)

    page = client.get(f"/admin/syncing/connection/{connection.pk}/change/").content.decode()

    assert "Sync now" in page
    assert "Full refresh" in page
    assert f"/admin/syncing/syncrun/{run.pk}/change/" in page
    schedule = connection_schedules(connection).get(name=f"sync:{connection.pk}:rooms")
    assert f"/admin/django_celery_beat/periodictask/{schedule.pk}/change/" in page


def test_only_editors_may_queue_a_sync_and_only_known_streams(
    client, staff, connection, django_capture_on_commit_callbacks
):
    url = f"/admin/syncing/connection/{connection.pk}/sync/"

    client.force_login(staff.member.user)
    with django_capture_on_commit_callbacks() as queued:
        assert client.post(url, {"stream": "rooms"}).status_code == 403
    assert queued == []

    client.force_login(staff.outsider.user)
    with django_capture_on_commit_callbacks() as queued:
        assert client.post(url, {"stream": "rooms"}).status_code in (302, 404)
    assert queued == []

    client.force_login(staff.owner.user)
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks() as queued:
        page = client.post(url, {"stream": "invoices"}, follow=True).content.decode()
    assert queued == []
    assert "has no stream" in page


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sync_now_and_full_refresh_in_the_admin_run_on_a_worker(
    client, staff, connection, rooms_fake, celery_worker_process
):
    rooms_fake.add_room(title="Discovery")
    client.force_login(staff.owner.user)
    url = f"/admin/syncing/connection/{connection.pk}/sync/"

    client.post(url, {"stream": "rooms"})
    wait_until(
        lambda: SyncRun.objects.filter(connection=connection, status="succeeded").exists(),
        timeout=90,
    )
    client.post(url, {"stream": "rooms", "full_refresh": "1"})
    wait_until(
        lambda: SyncRun.objects.filter(
            connection=connection, full_refresh=True, status__in=SyncRun.Status.finished()
        ).exists(),
        timeout=90,
    )

    runs = list(SyncRun.objects.filter(connection=connection).order_by("started_at"))
    assert [(r.trigger, r.full_refresh, r.status) for r in runs] == [
        ("manual", False, "succeeded"),
        ("manual", True, "succeeded"),
    ]
    assert runs[0].created == 1
    assert celery_worker_process.poll() is None
