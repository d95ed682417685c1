"""The video-rooms platform's workspace stream against the fake on loopback: rooms,
recordings, booking pages, contacts and events end equal to the upstream's, the workspace
analytics answer as if the same data had been ingested, incremental runs read what changed,
faults converge without duplicates."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from insights.models import BookingPage, ContactEvent, Recording
from rooms.models import Contact, Room
from syncing.coordination import redis_client
from syncing.health import sync_health
from syncing.models import Connection, SyncRun, VideoRoom
from syncing.providers.video_platform.store import NO_EMAIL_DOMAIN
from syncing.schedules import connection_schedules, schedule_every_minutes
from syncing.services import connection_create
from syncing.streams import stream_run
from syncing.tasks import run_stream
from tests.conftest import wait_until
from tests.factories import WorkspaceFactory
from tests.syncing.conftest import admin_edit_connection
from tests.syncing.fakes.video_platform import (
    PAGES,
    ROOMS,
    WEBHOOK_SECRET,
    FakeVideoPlatform,
)
from workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

EVENTS = "/events"


@pytest.fixture
def fake():
    fake = FakeVideoPlatform().start()
    yield fake
    fake.stop()


def connect(workspace, fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.VIDEO_PLATFORM,
        name="Nexus",
        base_url=fake.url,
        credentials={"api_key": fake.api_key, "webhook_secret": WEBHOOK_SECRET},
        options={"workspace_id": fake.workspace_id, "requests_per_second": 1000, "burst": 1000},
    )


@pytest.fixture
def connection(workspace, fake) -> Connection:
    return connect(workspace, fake)


def pull(connection_, **options) -> SyncRun:
    run = stream_run(connection=connection_, stream="workspace", **options)
    assert run is not None
    return run


def event_calls(fake) -> int:
    return sum(1 for _, path in fake.requests if path.endswith(EVENTS))


def at(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def email_of(contact: dict) -> str:
    return (contact["email"] or f"{contact['id']}@{NO_EMAIL_DOMAIN}").lower()


def upstream_events(fake) -> dict[str, tuple]:
    rooms = {room["id"]: room["name"] for room in fake.rooms.values()}
    return {
        f"nexus:{fake.workspace_id}:event:{e['id']}": (
            e["event_type"],
            email_of(fake.contacts[e["contact_id"]]),
            rooms.get(e["room_id"]),
            e["booking_page_slug"],
            json.loads(e["metadata"]) if e["metadata"] else {},
            at(e["created_at"]),
        )
        for e in fake.all_events()
    }


def stored_events(workspace) -> dict[str, tuple]:
    return {
        e.client_id: (
            e.event_type,
            e.contact.email,
            e.room.slug if e.room else None,
            e.booking_page.slug if e.booking_page else None,
            e.metadata,
            e.occurred_at.isoformat(),
        )
        for e in ContactEvent.objects.for_workspace(workspace).select_related(
            "contact", "room", "booking_page"
        )
    }


def upstream_state(fake) -> dict:
    return {
        "contacts": {
            email_of(c): (c["name"] or "", at(c["created_at"])) for c in fake.contacts.values()
        },
        "recordings": {
            f"nexus:{fake.workspace_id}:recording:{r['id']}": (
                fake.rooms[r["room_id"]]["name"],
                r["duration"],
                r["status"],
                at(r["created_at"]),
            )
            for r in fake.recordings
        },
        "rooms": {
            room["name"]: (dict(ROOMS).get(room["name"], room["name"]), at(room["created_at"]))
            for room in fake.rooms.values()
        },
        "booking_pages": {slug: title for slug, title in PAGES},
    }


def stored_state(workspace) -> dict:
    return {
        "contacts": {
            c.email: (c.name, c.created_at.isoformat())
            for c in Contact.objects.for_workspace(workspace)
        },
        "recordings": {
            r.client_id: (r.room.slug, r.duration_seconds, r.status, r.created_at.isoformat())
            for r in Recording.objects.for_workspace(workspace).select_related("room")
        },
        "rooms": {
            r.slug: (r.title, r.created_at.isoformat())
            for r in Room.objects.for_workspace(workspace)
        },
        "booking_pages": {p.slug: p.title for p in BookingPage.objects.for_workspace(workspace)},
    }


def test_a_full_sync_stores_everything_field_by_field(connection, fake, workspace):
    fake.populate(40)
    # The room nobody joined keeps its slug as title: the room list carries no display name.
    quiet = ROOMS[-1][0]

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert stored_events(workspace) == upstream_events(fake)
    expected = upstream_state(fake)
    expected["rooms"][quiet] = (quiet, expected["rooms"][quiet][1])
    assert stored_state(workspace) == expected
    links = VideoRoom.objects.filter(connection=connection)
    assert {link.upstream_id for link in links} == {str(i) for i in fake.rooms}
    assert not Room.objects.for_workspace(workspace).exclude(upstream_id="").exists()
    # 6 rooms, 10 recordings, 40 contacts, each counted once.
    assert (run.created, run.updated, run.unchanged, run.failed) == (56, 0, 0, 0)


def analytics(client, workspace) -> dict:
    """The workspace analytics, without the local ids of rooms and booking pages (they
    differ between two workspaces holding the same data)."""
    key = api_key_create(workspace=workspace, name="analytics").plaintext
    answer = client.get(
        f"/api/workspaces/{workspace.pk}/analytics", HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()
    for name in ("topRooms", "topBookingPages"):
        for row in answer[name]:
            row.pop("id")
    return answer


def ingested_twin_analytics(client, fake) -> dict:
    """The analytics of a new workspace that received the fake's state through the ingestion
    API (``POST /api/workspaces/{id}/activity``) instead of a connection."""
    twin = WorkspaceFactory(slug="ingested")
    quiet = ROOMS[-1][0]  # nobody joins it: its title stays its name
    rooms = {
        room["id"]: Room.objects.create(
            workspace=twin,
            title=room["name"]
            if room["name"] == quiet
            else dict(ROOMS).get(room["name"], room["name"]),
            slug=room["name"],
        )
        for room in fake.rooms.values()
    }
    # Contacts with no event reach the twin the only way the API has: they are not ingested,
    # so they are created here as the rooms app would.
    for contact in fake.contacts.values():
        Contact.objects.create(
            workspace=twin,
            email=email_of(contact),
            name=contact["name"] or "",
            created_at=datetime.fromtimestamp(contact["created_at"], UTC),
        )
    items = [
        {
            "id": f"e{e['id']}",
            "kind": "contact_event",
            "type": e["event_type"],
            "contact": {"email": email_of(fake.contacts[e["contact_id"]])},
            **({"roomId": str(rooms[e["room_id"]].pk)} if e["room_id"] else {}),
            **(
                {"bookingPage": {"slug": e["booking_page_slug"], "title": e["booking_page_title"]}}
                if e["booking_page_slug"]
                else {}
            ),
            "metadata": json.loads(e["metadata"]) if e["metadata"] else {},
            "at": at(e["created_at"]),
        }
        for e in fake.all_events()
    ] + [
        {
            "id": f"r{r['id']}",
            "kind": "recording",
            "roomId": str(rooms[r["room_id"]].pk),
            "durationInSeconds": r["duration"],
            "status": r["status"],
            "at": at(r["created_at"]),
        }
        for r in fake.recordings
    ]
    twin_key = api_key_create(workspace=twin, name="t").plaintext
    posted = client.post(
        f"/api/workspaces/{twin.pk}/activity",
        {"events": items},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {twin_key}",
    )
    assert posted.status_code in (200, 201), posted.content
    return analytics(client, twin)


def test_the_analytics_answer_the_same_as_after_ingesting_the_same_data(
    connection, fake, workspace, client
):
    fake.populate(60, start=datetime.now(UTC) - timedelta(days=10))
    pull(connection, full_refresh=True)

    pulled = analytics(client, workspace)

    assert pulled == ingested_twin_analytics(client, fake)
    assert pulled["kpis"]["contacts"] == 60
    assert pulled["topRooms"]


def test_a_second_run_reads_no_events_and_changes_nothing(connection, fake, workspace):
    fake.populate(30)
    pull(connection, full_refresh=True)
    calls = event_calls(fake)

    run = pull(connection, full_refresh=True)

    assert (run.created, run.updated, run.unchanged) == (0, 0, 6 + 10 + 30)
    assert event_calls(fake) == calls


def test_an_incremental_run_reads_exactly_the_contacts_that_changed(connection, fake, workspace):
    fake.populate(30)
    pull(connection)
    changed = list(fake.contacts)[3]
    fake.add_event(changed, "room_join")
    newcomer = fake.add_contact("New Person", "NEW@example.com", at=datetime.now(UTC))
    fake.add_event(newcomer["id"], "booking")
    fake.recordings[0]["status"] = "failed"
    calls, lists = event_calls(fake), len(fake.requests)

    run = pull(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    # The changed contact's and the newcomer's events; the list filtered by updated_since.
    assert event_calls(fake) == calls + 2
    listed = [q for m, q in fake.requests[lists:] if q.endswith("/contacts")]
    assert len(listed) == 1
    assert (run.created, run.updated) == (1, 2)  # the newcomer; the contact and the recording
    assert stored_events(workspace) == upstream_events(fake)
    assert Contact.objects.get(workspace=workspace, email="new@example.com").name == "New Person"
    assert stored_state(workspace)["recordings"] == upstream_state(fake)["recordings"]


def test_an_upstream_that_ignores_updated_since_costs_list_pages_only(connection, fake, workspace):
    fake.populate(30)
    fake.ignore_since = True
    pull(connection)
    fake.add_event(list(fake.contacts)[5], "booking")
    calls = event_calls(fake)

    run = pull(connection)

    assert event_calls(fake) == calls + 1
    assert run.updated == 1
    assert stored_events(workspace) == upstream_events(fake)


def test_an_event_deleted_upstream_is_deleted_here(connection, fake, workspace):
    fake.populate(10)
    pull(connection)
    contact_id = next(c for c, events in fake.events.items() if len(events) > 1)
    fake.events[contact_id].pop()
    fake.contacts[contact_id]["event_count"] -= 1
    fake.contacts[contact_id]["updated_at"] = int(datetime.now(UTC).timestamp())

    pull(connection)

    assert stored_events(workspace) == upstream_events(fake)


def test_a_contact_that_changes_during_the_run_is_read_again_by_the_next(
    connection, fake, workspace
):
    """250 contacts make three pages. The first run's window is everything; a second
    (incremental) run starts while an old contact on page 1 gets a new event: it enters the
    filtered list before page 2 and pushes a contact across the boundary, so the cursor stays
    and the third run reads that window again."""
    fake.populate(250, start=datetime.now(UTC) - timedelta(days=20))
    pull(connection)
    recent = [c for c in fake.contacts.values()][-150:]
    for contact in recent:
        fake.add_event(contact["id"], "room_leave")
    old = next(iter(fake.contacts))

    def an_old_contact_changes(query: dict) -> None:
        if query.get("page") == "2" and fake.on_contacts is not None:
            fake.on_contacts = None
            fake.add_event(old, "room_join")

    fake.on_contacts = an_old_contact_changes
    second = pull(connection)
    assert second.cursor_after == second.cursor_before

    third = pull(connection)

    # The cursor moves to the third run's start (whole seconds, so it may equal the first
    # run's when all three runs fall within one second).
    assert third.cursor_after == {"until": int(third.started_at.timestamp())}
    assert stored_events(workspace) == upstream_events(fake)


def test_with_a_fifth_of_requests_failing_the_runs_converge_without_duplicates(
    connection, fake, workspace, settings
):
    settings.SYNC_HTTP_RETRIES = 5
    fake.populate(60)
    fake.fault_rate = 0.2
    fake.fault_kinds = ("503", "429", "429-bare", "timeout")
    fake.retry_after = 0
    fake.slow_seconds = 0.7

    runs = []
    while not runs or runs[-1].status != SyncRun.Status.SUCCEEDED:
        assert len(runs) < 4, [run.errors for run in runs]
        runs.append(pull(connection, full_refresh=True))

    assert len(fake.faults_served) > 10
    assert {"429", "429-bare"} & set(fake.faults_served)
    assert stored_events(workspace) == upstream_events(fake)
    assert ContactEvent.objects.for_workspace(workspace).count() == len(fake.all_events())
    assert Room.objects.for_workspace(workspace).count() == len(fake.rooms)
    assert Recording.objects.for_workspace(workspace).count() == len(fake.recordings)


def test_the_rooms_platform_pull_leaves_video_rooms_alone(
    connection, fake, workspace, rooms_connection, rooms_fake
):
    """Video rooms are rooms of the workspace with no upstream id: the rooms platform's full
    refresh (which archives its rooms upstream no longer has) neither matches nor archives
    them; a video room whose name another room has as slug gets a suffix."""
    fake.populate(10)
    taken = ROOMS[0][0]
    Room.objects.create(workspace=workspace, title="Team standup", slug=taken)
    rooms_fake.add_room(title="Deal room")
    assert stream_run(connection=rooms_connection, stream="rooms", full_refresh=True)
    pull(connection, full_refresh=True)

    rooms_run = stream_run(connection=rooms_connection, stream="rooms", full_refresh=True)

    assert rooms_run.status == SyncRun.Status.SUCCEEDED, rooms_run.errors
    video = Room.objects.filter(pk__in=VideoRoom.objects.values("room_id"))
    assert video.count() == len(fake.rooms)
    assert not video.filter(archived=True).exists()
    assert video.filter(slug=f"{taken}-video").exists()


def test_a_malformed_contact_is_recorded_and_the_others_are_stored(connection, fake, workspace):
    fake.populate(5)
    broken = next(iter(fake.contacts.values()))
    broken["email"] = "not an address"

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == 1
    assert "email" in run.errors[0]["message"]
    assert Contact.objects.for_workspace(workspace).count() == 4


def test_refused_credentials_mark_the_connection_for_reauthentication(connection, fake):
    fake.api_key = "lnx_rotated"

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_nothing_duplicated(short_lock_worker, fake):
    """Issue 16: a real worker SIGKILLed while it reads the second contacts page; the next
    run (its lock expired) stores what is missing and nothing twice."""
    worker = short_lock_worker
    workspace = WorkspaceFactory()
    connection_ = connect(workspace, fake)
    fake.populate(250)  # three contacts pages
    fake.delay = 0.02  # slow enough for the kill to land while page 2 is read
    first_page = len(fake.rooms) + len(fake.recordings) + 100

    run_stream.delay(connection_.pk, "workspace", SyncRun.Trigger.MANUAL, False)
    killed = wait_until(
        lambda: SyncRun.objects.filter(connection=connection_, created__gte=first_page).first(),
        timeout=120,
        interval=0.05,
    )
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(lambda: not redis_client().exists(f"sync:lock:run:{connection_.pk}:workspace"))
    fake.delay = 0.0

    run = pull(connection_)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.created + run.updated + run.unchanged == first_page + 150
    assert run.created < 150 + 1  # the killed run's first page was kept
    assert stored_events(workspace) == upstream_events(fake)
    assert ContactEvent.objects.for_workspace(workspace).count() == len(fake.all_events())
    assert Contact.objects.for_workspace(workspace).count() == len(fake.contacts)
    assert Room.objects.for_workspace(workspace).count() == len(fake.rooms)
    assert VideoRoom.objects.filter(connection=connection_).count() == len(fake.rooms)
    assert Recording.objects.for_workspace(workspace).count() == len(fake.recordings)
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED


def test_a_video_connection_is_set_up_and_tested_from_the_admin(client, staff, fake):
    """Issue 16 item 3: the connection type in the admin, its key and webhook secret
    encrypted at rest, a refused key marks it for re-authentication, the right one tests OK,
    its schedules are stored, and it shows on the dashboard's sync health panel."""
    client.force_login(staff.owner.user)
    form = {
        "workspace": staff.workspace.pk,
        "provider": "video_platform",
        "name": "Our Nexus",
        "base_url": fake.url,
        "api_key": "lnx_mistyped",
        "webhook_secret": WEBHOOK_SECRET,
        "enabled": "on",
        "options": json.dumps({"workspace_id": fake.workspace_id}),
        "schedule_workspace_every": "30",
        "schedule_workspace_on": "on",
        "schedule_workspace_full_refresh_every": "720",
        "schedule_workspace_full_refresh_on": "on",
    }

    refused = client.post("/admin/syncing/connection/add/", form, follow=True)

    connection_ = Connection.objects.get(name="Our Nexus")
    assert "refused the credentials" in refused.content.decode()
    assert connection_.status == Connection.Status.NEEDS_REAUTH
    stored_secret = Connection.objects.values_list("credentials_encrypted", flat=True).get(
        pk=connection_.pk
    )
    for secret in ("lnx_mistyped", WEBHOOK_SECRET):
        assert secret not in stored_secret
    assert connection_.credentials == {"api_key": "lnx_mistyped", "webhook_secret": WEBHOOK_SECRET}
    assert sorted(schedule_every_minutes(t) for t in connection_schedules(connection_)) == [30, 720]
    [row] = sync_health(workspace=staff.workspace, now=datetime.now(UTC))["connections"]
    assert (row["name"], row["status"]) == ("Our Nexus", Connection.Status.NEEDS_REAUTH)
    assert "Our Nexus" in client.get("/admin/").content.decode()

    fake.populate(3)
    admin_edit_connection(
        client,
        connection_,
        api_key=fake.api_key,
        options=json.dumps({"workspace_id": fake.workspace_id}),
    )
    tested = client.post(f"/admin/syncing/connection/{connection_.pk}/test/", follow=True)

    connection_.refresh_from_db()
    assert connection_.status == Connection.Status.OK
    assert f"{len(fake.rooms)} rooms readable" in tested.content.decode()
    assert connection_.credentials["webhook_secret"] == WEBHOOK_SECRET  # blank kept it
    page = client.get(f"/admin/syncing/connection/{connection_.pk}/change/").content.decode()
    assert f"{settings.PUBLIC_BASE_URL}/webhooks/video_platform/{connection_.pk}" in page


@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_while_events_are_read_fails_the_run_for_reauthentication(fake):
    """The event reads run in the fetch pool's threads: the 401 one of them gets still marks
    the connection and fails the run; the next run, with a good key, stores everything once."""
    workspace = WorkspaceFactory()
    connection_ = connect(workspace, fake)
    fake.populate(150)

    def revoke(query: dict) -> None:
        if query.get("page") == "2":
            fake.api_key = "lnx_revoked"

    fake.on_contacts = revoke

    run = pull(connection_)

    assert run.status == SyncRun.Status.FAILED
    connection_.refresh_from_db()
    assert connection_.status == Connection.Status.NEEDS_REAUTH
    fake.on_contacts, fake.api_key = None, connection_.credentials["api_key"]
    again = pull(connection_)
    assert again.status == SyncRun.Status.SUCCEEDED, again.errors
    assert stored_events(workspace) == upstream_events(fake)


def test_a_contact_renamed_upstream_is_renamed_and_one_known_here_first_is_dated_back(
    connection, fake, workspace
):
    fake.populate(3)
    first, second, _ = fake.contacts.values()
    seen_here = Contact.objects.create(
        workspace=workspace,
        email=email_of(second),
        name="",
        created_at=datetime.now(UTC),  # later than upstream's
    )
    pull(connection)
    first["name"], first["updated_at"] = "Renamed Person", int(datetime.now(UTC).timestamp())

    run = pull(connection)

    assert run.updated == 1
    assert Contact.objects.get(workspace=workspace, email=email_of(first)).name == "Renamed Person"
    seen_here.refresh_from_db()
    assert (seen_here.name, seen_here.created_at.isoformat()) == (
        second["name"],
        at(second["created_at"]),
    )


def test_a_pages_event_lists_are_read_pool_size_at_a_time(workspace, fake):
    connection_ = connection_create(
        workspace=workspace,
        provider=Connection.Provider.VIDEO_PLATFORM,
        name="Nexus",
        base_url=fake.url,
        credentials={"api_key": fake.api_key},
        options={
            "workspace_id": fake.workspace_id,
            "requests_per_second": 1000,
            "burst": 1000,
            "pool_size": 3,
        },
    )
    fake.populate(12)
    fake.delay = 0.1  # long enough for every thread of the pool to be answered at once

    run = pull(connection_, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert fake.max_in_flight == 3
    assert stored_events(workspace) == upstream_events(fake)


def test_records_with_a_nul_character_are_recorded_and_the_others_stored(
    connection, fake, workspace
):
    """PostgreSQL stores no NUL in text or jsonb: such a contact, and an event whose metadata
    holds one, are failures of their own, not of the run."""
    fake.populate(6)
    contacts = [c for c in fake.contacts.values() if c["event_count"]]
    contacts[0]["name"] = "Ann\u0000"
    event = fake.events[contacts[1]["id"]][0]
    event["metadata"] = json.dumps({"note": "a\u0000b"})

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.PARTIAL, run.errors
    assert run.failed == 2
    assert all("Null characters" in error["message"] for error in run.errors)
    stored = stored_events(workspace)
    assert f"nexus:{fake.workspace_id}:event:{event['id']}" not in stored
    assert len(stored) == len(fake.all_events()) - 1 - contacts[0]["event_count"]


def test_a_room_with_an_id_longer_than_64_characters_is_a_failure_of_its_own(
    connection, fake, workspace
):
    fake.populate(3)
    fake.rooms[max(fake.rooms)]["id"] = "r" * 65  # the quiet room: no event names it

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.PARTIAL, run.errors
    assert run.failed == 1
    assert Room.objects.for_workspace(workspace).count() == len(fake.rooms) - 1
