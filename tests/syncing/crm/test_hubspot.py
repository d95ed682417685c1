"""HubSpot streams against the fake HubSpot: incremental deal pulls (windows, ties, more than
10,000 changes, archived deals, webhook ids), and a 401 stopping the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from rooms.models import Room
from syncing.models import Connection, CrmDeal, SyncRun
from syncing.streams import stream_run
from tests.rooms.factories import RoomFactory, VisitFactory
from tests.syncing.fakes.hubspot import SEARCH_CAP

pytestmark = pytest.mark.django_db

SEARCH = "/crm/v3/objects/deals/search"
LONG_AGO = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def pull(connection, **options) -> SyncRun:
    run = stream_run(connection=connection, stream="deals", **options)
    assert run is not None
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run


def stored(connection) -> dict[str, CrmDeal]:
    return {deal.upstream_id: deal for deal in CrmDeal.objects.filter(connection=connection)}


def searched_ids(hubspot, since: int = 0) -> list[str]:
    """The ids of every deal HubSpot answered in searches from the ``since``-th on."""
    return [deal_id for answer in hubspot.search_answers[since:] for deal_id in answer]


def test_the_first_pull_reads_every_deal_with_owner_and_contact(connection, hubspot):
    owner = hubspot.add_owner("ae@acme.example")
    deals = [
        hubspot.add_deal(
            dealname=f"Deal {n}",
            hubspot_owner_id=owner,
            contacts=(f"buyer{n}@globex.example",),
            modified=LONG_AGO + timedelta(days=n),
        )
        for n in range(5)
    ]

    run = pull(connection)

    rows = stored(connection)
    assert run.created == 5
    assert sorted(rows) == sorted(deal["id"] for deal in deals)
    assert {row.owner_email for row in rows.values()} == {"ae@acme.example"}
    assert rows[deals[2]["id"]].contact_emails == ["buyer2@globex.example"]
    # The next window starts where this one ended: the run's start (milliseconds, UTC).
    window_end = datetime.fromisoformat(run.cursor_after["modified_to"])
    assert window_end == run.started_at.replace(
        microsecond=run.started_at.microsecond // 1000 * 1000
    )


def test_the_next_pull_reads_exactly_the_deals_changed_since(connection, hubspot):
    deals = [hubspot.add_deal(modified=LONG_AGO + timedelta(hours=n)) for n in range(30)]
    pull(connection)
    changed = [deals[3]["id"], deals[17]["id"], deals[29]["id"]]
    for deal_id in changed:
        hubspot.touch(deal_id, dealname=f"Renamed {deal_id}")
    searches = len(hubspot.search_answers)

    run = pull(connection)

    assert sorted(searched_ids(hubspot, searches)) == sorted(changed)
    assert (run.created, run.updated, run.unchanged) == (0, 3, 0)
    rows = stored(connection)
    assert {rows[deal_id].name for deal_id in changed} == {f"Renamed {d}" for d in changed}


def test_a_deal_indexed_late_is_caught_by_the_lookback(connection, hubspot):
    hubspot.add_deal(modified=LONG_AGO)
    first = pull(connection)
    # Changed a second before the first run started, but not yet searchable then.
    late = hubspot.add_deal(modified=first.started_at - timedelta(seconds=1))

    pull(connection)

    assert late["id"] in stored(connection)


def test_deals_sharing_one_modified_time_are_all_read_across_pages(connection, hubspot):
    # A bulk edit: 450 deals with the same hs_lastmodifieddate, more than two pages.
    moment = LONG_AGO + timedelta(days=30)
    deals = [hubspot.add_deal(modified=moment) for _ in range(450)]
    pull(connection)
    tie = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    for deal in deals[100:330]:
        hubspot.touch(deal["id"], at=tie, dealstage="closedwon")
    searches = len(hubspot.search_answers)

    run = pull(connection)

    read = searched_ids(hubspot, searches)
    assert sorted(read) == sorted(deal["id"] for deal in deals[100:330])
    assert len(read) == len(set(read)) == 230
    assert run.updated == 230
    assert CrmDeal.objects.filter(connection=connection, stage="closedwon").count() == 230


def test_a_deal_changed_again_while_the_pull_reads_makes_no_other_deal_skipped(connection, hubspot):
    deals = [hubspot.add_deal(modified=LONG_AGO) for _ in range(450)]
    first = deals[0]["id"]

    def change_the_first_deal(body):
        # After the first page: deal 1 leaves the window (its new time is after the run start).
        if len(hubspot.searches) == 1:
            hubspot.touch(first, at=datetime.now(UTC) + timedelta(minutes=1))

    hubspot.after_search = change_the_first_deal

    pull(connection)

    assert sorted(stored(connection)) == sorted(deal["id"] for deal in deals)


def test_more_than_ten_thousand_changes_in_one_window_are_all_read(connection, hubspot, settings):
    # The fake searches 10,000 deals in Python: give it time on a busy machine.
    settings.SYNC_HTTP_READ_TIMEOUT = 10.0
    moment = LONG_AGO + timedelta(days=3)
    count = SEARCH_CAP + 250
    for _ in range(count):
        hubspot.add_deal(modified=moment)

    run = pull(connection)

    assert run.created == count
    assert CrmDeal.objects.filter(connection=connection).count() == count
    assert len(set(searched_ids(hubspot))) == count

    # The fake holds HubSpot's cap: offset paging would have been refused past 10,000.
    def page_at(after: int) -> int:
        return requests.post(
            hubspot.url + SEARCH,
            json={"limit": 200, "after": str(after)},
            headers={"Authorization": f"Bearer {hubspot.api_key}"},
            timeout=30,
        ).status_code

    assert (page_at(SEARCH_CAP - 200), page_at(SEARCH_CAP)) == (200, 400)


def test_archived_deals_are_stored_archived(connection, hubspot):
    keep = hubspot.add_deal(modified=LONG_AGO)
    lost = hubspot.add_deal(modified=LONG_AGO, dealname="Lost cause")
    pull(connection)

    hubspot.archive(lost["id"])
    run = pull(connection)

    rows = stored(connection)
    assert (rows[lost["id"]].archived, rows[lost["id"]].name) == (True, "Lost cause")
    assert rows[keep["id"]].archived is False
    assert run.updated == 1


def test_deals_archived_before_the_window_are_not_read_again(connection, hubspot):
    old = hubspot.add_deal(modified=LONG_AGO)
    hubspot.archive(old["id"], at=LONG_AGO)
    pull(connection)
    assert stored(connection)[old["id"]].archived is True

    run = pull(connection)

    assert (run.created, run.updated, run.unchanged) == (0, 0, 0)


def test_a_webhook_pull_reads_the_named_deals_and_keeps_the_cursor(connection, hubspot):
    deals = [hubspot.add_deal(modified=LONG_AGO) for _ in range(3)]
    scheduled = pull(connection, trigger=SyncRun.Trigger.SCHEDULE)
    hubspot.touch(deals[1]["id"], dealstage="contractsent")

    run = pull(connection, trigger=SyncRun.Trigger.WEBHOOK, ids=[deals[1]["id"]])

    assert (run.updated, run.unchanged) == (1, 0)
    assert stored(connection)[deals[1]["id"]].stage == "contractsent"
    assert hubspot.count("POST", "/crm/v3/objects/deals/batch/read") == 1
    # The next scheduled run's window starts from the scheduled run's end, not the webhook's.
    nxt = pull(connection, trigger=SyncRun.Trigger.SCHEDULE)
    assert nxt.cursor_before == scheduled.cursor_after


def test_a_401_fails_the_run_and_stops_the_schedule(connection, hubspot):
    hubspot.add_deal()
    hubspot.valid_tokens.clear()

    run = stream_run(connection=connection, stream="deals", trigger=SyncRun.Trigger.SCHEDULE)

    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    calls = len(hubspot.requests)
    # The schedule does not hammer a connection waiting for new credentials.
    assert (
        stream_run(connection=connection, stream="deals", trigger=SyncRun.Trigger.SCHEDULE) is None
    )
    assert len(hubspot.requests) == calls
    assert not CrmDeal.objects.exists()


def test_a_bare_ten_secondly_429_during_a_pull_is_waited_out(connection, hubspot, settings):
    hubspot.add_deal(modified=LONG_AGO)
    hubspot.inject("rate-ten-secondly", times=settings.SYNC_HTTP_RETRIES + 2, path=SEARCH)

    run = pull(connection)

    assert run.created == 1


# --- write-back -------------------------------------------------------------------------------

PROPERTIES = (
    "flowsync_room_url",
    "flowsync_progress_percentage",
    "flowsync_total_views",
    "flowsync_total_unique_views",
    "flowsync_total_engagements",
    "flowsync_last_engaged_at",
)


def linked_rooms(workspace, hubspot, count: int) -> list[tuple[Room, str]]:
    pairs = []
    for _ in range(count):
        deal_id = hubspot.add_deal(modified=LONG_AGO)["id"]
        pairs.append((RoomFactory(workspace=workspace, hs_deal_id=deal_id), deal_id))
    return pairs


def write_back(connection) -> SyncRun:
    run = stream_run(connection=connection, stream="write_back")
    assert run is not None
    return run


def sent(hubspot, since: int = 0) -> list[str]:
    return [item["id"] for batch in hubspot.updates[since:] for item in batch]


def test_write_back_sends_changed_rooms_only_in_batches_of_at_most_100(
    workspace, connection, hubspot
):
    pairs = linked_rooms(workspace, hubspot, 250)

    first = write_back(connection)

    assert [len(batch) for batch in hubspot.updates] == [100, 100, 50]
    assert sorted(sent(hubspot)) == sorted(deal_id for _, deal_id in pairs)
    assert first.updated == 250
    room, deal_id = pairs[7]
    properties = hubspot.deals[deal_id]["properties"]
    assert set(PROPERTIES) <= set(properties)
    assert properties["flowsync_room_url"].endswith(f"/admin/rooms/room/{room.pk}/change/")
    assert properties["flowsync_total_views"] == "0"

    # Nothing changed: nothing is sent.
    second = write_back(connection)
    assert (len(hubspot.updates), second.unchanged, second.updated) == (3, 250, 0)

    # Two rooms got visits: exactly their two deals are written, with the new figures.
    for room, _ in (pairs[3], pairs[200]):
        VisitFactory(room=room)
        VisitFactory(room=room)
    third = write_back(connection)

    assert sorted(sent(hubspot, 3)) == sorted([pairs[3][1], pairs[200][1]])
    assert (third.updated, third.unchanged) == (2, 248)
    assert hubspot.deals[pairs[3][1]]["properties"]["flowsync_total_views"] == "2"
    assert hubspot.deals[pairs[3][1]]["properties"]["flowsync_last_engaged_at"] != ""


def test_write_back_recovers_from_a_207_with_one_failed_item(workspace, connection, hubspot):
    pairs = linked_rooms(workspace, hubspot, 5)
    failing = pairs[2][1]
    hubspot.failing_updates[failing] = "Property values were not valid"

    first = write_back(connection)

    assert first.status == SyncRun.Status.PARTIAL
    assert (first.updated, first.failed) == (4, 1)
    assert first.errors[0]["upstreamId"] == failing
    assert "flowsync_room_url" not in hubspot.deals[failing]["properties"]

    # Next run: only the failed item is sent again, and it goes through.
    del hubspot.failing_updates[failing]
    second = write_back(connection)

    assert sent(hubspot, 1) == [failing]
    assert second.status == SyncRun.Status.SUCCEEDED
    assert "flowsync_room_url" in hubspot.deals[failing]["properties"]
    write_back(connection)
    assert len(hubspot.updates) == 2


def test_write_back_property_names_follow_the_connection(workspace, connection, hubspot):
    hubspot.properties.add("room_link")
    connection.options["write_back_properties"] = {"room_url": "room_link"}
    connection.save()
    [(room, deal_id)] = linked_rooms(workspace, hubspot, 1)

    write_back(connection)

    [[item]] = hubspot.updates
    assert item["id"] == deal_id
    assert item["properties"]["room_link"].endswith(f"/admin/rooms/room/{room.pk}/change/")
    assert "flowsync_room_url" not in item["properties"]


def test_a_full_refresh_reads_the_pipelines_again(connection, hubspot):
    stream_run(connection=connection, stream="deals", full_refresh=True)

    connection.refresh_from_db()
    assert [stage["label"] for stage in connection.crm_catalog["stages"]][:2] == [
        "Appointment Scheduled",
        "Qualified To Buy",
    ]
