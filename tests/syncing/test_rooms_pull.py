"""The rooms stream against the fake rooms platform on loopback: the local database ends equal
to the upstream's state, unchanged rooms are not rewritten, incremental runs read what changed
since the cursor, faults are survived, vanished rooms are archived on a full refresh."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.formats import iso_utc
from rooms.models import Contact, Engagement, Room, RoomStatus, Section, Step, Viewership
from syncing.models import SyncRun
from syncing.providers.rooms_platform.pull import LOOKBACK
from syncing.streams import stream_run
from tests.factories import MembershipFactory, UserFactory
from tests.syncing.fakes.rooms_platform import EXTERNAL, INTERNAL
from tests.syncing.rooms_state import expected, stored

pytestmark = pytest.mark.django_db

WRITES = ("INSERT INTO", "UPDATE ", "DELETE FROM")


@pytest.fixture
def members(workspace) -> set[str]:
    """Two of the seller's team are members of the workspace; the third is not (so upstream's
    internal people who are not members become contacts)."""
    emails = {INTERNAL[0][0], INTERNAL[1][0]}
    for email in emails:
        MembershipFactory(workspace=workspace, user=UserFactory(email=email))
    return emails


def pull(connection_, **options) -> SyncRun:
    run = stream_run(connection=connection_, stream="rooms", **options)
    assert run is not None
    return run


def counts(run: SyncRun) -> tuple[int, int, int, int]:
    return run.created, run.updated, run.unchanged, run.failed


def test_a_full_sync_makes_the_database_equal_to_the_upstream(
    rooms_connection, rooms_fake, workspace, members
):
    rooms_fake.populate(40)
    # A contact known here under another case of the same email is reused, not doubled.
    Contact.objects.create(workspace=workspace, email=EXTERNAL[0][0].upper())

    run = pull(rooms_connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert counts(run) == (40, 0, 0, 0)
    want = expected(rooms_fake, members)
    have = stored(workspace)
    assert have["rooms"] == want["rooms"]
    for email, details in want["contacts"].items():
        assert have["contacts"][email] == details
    assert Contact.objects.filter(workspace=workspace).count() == len(want["contacts"])
    assert dict(
        RoomStatus.objects.filter(workspace=workspace).values_list("upstream_id", "title")
    ) == {"st-open": "Open", "st-won": "Won", "st-unlisted": "st-unlisted"}
    # One list page, one analytics call per room, one statuses call.
    assert run.upstream_calls == 1 + 1 + 40


def test_a_second_run_writes_nothing_and_counts_everything_unchanged(
    rooms_connection, rooms_fake, workspace, members
):
    rooms_fake.populate(25)
    pull(rooms_connection, full_refresh=True)
    before = stored(workspace)

    with CaptureQueriesContext(connection) as queries:
        again = pull(rooms_connection, full_refresh=True)

    assert counts(again) == (0, 0, 25, 0)
    assert stored(workspace) == before
    room_writes = [
        q["sql"] for q in queries if q["sql"].startswith(WRITES) and '"rooms_' in q["sql"]
    ]
    assert room_writes == []


def test_a_room_changed_upstream_is_rewritten_to_match(
    rooms_connection, rooms_fake, workspace, members
):
    rooms = rooms_fake.populate(6)
    pull(rooms_connection)
    changed = rooms[2]["id"]
    analytics = rooms_fake.analytics[changed]
    del analytics["sections"][0]  # a section gone, with its pages, actions and activity
    analytics["sections"].append(
        rooms_fake.make_analytics(random.Random(3), at=datetime.now(UTC))["sections"][0]
    )
    analytics["assignees"] = [a for a in analytics["assignees"] if not a.get("isRoomOwner")]
    rooms_fake.touch(changed, title="Renamed upstream", statusId=None, companyId="co-new")

    run = pull(rooms_connection)

    assert counts(run) == (0, 1, 5, 0)
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]


def test_a_changed_room_rewrites_only_the_rows_that_changed(
    rooms_connection, rooms_fake, workspace, members
):
    room = rooms_fake.populate(1)[0]
    analytics = rooms_fake.analytics[room["id"]]
    buyer, other = [
        {key: value for key, value in person.items() if key != "title"}
        for person in analytics["assignees"]
        if person["belongsTo"] == "external_organization"
    ][:2]
    early, late = "2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z"

    def viewed(person: dict, seconds: int, engagements: list[tuple[str, str]]) -> dict:
        return {
            "user": person,
            "durationInSeconds": seconds,
            "timesViewed": 2,
            "engagements": [{"type": kind, "createdAt": at} for kind, at in engagements],
        }

    section = analytics["sections"][0]
    pricing, terms = (
        {"id": "step-pricing", "title": "Pricing", "isVisibleToExternal": True},
        {"id": "step-terms", "title": "Terms", "isVisibleToExternal": True},
    )
    # The same engagement twice is two rows.
    pricing["viewership"] = [
        viewed(buyer, 100, [("VIEW", early), ("VIEW", early), ("CLICK", late)])
    ]
    terms["viewership"] = [viewed(other, 30, [("SHARE", late)])]
    section["steps"] = [pricing, terms]
    section["actions"] = [
        {
            "id": "action-sign",
            "title": "Sign",
            "status": "todo",
            "description": None,
            "internal": False,
            "dueDate": None,
            "isOverdue": False,
            "isVisibleToExternal": True,
            "actionType": None,
            "assignees": [{"type": "user", "user": buyer}, {"type": "user", "user": other}],
            "viewership": [],
        }
    ]
    pull(rooms_connection)
    Section.objects.update(updated_at=datetime(2026, 1, 2, tzinfo=UTC))
    Step.objects.update(updated_at=datetime(2026, 1, 2, tzinfo=UTC))
    viewed_terms = Viewership.objects.get(step__upstream_id="step-terms")
    engagements = dict(Engagement.objects.values_list("id", "type"))

    pricing["viewership"] = [
        viewed(buyer, 150, [("VIEW", early), ("CLICK", late), ("CLICK", late)])
    ]
    section["actions"][0]["assignees"] = [{"type": "user", "user": buyer}]
    rooms_fake.touch(room["id"], title="Renamed upstream")
    run = pull(rooms_connection)

    assert counts(run) == (0, 1, 0, 0)
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]
    # What did not change is not rewritten: same rows, same updated_at.
    assert set(Section.objects.values_list("updated_at", flat=True)) == {
        datetime(2026, 1, 2, tzinfo=UTC)
    }
    assert set(Step.objects.values_list("updated_at", flat=True)) == {
        datetime(2026, 1, 2, tzinfo=UTC)
    }
    assert Viewership.objects.filter(pk=viewed_terms.pk, duration_in_seconds=30).exists()
    now = dict(Engagement.objects.values_list("id", "type"))
    # Of the pricing page's engagements one VIEW is gone and one CLICK new; the others
    # (the terms page's SHARE, the other VIEW, the first CLICK, other sections') are kept.
    kept = now.keys() & engagements.keys()
    assert len(now) == len(engagements)
    assert [engagements[pk] for pk in engagements.keys() - kept] == ["VIEW"]
    assert [now[pk] for pk in now.keys() - kept] == ["CLICK"]


def test_an_incremental_run_reads_exactly_the_rooms_changed_since_the_cursor(
    rooms_connection, rooms_fake, workspace, members
):
    start = datetime.now(UTC) - timedelta(days=2)
    rooms = [
        rooms_fake.add_room(title=f"Room {n}", at=start + timedelta(hours=n)) for n in range(6)
    ]
    first = pull(rooms_connection)
    cursor = rooms[-1]["updatedAt"]
    assert first.cursor_after == {"updatedAt": cursor}

    # Changed content, but upstream did not bump updatedAt: not read by an incremental run.
    rooms_fake.rooms[rooms[0]["id"]]["title"] = "Silently changed"
    # Committed late upstream with a time equal to the cursor.
    rooms_fake.touch(rooms[1]["id"], title="Late, at the cursor", at=datetime.fromisoformat(cursor))
    rooms_fake.touch(rooms[2]["id"], title="Changed now")
    rooms_fake.requests.clear()

    run = pull(rooms_connection)

    assert run.cursor_before == {"updatedAt": cursor}
    # Read: the two changed rooms and the unchanged one at the cursor (inside the lookback).
    assert counts(run) == (0, 2, 1, 0)
    analytics_read = {
        path.split("/")[4] for method, path in rooms_fake.requests if path.endswith("/analytics")
    }
    assert analytics_read == {rooms[1]["id"], rooms[2]["id"], rooms[5]["id"]}
    titles = dict(Room.objects.values_list("upstream_id", "title"))
    assert titles[rooms[0]["id"]] == "Room 0"
    assert titles[rooms[1]["id"]] == "Late, at the cursor"
    assert titles[rooms[2]["id"]] == "Changed now"
    assert run.cursor_after == {"updatedAt": rooms_fake.rooms[rooms[2]["id"]]["updatedAt"]}


def test_rooms_older_than_the_cursor_minus_the_lookback_are_skipped(
    rooms_connection, rooms_fake, workspace
):
    now = datetime.now(UTC)
    inside = rooms_fake.add_room(title="Inside", at=now - timedelta(hours=1))
    outside = rooms_fake.add_room(title="Outside", at=now - timedelta(hours=3))
    pull(rooms_connection)
    cursor = inside["updatedAt"]
    rooms_fake.touch(
        inside["id"], title="Inside again", at=datetime.fromisoformat(cursor) - LOOKBACK
    )
    rooms_fake.touch(
        outside["id"],
        title="Outside again",
        at=datetime.fromisoformat(cursor) - LOOKBACK - timedelta(milliseconds=1),
    )

    run = pull(rooms_connection)

    assert counts(run) == (0, 1, 0, 0)
    assert set(Room.objects.values_list("title", flat=True)) == {"Inside again", "Outside"}
    # The newest room read is older than the cursor: the cursor does not move back.
    assert run.cursor_after == {"updatedAt": cursor}


def test_the_cursor_never_passes_the_run_start(rooms_connection, rooms_fake, workspace):
    # An upstream clock ahead of ours.
    rooms_fake.add_room(title="From the future", at=datetime.now(UTC) + timedelta(hours=1))

    run = pull(rooms_connection)

    assert run.created == 1
    assert run.cursor_after == {"updatedAt": iso_utc(run.started_at)}


def test_a_room_moved_by_an_update_during_the_run_holds_the_cursor_back(
    rooms_connection, rooms_fake, workspace
):
    start = datetime.now(UTC) - timedelta(days=1)
    rooms = [
        rooms_fake.add_room(title=f"Room {n}", at=start + timedelta(minutes=n)) for n in range(105)
    ]

    def update_the_first_room_once(room_id: str) -> None:
        if room_id == rooms[0]["id"] and rooms[0]["title"] == "Room 0":
            rooms_fake.touch(room_id, title="Updated during the run")

    # Room 0 is updated while page 1 is being read: it moves to the end of the list and every
    # room after it shifts one place towards the start, so room 100 slips onto page 1 (read).
    rooms_fake.on_analytics = update_the_first_room_once
    first = pull(rooms_connection)

    assert not Room.objects.filter(upstream_id=rooms[100]["id"]).exists()
    # The cursor stays where the moved room was, so the next run reads that stretch again.
    assert first.cursor_after == {"updatedAt": rooms[0]["createdAt"]}
    rooms_fake.on_analytics = None
    second = pull(rooms_connection)

    assert second.created == 1
    assert Room.objects.filter(upstream_id__in=list(rooms_fake.rooms)).count() == 105


def test_with_a_fifth_of_requests_failing_one_run_pulls_everything(
    rooms_connection, rooms_fake, workspace, members, settings
):
    settings.SYNC_HTTP_RETRIES = 6
    rooms_fake.populate(120)
    rooms_fake.fault_rate = 0.2
    rooms_fake.fault_kinds = ("503", "500", "malformed", "429", "timeout")
    rooms_fake.retry_after = 0
    rooms_fake.slow_seconds = 0.7  # beyond the 0.5 s read timeout of the tests

    run = pull(rooms_connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert len(rooms_fake.faults_served) > 20
    assert counts(run) == (120, 0, 0, 0)
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]


def test_a_page_that_keeps_failing_fails_the_run_and_the_next_run_resumes_after_it(
    rooms_connection, rooms_fake, workspace, members
):
    start = datetime.now(UTC) - timedelta(days=1)
    rooms = [
        rooms_fake.add_room(title=f"Room {n}", at=start + timedelta(minutes=n)) for n in range(130)
    ]

    def fail_the_next_list_page(room_id: str) -> None:
        if room_id == rooms[99]["id"]:  # the last room of page 1
            # The first try and the three retries of the tests' HTTP settings.
            rooms_fake.inject("503", times=4, method="GET", path="/api/v2/rooms", exact=True)

    rooms_fake.on_analytics = fail_the_next_list_page
    failed = pull(rooms_connection)

    assert failed.status == SyncRun.Status.FAILED
    assert "HTTP 503" in failed.errors[-1]["message"]
    assert Room.objects.count() == failed.created == 100  # page 1 is kept
    # ... and so is the progress: the next run starts after page 1.
    assert failed.cursor_after == {"updatedAt": rooms[99]["updatedAt"]}
    rooms_connection.refresh_from_db()
    assert rooms_connection.status == "failing"

    rooms_fake.on_analytics = None
    rooms_fake.requests.clear()
    again = pull(rooms_connection)

    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.cursor_before == failed.cursor_after
    # Page 1 again only within the lookback (rooms 94 to 99, one minute apart).
    assert counts(again) == (30, 0, 6, 0)
    analytics_read = {path.split("/")[4] for _, path in rooms_fake.requests if "/rooms/" in path}
    assert analytics_read == {room["id"] for room in rooms[94:]}
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]


def test_a_room_whose_analytics_keep_failing_is_a_failure_and_the_next_run_reads_it(
    rooms_connection, rooms_fake, workspace, members
):
    rooms = rooms_fake.populate(5)
    broken = rooms[2]["id"]
    rooms_fake.inject("500", times=4, method="GET", path=f"/api/v2/rooms/{broken}/analytics")

    run = pull(rooms_connection)

    assert run.status == SyncRun.Status.PARTIAL
    assert counts(run) == (4, 0, 0, 1)
    assert [error["upstreamId"] for error in run.errors] == [broken]
    # The cursor waits at the room it could not read.
    assert run.cursor_after == {"updatedAt": rooms[2]["updatedAt"]}

    again = pull(rooms_connection)

    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.created == 1
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]


def test_a_room_deleted_between_the_list_and_its_analytics_is_skipped(
    rooms_connection, rooms_fake, workspace
):
    kept = rooms_fake.add_room(title="Kept")
    deleted = rooms_fake.add_room(title="Deleted meanwhile")

    def delete_it(room_id: str) -> None:
        if room_id == deleted["id"]:
            rooms_fake.rooms.pop(room_id, None)

    rooms_fake.on_analytics = delete_it
    run = pull(rooms_connection)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert counts(run) == (1, 0, 0, 0)
    assert list(Room.objects.values_list("upstream_id", flat=True)) == [kept["id"]]


def test_a_full_refresh_archives_rooms_gone_upstream(rooms_connection, rooms_fake, workspace):
    rooms = [rooms_fake.add_room(title=f"Room {n}") for n in range(4)]
    local = Room.objects.create(workspace=workspace, title="Made here", slug="made-here")
    pull(rooms_connection)
    gone = rooms_fake.rooms.pop(rooms[1]["id"])

    pull(rooms_connection)
    assert not Room.objects.filter(archived=True).exists()  # an incremental run archives nothing

    run = pull(rooms_connection, full_refresh=True)
    assert run.status == SyncRun.Status.SUCCEEDED
    archived = set(Room.objects.filter(archived=True).values_list("upstream_id", flat=True))
    assert archived == {gone["id"]}
    assert Room.objects.count() == 5  # never deleted
    local.refresh_from_db()
    assert not local.archived

    # Back upstream: the next run un-archives it.
    rooms_fake.rooms[gone["id"]] = gone
    pull(rooms_connection, full_refresh=True)
    assert not Room.objects.filter(archived=True).exists()


def test_a_room_archived_here_stays_archived_when_it_changes_upstream(
    rooms_connection, rooms_fake, workspace
):
    room = rooms_fake.add_room(title="Old deal")
    pull(rooms_connection)
    Room.objects.filter(upstream_id=room["id"]).update(archived=True)
    rooms_fake.touch(room["id"], title="Old deal, renamed")

    pull(rooms_connection)

    assert Room.objects.filter(
        upstream_id=room["id"], archived=True, title="Old deal, renamed"
    ).exists()


def test_a_malformed_record_is_counted_failed_with_its_upstream_id(
    rooms_connection, rooms_fake, workspace, members
):
    rooms = rooms_fake.populate(4)
    del rooms_fake.rooms[rooms[0]["id"]]["createdAt"]
    rooms_fake.analytics[rooms[1]["id"]]["sections"][0]["actions"].append(
        {"id": "a-odd", "title": "Odd", "status": "someday", "assignees": [], "viewership": []}
    )
    rooms_fake.touch(rooms[2]["id"], themeColor="#1234567890")  # longer than our column

    run = pull(rooms_connection)

    assert run.status == SyncRun.Status.PARTIAL
    assert counts(run) == (1, 0, 0, 3)
    assert sorted(error["upstreamId"] for error in run.errors) == sorted(
        room["id"] for room in rooms[:3]
    )
    assert list(Room.objects.values_list("upstream_id", flat=True)) == [rooms[3]["id"]]


def _queries_for_a_sync(fake, connection_, rooms: int) -> int:
    fake.populate(rooms, seed=rooms)
    with CaptureQueriesContext(connection) as queries:
        run = pull(connection_)
    assert run.created == rooms
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_rooms_of_a_page(
    rooms_connection, rooms_fake, workspace, members
):
    one_page = _queries_for_a_sync(rooms_fake, rooms_connection, 100)
    Room.objects.all().delete()
    rooms_fake.rooms.clear()
    three_pages = _queries_for_a_sync(rooms_fake, rooms_connection, 300)

    # Two more pages cost no more than a whole one-page run, and far less than a query a room.
    assert three_pages - one_page <= 2 * one_page
    assert three_pages < 300 / 2


def test_a_full_refresh_does_not_archive_a_room_a_shifting_list_hid(
    rooms_connection, rooms_fake, workspace
):
    start = datetime.now(UTC) - timedelta(days=1)
    rooms = [
        rooms_fake.add_room(title=f"Room {n}", at=start + timedelta(minutes=n)) for n in range(105)
    ]
    pull(rooms_connection, full_refresh=True)

    def update_the_first_room_once(room_id: str) -> None:
        if room_id == rooms[0]["id"] and rooms[0]["title"] == "Room 0":
            rooms_fake.touch(room_id, title="Updated during the run")

    # As above: room 100 slips onto page 1 after page 1 was read, so the listing never shows it.
    rooms_fake.on_analytics = update_the_first_room_once
    rooms_fake.requests.clear()
    run = pull(rooms_connection, full_refresh=True)

    # Asked for by id before archiving, found, and read like the others.
    assert rooms_fake.count("GET", f"/api/v2/rooms/{rooms[100]['id']}") == 2  # record, analytics
    assert not Room.objects.filter(archived=True).exists()
    # Room 0 was read twice (its new analytics on page 1, its new record at the end).
    assert counts(run) == (0, 2, 104, 0)


@pytest.mark.parametrize(("pool_size", "overlapped"), [(None, 4), (2, 2), (1, 1)])
def test_analytics_are_read_through_a_bounded_pool(
    rooms_connection, rooms_fake, workspace, members, pool_size, overlapped
):
    rooms_fake.populate(8)
    rooms_fake.delay = 0.1  # each answer takes a while, as real upstreams' do
    if pool_size:
        rooms_connection.options["pool_size"] = pool_size
        rooms_connection.save()

    run = pull(rooms_connection)

    assert counts(run) == (8, 0, 0, 0)
    # Four at once by default (SYNC_FETCH_POOL_SIZE), never more than the pool.
    assert rooms_fake.max_in_flight == overlapped
    assert stored(workspace)["rooms"] == expected(rooms_fake, members)["rooms"]
