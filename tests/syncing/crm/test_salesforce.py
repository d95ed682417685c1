"""The Salesforce provider against a fake Salesforce org on loopback: OAuth refresh, the SOQL
pull by (SystemModstamp, Id), deleted rows through queryAll, quota exhaustion, API usage,
and write-back through sObject Collections."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from rooms.models import Room
from syncing import errors
from syncing.crm.types import DealUpdate
from syncing.models import Connection, CrmDeal, SyncRun
from syncing.providers.salesforce.client import QuotaExhaustedError
from syncing.services import connection_client, connection_create, connection_test
from syncing.streams import stream_run
from syncing.tasks import run_stream
from tests.rooms.factories import RoomFactory
from tests.syncing.fakes.salesforce import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeSalesforce,
    ago,
    sf_datetime,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sf_fake():
    fake = FakeSalesforce().start()
    yield fake
    fake.stop()


def make_connection(workspace, fake, **options) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.SALESFORCE,
        name="Salesforce",
        base_url=fake.url,
        credentials={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        options={"requests_per_second": 1000, "burst": 1000, **options},
    )


@pytest.fixture
def sf_connection(workspace, sf_fake) -> Connection:
    return make_connection(workspace, sf_fake)


def pull(connection: Connection, **options) -> SyncRun:
    run = stream_run(connection=connection, stream="deals", **options)
    assert run is not None
    connection.refresh_from_db()
    return run


def stored() -> dict[str, CrmDeal]:
    return {deal.upstream_id: deal for deal in CrmDeal.objects.all()}


# --- the pull ---------------------------------------------------------------------------------


def test_first_pull_stores_every_opportunity_field_by_field(sf_connection, sf_fake):
    won = sf_fake.add_opportunity(
        at=ago(hours=2),
        Name="Acme renewal",
        StageName="Closed Won",
        Amount=125000.5,
        CurrencyIsoCode="EUR",
        CloseDate="2026-12-15",
        OwnerEmail="ae.owner@example.com",
        ContactEmails=["buyer@example.com", "cfo@example.com"],
    )
    bare = sf_fake.add_opportunity(
        at=ago(hours=1), Amount=None, CloseDate=None, OwnerEmail=None, CurrencyIsoCode=None
    )

    run = pull(sf_connection)

    assert (run.status, run.created, run.updated, run.failed) == ("succeeded", 2, 0, 0)
    deals = stored()
    assert deals.keys() == {won["Id"], bare["Id"]}
    acme = deals[won["Id"]]
    assert (acme.name, acme.stage, acme.amount) == (
        "Acme renewal",
        "Closed Won",
        Decimal("125000.50"),
    )
    assert (acme.currency, acme.owner_email) == ("EUR", "ae.owner@example.com")
    assert str(acme.close_date) == "2026-12-15"
    assert acme.contact_emails == ["buyer@example.com", "cfo@example.com"]
    assert acme.upstream_modified_at == won["SystemModstamp"]
    assert acme.archived is False
    assert acme.properties["Id"] == won["Id"]
    assert acme.properties["SystemModstamp"] == sf_datetime(won["SystemModstamp"])
    other = deals[bare["Id"]]
    assert (other.amount, other.close_date, other.owner_email, other.currency) == (
        None,
        None,
        "",
        "",
    )
    assert other.contact_emails == []
    # The cursor is where the window ended: the start of the second the run started in.
    assert run.cursor_after == {"systemModstamp": run.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_incremental_pull_takes_exactly_the_changed_opportunities_across_tied_pages(
    sf_connection, sf_fake
):
    sf_fake.page_size = 2
    opportunities = [sf_fake.add_opportunity(at=ago(hours=5)) for _ in range(8)]
    assert pull(sf_connection).created == 8

    # Five of them changed in one bulk update: they share one SystemModstamp, and at two
    # records a page the tie spans three pages.
    tied = ago(minutes=2)
    changed = opportunities[1:6]
    for opportunity in changed:
        sf_fake.update_opportunity(opportunity["Id"], at=tied, StageName="Negotiation")
    seen = len(sf_fake.requests)

    run = pull(sf_connection)

    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 0, 5, 0)
    stages = {deal.upstream_id: deal.stage for deal in CrmDeal.objects.all()}
    assert {i for i, stage in stages.items() if stage == "Negotiation"} == {
        o["Id"] for o in changed
    }
    # The describe, one queryAll and two nextRecordsUrl pages (5 records, 2 a page).
    assert [path.split("/")[4] for _, path in sf_fake.requests[seen:]] == [
        "sobjects",
        "queryAll",
        "query",
        "query",
    ]

    # A record stamped with that same second but committed after the last run is read by
    # the next one (inside its lookback window); what was read before counts unchanged.
    late = sf_fake.add_opportunity(at=tied, Name="Late commit")
    run = pull(sf_connection)
    assert (run.created, run.updated, run.unchanged) == (1, 0, 5)
    assert stored()[late["Id"]].name == "Late commit"


def test_a_save_committed_after_a_later_one_was_read_is_read_by_the_next_run(
    sf_connection, sf_fake
):
    """Issue #17, case 1: SystemModstamp is set when a save starts, so a long transaction
    commits after records stamped later were read (Salesforce's getUpdated() documents this as
    latestDateCovered). The next run reads a lookback window again."""
    sf_fake.add_opportunity(at=ago(hours=1))
    pull(sf_connection)
    slow = sf_fake.add_opportunity(at=ago(minutes=3), committed=False, Name="Slow save")
    fast = sf_fake.add_opportunity(at=ago(minutes=1), Name="Fast save")
    assert pull(sf_connection).created == 1
    fast_written = CrmDeal.objects.get(upstream_id=fast["Id"]).updated_at
    sf_fake.commit(slow["Id"])

    run = pull(sf_connection)

    assert stored()[slow["Id"]].name == "Slow save"
    # The fast save is read again inside the window but, unchanged, not rewritten.
    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 1, 0, 1)
    assert CrmDeal.objects.get(upstream_id=fast["Id"]).updated_at == fast_written


def test_the_lookback_window_is_a_setting(sf_connection, sf_fake, settings):
    settings.SYNC_SALESFORCE_LOOKBACK = 3600
    sf_fake.add_opportunity(at=ago(hours=2))
    pull(sf_connection)
    slow = sf_fake.add_opportunity(at=ago(minutes=20), committed=False)
    sf_fake.add_opportunity(at=ago(minutes=1))
    pull(sf_connection)
    sf_fake.commit(slow["Id"])

    run = pull(sf_connection)

    assert (run.created, run.unchanged) == (1, 1)
    assert slow["Id"] in stored()


def test_a_save_in_the_second_a_run_started_is_read_by_the_next_run(sf_connection, sf_fake):
    """Issue #17, case 2: SystemModstamp has one-second precision. A save stamped with the
    second the run started, committed just after the query and with a lower Id than one the
    run read, is lost unless the run stops before its own second."""
    second = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
    with time_machine.travel(second + timedelta(milliseconds=100), tick=True):
        first = sf_fake.add_opportunity(at=second, Name="Committed before the query")
        run = pull(sf_connection)
        assert run.started_at.replace(microsecond=0) == second  # the test's premise
        late = sf_fake.add_opportunity(at=second, Id=f"006{0:012d}AAA", Name="Just after")
    assert late["Id"] < first["Id"]

    with time_machine.travel(second + timedelta(seconds=5), tick=True):
        pull(sf_connection)

    assert {i: d.name for i, d in stored().items()} == {
        first["Id"]: "Committed before the query",
        late["Id"]: "Just after",
    }


def test_a_daily_full_reconciliation_repairs_what_the_lookback_missed(sf_connection, sf_fake):
    """A save committed later than any lookback (or a change lost another way) is repaired by
    the scheduled full read, which rewrites nothing unchanged."""
    schedule = PeriodicTask.objects.get(name=f"sync:{sf_connection.pk}:deals:full_refresh")
    assert schedule.interval.schedule.run_every == timedelta(days=1)
    kept = sf_fake.add_opportunity(at=ago(hours=3))
    pull(sf_connection)
    very_late = sf_fake.add_opportunity(at=ago(hours=2), committed=False, Name="Very late")
    pull(sf_connection)
    sf_fake.commit(very_late["Id"])
    assert pull(sf_connection).created == 0

    run_stream(**json.loads(schedule.kwargs))

    run = SyncRun.objects.filter(connection=sf_connection, stream="deals").first()
    assert (run.trigger, run.full_refresh, run.status) == ("schedule", True, "succeeded")
    assert (run.created, run.updated, run.unchanged) == (1, 0, 1)
    assert stored().keys() == {kept["Id"], very_late["Id"]}


def test_deleted_opportunities_come_back_archived_through_query_all(sf_connection, sf_fake):
    kept, removed = (sf_fake.add_opportunity(at=ago(hours=3)) for _ in range(2))
    pull(sf_connection)
    sf_fake.delete_opportunity(removed["Id"], at=ago(minutes=1))

    run = pull(sf_connection)

    assert (run.updated, run.unchanged) == (1, 0)
    deals = stored()
    assert deals[removed["Id"]].archived is True
    assert deals[kept["Id"]].archived is False
    assert sf_fake.count("GET", "/services/data/v60.0/queryAll") == 2


def test_the_cursor_never_passes_the_start_of_the_run(sf_connection, sf_fake):
    """A record stamped after the run started (a clock ahead, a write during the run) is left
    for the next run, which reads from a cursor no later than this run's start."""
    earlier = sf_fake.add_opportunity(at=ago(minutes=10))
    sf_fake.add_opportunity(at=timezone.now() + timedelta(hours=1))

    run = pull(sf_connection)

    assert run.created == 1
    assert stored().keys() == {earlier["Id"]}
    assert run.cursor_after["systemModstamp"] <= run.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_malformed_opportunity_is_a_recorded_failure_and_the_others_are_stored(
    sf_connection, sf_fake
):
    good = sf_fake.add_opportunity(at=ago(hours=2))
    bad = sf_fake.add_opportunity(at=ago(hours=1), CloseDate="31/12/2026")

    run = pull(sf_connection)

    assert (run.status, run.created, run.failed) == ("partial", 1, 1)
    assert stored().keys() == {good["Id"]}
    assert run.errors[0]["upstreamId"] == bad["Id"]
    assert "CloseDate" in run.errors[0]["message"]


def test_a_single_currency_org_is_not_asked_for_currency(workspace):
    fake = FakeSalesforce(multi_currency=False).start()
    try:
        opportunity = fake.add_opportunity(at=ago(hours=1))
        connection = make_connection(workspace, fake)

        run = pull(connection)

        # The fake answers 400 INVALID_FIELD when CurrencyIsoCode is asked of such an org.
        assert (run.status, run.created) == ("succeeded", 1)
        assert stored()[opportunity["Id"]].currency == ""
    finally:
        fake.stop()


def test_the_api_version_is_a_connection_setting(workspace):
    fake = FakeSalesforce(api_version="v58.0").start()
    try:
        fake.add_opportunity(at=ago(hours=1))
        connection = make_connection(workspace, fake, api_version="v58.0")

        assert pull(connection).created == 1
        assert fake.count("GET", "/services/data/v58.0/queryAll") == 1
    finally:
        fake.stop()


def test_a_malformed_api_version_fails_clearly_without_calling_salesforce(workspace, sf_fake):
    connection = make_connection(workspace, sf_fake, api_version="latest")

    result = connection_test(connection=connection)
    run = pull(connection)

    assert result.ok is False
    assert "'latest' is not a Salesforce API version" in result.detail
    assert run.status == "failed"
    assert connection.status == Connection.Status.FAILING
    assert "'latest' is not a Salesforce API version" in connection.status_detail
    assert sf_fake.requests == []


def test_deals_fetch_answers_the_named_opportunities_and_archives_purged_ones(
    sf_connection, sf_fake
):
    live, deleted, purged = (sf_fake.add_opportunity(at=ago(hours=1)) for _ in range(3))
    sf_fake.delete_opportunity(deleted["Id"], at=ago(minutes=5))
    del sf_fake.opportunities[purged["Id"]]
    client = connection_client(sf_connection)

    items = client.deals_fetch([live["Id"][:15], deleted["Id"], purged["Id"], "1; DROP"])

    deals = {item.upstream_id: item for item in items if not isinstance(item, errors.RecordError)}
    assert {i: d.archived for i, d in deals.items()} == {
        live["Id"]: False,
        deleted["Id"]: True,
        purged["Id"]: True,
    }
    failures = [item for item in items if isinstance(item, errors.RecordError)]
    assert [f.upstream_id for f in failures] == ["1; DROP"]


def test_the_deals_stream_with_ids_reads_those_without_moving_the_cursor(sf_connection, sf_fake):
    first, second = (sf_fake.add_opportunity(at=ago(hours=2)) for _ in range(2))
    cursor = pull(sf_connection).cursor_after
    sf_fake.update_opportunity(first["Id"], at=ago(minutes=1), StageName="Closed Won")
    sf_fake.update_opportunity(second["Id"], at=ago(minutes=1), StageName="Closed Lost")

    run = pull(sf_connection, ids=[first["Id"]], trigger=SyncRun.Trigger.WEBHOOK)

    assert (run.status, run.updated, run.unchanged) == ("succeeded", 1, 0)
    assert run.cursor_after == cursor
    assert {i: d.stage for i, d in stored().items()} == {
        first["Id"]: "Closed Won",
        second["Id"]: "Prospecting",
    }
    # The next scheduled pull still reads both changes from the unmoved cursor.
    run = pull(sf_connection)
    assert (run.updated, run.unchanged) == (1, 1)


# --- OAuth ------------------------------------------------------------------------------------


def test_the_access_token_is_obtained_once_and_kept_encrypted(sf_connection, sf_fake):
    sf_fake.add_opportunity(at=ago(hours=1))

    pull(sf_connection)
    pull(sf_connection)

    assert sf_fake.token_requests == 1
    credentials = sf_connection.credentials
    assert credentials["access_token"] in sf_fake.access_tokens
    assert credentials["instance_url"] == sf_fake.url
    assert credentials["refresh_token"] == REFRESH_TOKEN
    assert credentials["access_token"] not in sf_connection.credentials_encrypted


def test_a_session_kept_from_replaced_credentials_is_not_used(sf_connection, sf_fake):
    """Staff replacing the refresh token (maybe for another org) must not leave runs on the
    session obtained with the old one, even while that session still works."""
    sf_fake.add_opportunity(at=ago(hours=1))
    pull(sf_connection)
    old_session = sf_connection.credentials["access_token"]
    sf_fake.refresh_tokens.add("5Aep861another.refresh.token")
    sf_connection.credentials = {
        **sf_connection.credentials,
        "refresh_token": "5Aep861another.refresh.token",
    }
    sf_connection.save(update_fields=["credentials_encrypted"])

    pull(sf_connection)

    assert sf_fake.token_requests == 2
    assert old_session in sf_fake.access_tokens  # still valid upstream, yet replaced
    assert sf_connection.credentials["access_token"] != old_session


def test_an_expired_session_is_refreshed_once_and_the_call_retried(sf_connection, sf_fake):
    sf_fake.add_opportunity(at=ago(hours=1))
    pull(sf_connection)
    old_token = sf_connection.credentials["access_token"]
    sf_fake.expire_sessions()
    sf_fake.add_opportunity(at=ago(minutes=1))

    run = pull(sf_connection)

    assert (run.status, run.created) == ("succeeded", 1)
    assert sf_fake.token_requests == 2
    assert sf_connection.status == Connection.Status.OK
    new_token = sf_connection.credentials["access_token"]
    assert new_token != old_token
    assert new_token in sf_fake.access_tokens


def test_a_second_401_after_the_refresh_needs_reauthentication(sf_connection, sf_fake):
    sf_fake.add_opportunity(at=ago(hours=1))
    pull(sf_connection)
    sf_fake.expire_sessions()
    sf_fake.sessions_work = False

    run = pull(sf_connection)

    assert run.status == "failed"
    assert sf_fake.token_requests == 2  # one refresh, no loop
    assert sf_connection.status == Connection.Status.NEEDS_REAUTH
    assert "INVALID_SESSION_ID" in sf_connection.status_detail
    # A scheduled run no longer calls Salesforce until the credentials are replaced.
    calls = len(sf_fake.requests)
    assert stream_run(connection=sf_connection, stream="deals", trigger="schedule") is None
    assert len(sf_fake.requests) == calls


def test_a_refused_refresh_token_needs_reauthentication(sf_connection, sf_fake):
    sf_fake.add_opportunity(at=ago(hours=1))
    pull(sf_connection)
    sf_fake.expire_sessions()
    sf_fake.refresh_tokens.clear()

    run = pull(sf_connection)

    assert run.status == "failed"
    assert sf_connection.status == Connection.Status.NEEDS_REAUTH
    assert "invalid_grant" in sf_connection.status_detail
    assert REFRESH_TOKEN not in sf_connection.status_detail
    assert REFRESH_TOKEN not in str(run.errors)


# --- quota and usage --------------------------------------------------------------------------


def test_quota_exhaustion_stops_the_run_cleanly_and_the_next_run_resumes(sf_connection, sf_fake):
    sf_fake.page_size = 2
    opportunities = [sf_fake.add_opportunity(at=ago(hours=1, seconds=n)) for n in range(6)]
    # describe + the first query page + one more page, then the org's quota is used up.
    sf_fake.api_limit = 3

    run = pull(sf_connection)

    assert run.status == "failed"
    assert run.errors[-1]["status"] == 403
    assert sf_connection.status == Connection.Status.FAILING
    assert "daily API request limit" in sf_connection.status_detail
    assert "REQUEST_LIMIT_EXCEEDED" in sf_connection.status_detail
    assert run.created == 4  # the pages read before the limit are stored
    assert sf_connection.options["api_usage"]["used"] == 3

    # The next day's quota: the next scheduled run starts from the last finished cursor and
    # ends with every opportunity stored once.
    sf_fake.api_used, sf_fake.api_limit = 0, 15000
    run = stream_run(connection=sf_connection, stream="deals", trigger="schedule")

    assert (run.status, run.created, run.unchanged) == ("succeeded", 2, 4)
    assert stored().keys() == {o["Id"] for o in opportunities}
    sf_connection.refresh_from_db()
    assert sf_connection.status == Connection.Status.OK


def test_quota_exhaustion_is_not_a_credentials_problem(sf_connection, sf_fake):
    sf_fake.api_limit = 0
    client = connection_client(sf_connection)

    with pytest.raises(QuotaExhaustedError):
        client.ping()

    sf_connection.refresh_from_db()
    assert sf_connection.status != Connection.Status.NEEDS_REAUTH


def test_the_daily_api_usage_is_shown_on_the_connection(sf_connection, sf_fake, admin_client):
    sf_fake.api_used = 1200
    sf_fake.add_opportunity(at=ago(hours=1))

    pull(sf_connection)

    usage = sf_connection.options["api_usage"]
    assert (usage["used"], usage["limit"]) == (sf_fake.api_used, 15000)
    assert sf_fake.api_used == 1200 + 2  # the describe and one query
    # The connection's own options are kept.
    assert sf_connection.options["requests_per_second"] == 1000
    page = admin_client.get(f"/admin/syncing/connection/{sf_connection.pk}/change/")
    assert f"{sf_fake.api_used} of 15000 calls today" in page.content.decode()


# --- write-back -------------------------------------------------------------------------------


def test_write_back_sends_one_collection_and_reports_the_failed_record(sf_connection, sf_fake):
    opportunities = [sf_fake.add_opportunity(at=ago(hours=1)) for _ in range(3)]
    rejected = opportunities[1]["Id"]
    sf_fake.rejections[rejected] = ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage is locked")
    client = connection_client(sf_connection)
    updates = [
        DealUpdate(o["Id"], {"Room_URL__c": f"https://rooms.example/{n}", "Room_Total_Views__c": n})
        for n, o in enumerate(opportunities)
    ]

    failed = client.deals_write(updates)

    assert failed == {rejected: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Stage is locked"}
    assert len(sf_fake.patches) == 1
    for n, opportunity in enumerate(opportunities):
        written = sf_fake.opportunities[opportunity["Id"]].get("written")
        if opportunity["Id"] == rejected:
            assert written is None
        else:
            assert written == {
                "Room_URL__c": f"https://rooms.example/{n}",
                "Room_Total_Views__c": n,
            }


def test_write_back_takes_at_most_one_collection_of_200(sf_connection, sf_fake):
    client = connection_client(sf_connection)
    assert client.WRITE_BATCH <= 200

    with pytest.raises(ValueError, match="at most 200 updates"):
        client.deals_write([DealUpdate(f"006{n:015d}", {}) for n in range(client.WRITE_BATCH + 1)])
    assert sf_fake.patches == []


# --- the write_back stream --------------------------------------------------------------------


def linked_rooms(workspace, opportunities) -> list[Room]:
    return [
        RoomFactory(workspace=workspace, sf_opportunity_id=opportunity["Id"])
        for opportunity in opportunities
    ]


def test_write_back_stream_writes_linked_rooms_and_retries_only_the_refused_one(
    workspace, sf_connection, sf_fake, settings
):
    opportunities = [sf_fake.add_opportunity(at=ago(hours=1)) for _ in range(3)]
    rooms = linked_rooms(workspace, opportunities)
    refused = opportunities[2]["Id"]
    sf_fake.rejections[refused] = ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage is locked")

    run = stream_run(connection=sf_connection, stream="write_back")

    assert (run.status, run.updated, run.failed) == ("partial", 2, 1)
    assert run.errors[0]["upstreamId"] == refused
    assert len(sf_fake.patches) == 1
    for room, opportunity in zip(rooms[:2], opportunities, strict=False):
        written = sf_fake.opportunities[opportunity["Id"]]["written"]
        assert written["Room_URL__c"] == (
            f"{settings.PUBLIC_BASE_URL}/admin/rooms/room/{room.pk}/change/"
        )
        assert written["Room_Total_Views__c"] == 0
        assert written["Room_Last_Engaged_At__c"] is None

    # Nothing changed but the refusal was lifted: only that room is written again.
    del sf_fake.rejections[refused]
    run = stream_run(connection=sf_connection, stream="write_back")

    assert (run.status, run.updated, run.unchanged, run.failed) == ("succeeded", 1, 2, 0)
    assert [record["id"] for record in sf_fake.patches[1]] == [refused]


def test_write_back_stream_sends_collections_of_at_most_200(workspace, sf_connection, sf_fake):
    opportunities = [sf_fake.add_opportunity(at=ago(hours=1)) for _ in range(450)]
    linked_rooms(workspace, opportunities)

    run = stream_run(connection=sf_connection, stream="write_back")

    assert (run.status, run.updated) == ("succeeded", 450)
    assert [len(records) for records in sf_fake.patches] == [200, 200, 50]
    assert sf_fake.count("PATCH", "/services/data/v60.0/composite/sobjects") == 3


def test_each_pull_keeps_the_stages_from_the_describe_it_already_reads(sf_connection, sf_fake):
    sf_fake.stages.append("Perception Analysis")
    sf_fake.add_opportunity(at=ago(hours=1))

    pull(sf_connection)

    assert sf_fake.count("GET", "/services/data/v60.0/sobjects/Opportunity/describe") == 1
    assert [stage["id"] for stage in sf_connection.crm_catalog["stages"]] == sf_fake.stages
