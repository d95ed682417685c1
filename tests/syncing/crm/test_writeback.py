"""Write-back against the fake HubSpot (batch update of 100, 207 per-item errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from rooms.models import Engagement, Room
from syncing.crm.writeback import crm_write_back
from syncing.models import Connection, CrmWriteBack, SyncRun
from syncing.runs import sync_run
from tests.rooms.factories import (
    ActionFactory,
    ContactFactory,
    EngagementFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    VisitFactory,
)

BATCH_UPDATE = "/crm/v3/objects/deals/batch/update"
PROPERTIES = {
    "room_url": "flowsync_room_url",
    "progress_percentage": "flowsync_progress_percentage",
    "total_views": "flowsync_total_views",
    "total_unique_views": "flowsync_total_unique_views",
    "total_engagements": "flowsync_total_engagements",
    "last_engaged_at": "flowsync_last_engaged_at",
}


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://flowsync.acme.example"


def linked_room(workspace, hubspot, **fields):
    deal = hubspot.add_deal()
    return RoomFactory(workspace=workspace, hs_deal_id=deal["id"], **fields)


def write_back(connection) -> SyncRun:
    with sync_run(connection=connection, stream="write_back", trigger="schedule") as run:
        crm_write_back(run)
    return SyncRun.objects.get(pk=run.run.pk)


def sent(hubspot) -> dict[str, dict]:
    """Every update the fake received, by deal id (the last one wins)."""
    return {item["id"]: item["properties"] for batch in hubspot.updates for item in batch}


def test_a_linked_room_has_its_figures_written_to_its_deal(workspace, hubspot, connection):
    room = linked_room(workspace, hubspot)
    section = SectionFactory(room=room)
    step = StepFactory(section=section)
    for status in ("done", "todo", "in_progress", "cancelled"):
        ActionFactory(section=section, status=status)
    buyer, champion = ContactFactory(workspace=workspace), ContactFactory(workspace=workspace)
    first = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    VisitFactory(room=room, contact=buyer, at=first)
    VisitFactory(room=room, contact=buyer, at=first + timedelta(hours=1))
    VisitFactory(room=room, contact=champion, at=first + timedelta(hours=2))
    EngagementFactory(step=step, contact=buyer, type=Engagement.Type.CLICK, created_at=first)
    EngagementFactory(step=step, contact=champion, type=Engagement.Type.DOWNLOAD, created_at=first)

    run = write_back(connection)

    assert (run.status, run.updated, run.unchanged, run.failed) == ("succeeded", 1, 0, 0)
    properties = hubspot.deals[room.hs_deal_id]["properties"]
    assert properties["flowsync_room_url"] == (
        f"https://flowsync.acme.example/admin/rooms/room/{room.pk}/change/"
    )
    assert properties["flowsync_progress_percentage"] == "33.33"  # 1 done of 3 not cancelled
    assert properties["flowsync_total_views"] == "3"
    assert properties["flowsync_total_unique_views"] == "2"
    assert properties["flowsync_total_engagements"] == "2"
    assert properties["flowsync_last_engaged_at"] == "2026-11-02T11:00:00.000Z"  # last visit
    assert CrmWriteBack.objects.get().room_id == room.pk


def test_a_room_without_activity_writes_zeros_and_clears_last_engaged(
    workspace, hubspot, connection
):
    room = linked_room(workspace, hubspot)

    write_back(connection)

    assert sent(hubspot)[room.hs_deal_id] == {
        "flowsync_room_url": f"https://flowsync.acme.example/admin/rooms/room/{room.pk}/change/",
        "flowsync_progress_percentage": 0.0,
        "flowsync_total_views": 0,
        "flowsync_total_unique_views": 0,
        "flowsync_total_engagements": 0,
        "flowsync_last_engaged_at": "",  # HubSpot clears a property with ""
    }


def test_only_rooms_whose_figures_changed_are_written_again(workspace, hubspot, connection):
    rooms = [linked_room(workspace, hubspot) for _ in range(3)]
    write_back(connection)
    calls = hubspot.count("POST", BATCH_UPDATE)

    again = write_back(connection)

    assert hubspot.count("POST", BATCH_UPDATE) == calls  # nothing changed: no call at all
    assert (again.updated, again.unchanged) == (0, 3)

    VisitFactory(room=rooms[1])
    hubspot.updates.clear()
    changed = write_back(connection)

    assert list(sent(hubspot)) == [rooms[1].hs_deal_id]
    assert sent(hubspot)[rooms[1].hs_deal_id]["flowsync_total_views"] == 1
    assert (changed.updated, changed.unchanged) == (1, 2)


def test_updates_go_in_batches_of_at_most_100(workspace, hubspot, connection):
    rooms = [linked_room(workspace, hubspot) for _ in range(230)]

    run = write_back(connection)

    assert sorted(len(batch) for batch in hubspot.updates) == [30, 100, 100]
    assert sent(hubspot).keys() == {room.hs_deal_id for room in rooms}
    assert run.updated == 230


def test_a_failed_item_is_counted_and_retried_by_the_next_run(workspace, hubspot, connection):
    rooms = [linked_room(workspace, hubspot) for _ in range(4)]
    refused = rooms[2].hs_deal_id
    hubspot.failing_updates[refused] = "Property values were not valid"

    run = write_back(connection)

    assert (run.status, run.updated, run.failed) == ("partial", 3, 1)
    assert run.errors[0]["upstreamId"] == refused
    assert "not valid" in run.errors[0]["message"]
    assert "flowsync_room_url" not in hubspot.deals[refused]["properties"]

    del hubspot.failing_updates[refused]
    hubspot.updates.clear()
    retry = write_back(connection)

    assert list(sent(hubspot)) == [refused]
    assert (retry.status, retry.updated, retry.unchanged) == ("succeeded", 1, 3)
    assert hubspot.deals[refused]["properties"]["flowsync_total_views"] == "0"


def test_rooms_not_to_write_are_left_alone(workspace, hubspot, connection):
    written = linked_room(workspace, hubspot)
    linked_room(workspace, hubspot, archived=True)
    linked_room(workspace, hubspot, is_template=True)
    RoomFactory(workspace=workspace)  # no link
    RoomFactory(workspace=workspace, attio_deal_id="deal-abc-123")  # another CRM
    outsider_deal = hubspot.add_deal()
    RoomFactory(hs_deal_id=outsider_deal["id"])  # another workspace

    write_back(connection)

    assert list(sent(hubspot)) == [written.hs_deal_id]


def test_two_rooms_on_one_deal_write_the_newest_one(workspace, hubspot, connection):
    older = linked_room(workspace, hubspot, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    march = datetime(2026, 3, 1, tzinfo=UTC)
    newer = RoomFactory(workspace=workspace, hs_deal_id=older.hs_deal_id, created_at=march)
    VisitFactory(room=newer)

    write_back(connection)

    (batch,) = hubspot.updates
    assert [item["id"] for item in batch] == [older.hs_deal_id]
    assert batch[0]["properties"]["flowsync_room_url"].endswith(f"/{newer.pk}/change/")
    assert batch[0]["properties"]["flowsync_total_views"] == 1


def test_property_names_come_from_the_connection_options(workspace, hubspot, connection):
    hubspot.properties.add("room_link")
    connection.options = {
        **connection.options,
        "write_back_properties": {"room_url": "room_link", "last_engaged_at": ""},
    }
    connection.save()
    room = linked_room(workspace, hubspot)

    write_back(connection)

    names = set(sent(hubspot)[room.hs_deal_id])
    expected = set(PROPERTIES.values()) - {"flowsync_room_url", "flowsync_last_engaged_at"}
    assert names == expected | {"room_link"}

    # Renaming a property writes every room again under the new name.
    connection.options["write_back_properties"] = {"last_engaged_at": ""}
    connection.save()
    hubspot.updates.clear()
    write_back(connection)
    assert "flowsync_room_url" in sent(hubspot)[room.hs_deal_id]


def test_refused_credentials_stop_the_run_and_nothing_counts_as_written(
    workspace, hubspot, connection
):
    for _ in range(150):
        linked_room(workspace, hubspot)
    hubspot.valid_tokens.clear()

    run = write_back(connection)

    connection.refresh_from_db()
    assert run.status == "failed"
    assert hubspot.count("POST", BATCH_UPDATE) == 1  # stopped at the first refusal
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert not CrmWriteBack.objects.exists()


def test_an_outage_mid_run_keeps_what_was_written(workspace, hubspot, connection):
    rooms = [linked_room(workspace, hubspot) for _ in range(150)]
    hubspot.inject("500", method="POST", path=BATCH_UPDATE)  # the first call fails

    failed = write_back(connection)

    assert failed.status == "failed"
    assert hubspot.count("POST", BATCH_UPDATE) == 1
    assert not CrmWriteBack.objects.exists()

    hubspot.updates.clear()
    write_back(connection)
    assert sent(hubspot).keys() == {room.hs_deal_id for room in rooms}


def _write_back_queries(connection) -> int:
    run_context = sync_run(connection=connection, stream="write_back", trigger="manual")
    with run_context as run, CaptureQueriesContext(db) as queries:
        crm_write_back(run)
    return len(queries)


def test_queries_do_not_grow_with_the_rooms_of_a_batch(workspace, hubspot, connection):
    for _ in range(3):
        linked_room(workspace, hubspot)
    few = _write_back_queries(connection)
    for _ in range(90):
        linked_room(workspace, hubspot)
    many = _write_back_queries(connection)  # 90 changed, 3 unchanged: still one batch

    assert few == many


def test_a_deal_whose_rooms_straddle_a_read_page_is_written_once(workspace, hubspot, connection):
    """More rooms than one read (1,000): the last deal's three rooms come 1,000th to 1,002nd."""
    deals = [hubspot.add_deal()["id"] for _ in range(1000)]  # ids of equal length, ascending
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rooms = [
        Room(workspace=workspace, title=f"Room {n}", slug=f"room-{n}", hs_deal_id=deal_id)
        for n, deal_id in enumerate(deals)
    ]
    rooms += [
        Room(
            workspace=workspace,
            title=f"Also {n}",
            slug=f"also-{n}",
            hs_deal_id=deals[-1],
            created_at=start - timedelta(days=n + 1),
        )
        for n in range(2)
    ]
    rooms[999].created_at = start  # the newest of the last deal's rooms
    Room.objects.bulk_create(rooms)

    run = write_back(connection)

    assert run.updated == 1000
    assert sorted(sent(hubspot)) == sorted(deals)
    assert sent(hubspot)[deals[-1]]["flowsync_room_url"].endswith(f"/{rooms[999].pk}/change/")
