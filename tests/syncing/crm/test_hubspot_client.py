"""The HubSpot client against the fake HubSpot over a real socket: credentials (private app,
OAuth refresh), batch reads and writes with 207 per item, HubSpot's 429 policies."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syncing import errors
from syncing.crm.types import DealUpdate
from syncing.models import Connection
from syncing.services import connection_client, connection_test
from tests.syncing.crm.hubspot_setup import hubspot_connection_create
from tests.syncing.fakes.hubspot import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

pytestmark = pytest.mark.django_db

DEALS = "/crm/v3/objects/deals"


@pytest.fixture
def oauth_connection(workspace, hubspot) -> Connection:
    return hubspot_connection_create(
        workspace,
        hubspot,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
    )


def test_fetch_maps_a_deal_with_its_owner_and_first_contact(connection, hubspot):
    owner = hubspot.add_owner("ae@acme.example")
    deal = hubspot.add_deal(
        dealname="Acme renewal",
        dealstage="contractsent",
        amount="12500.505",
        deal_currency_code="EUR",
        closedate="2026-12-31T00:00:00Z",
        hubspot_owner_id=owner,
        contacts=("buyer@globex.example", "cfo@globex.example"),
        modified=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    )
    client = connection_client(connection)

    [fetched] = client.deals_fetch([deal["id"]])

    assert fetched.upstream_id == deal["id"]
    assert (fetched.name, fetched.stage, fetched.currency) == (
        "Acme renewal",
        "contractsent",
        "EUR",
    )
    assert fetched.amount == Decimal("12500.51")
    assert fetched.close_date == date(2026, 12, 31)
    assert fetched.owner_email == "ae@acme.example"
    assert fetched.contact_emails == ("buyer@globex.example",)
    assert fetched.modified_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert fetched.archived is False
    assert fetched.properties["dealname"] == "Acme renewal"


def test_fetch_reads_archived_and_vanished_deals_as_archived(connection, hubspot):
    live = hubspot.add_deal(dealname="Live")
    archived = hubspot.add_deal(dealname="Lost cause")
    hubspot.archive(archived["id"])
    client = connection_client(connection)

    deals = {
        deal.upstream_id: deal
        for deal in client.deals_fetch([live["id"], archived["id"], "999999"])
    }

    assert deals[live["id"]].archived is False
    assert (deals[archived["id"]].archived, deals[archived["id"]].name) == (True, "Lost cause")
    assert (deals["999999"].archived, deals["999999"].name) == (True, "")


def test_owners_are_read_once_per_client(connection, hubspot):
    owner = hubspot.add_owner("ae@acme.example")
    ids = [hubspot.add_deal(hubspot_owner_id=owner)["id"] for _ in range(3)]
    client = connection_client(connection)

    deals = client.deals_fetch(ids)

    assert {deal.owner_email for deal in deals} == {"ae@acme.example"}
    assert hubspot.count("GET", "/crm/v3/owners/") == 1


def test_a_bad_record_is_a_record_error_and_the_others_come_through(connection, hubspot):
    good = hubspot.add_deal(dealname="Fine")
    bad = hubspot.add_deal(dealname="Broken", amount="lots")
    client = connection_client(connection)

    results = client.deals_fetch([good["id"], bad["id"]])

    failures = [r for r in results if isinstance(r, errors.RecordError)]
    assert [r.upstream_id for r in failures] == [bad["id"]]
    assert "amount" in failures[0].message
    assert [r.upstream_id for r in results if not isinstance(r, errors.RecordError)] == [good["id"]]


def test_close_dates_in_each_of_hubspots_forms_and_blank_properties_are_read(connection, hubspot):
    new_year = datetime(2026, 12, 31, tzinfo=UTC)
    forms = ["2026-12-31", "2026-12-31T00:00:00.000Z", str(int(new_year.timestamp() * 1000))]
    deals = [hubspot.add_deal(closedate=form, amount="", dealname="") for form in forms]
    client = connection_client(connection)

    fetched = client.deals_fetch([deal["id"] for deal in deals])

    assert [deal.close_date for deal in fetched] == [date(2026, 12, 31)] * 3
    assert {(deal.amount, deal.name) for deal in fetched} == {(None, "")}


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"deal_currency_code": "EUROPEAN"}, None),
        ({"deal_currency_code": "EURO-DOLLAR"}, "deal_currency_code"),
        ({"amount": "12345678901234567"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"closedate": "next spring"}, "closedate"),
        ({"closedate": 1798675200000}, None),
        ({"dealname": ["not", "text"]}, "dealname"),
    ],
)
def test_each_deal_property_is_checked_and_a_bad_one_named(connection, hubspot, properties, field):
    deal = hubspot.add_deal(**properties)
    client = connection_client(connection)

    [result] = client.deals_fetch([deal["id"]])

    if field is None:
        assert result.upstream_id == deal["id"]
    else:
        assert isinstance(result, errors.RecordError)
        assert (result.upstream_id, f"properties.{field}:" in result.message) == (deal["id"], True)


def test_deals_write_reports_the_failed_item_of_a_207(connection, hubspot):
    deals = [hubspot.add_deal()["id"] for _ in range(3)]
    hubspot.failing_updates[deals[1]] = "Property values were not valid"
    client = connection_client(connection)

    failed = client.deals_write(
        [DealUpdate(deal_id, {"flowsync_total_views": 7}) for deal_id in deals]
    )

    assert failed == {deals[1]: "Property values were not valid"}
    assert hubspot.deals[deals[0]]["properties"]["flowsync_total_views"] == "7"
    assert "flowsync_total_views" not in hubspot.deals[deals[1]]["properties"]


def test_deals_write_clears_a_none_value_with_an_empty_string(connection, hubspot):
    deal = hubspot.add_deal(flowsync_last_engaged_at="2026-11-01T10:00:00.000Z")
    client = connection_client(connection)

    assert client.deals_write([DealUpdate(deal["id"], {"flowsync_last_engaged_at": None})]) == {}
    assert hubspot.updates[-1][0]["properties"] == {"flowsync_last_engaged_at": ""}
    assert hubspot.deals[deal["id"]]["properties"]["flowsync_last_engaged_at"] == ""


def test_deals_write_refuses_more_than_a_batch(connection, hubspot):
    client = connection_client(connection)
    updates = [DealUpdate(str(n), {"flowsync_total_views": 1}) for n in range(101)]

    with pytest.raises(ValueError, match="at most 100"):
        client.deals_write(updates)
    assert hubspot.updates == []


def test_a_whole_batch_refused_raises(connection, hubspot):
    deal = hubspot.add_deal()
    client = connection_client(connection)

    with pytest.raises(errors.ValidationError) as caught:
        client.deals_write([DealUpdate(deal["id"], {"no_such_property": "x"})])
    assert caught.value.status == 400


@pytest.mark.parametrize("fault", ["rate-ten-secondly", "rate-secondly"])
def test_a_bare_429_of_a_per_second_policy_is_waited_out(connection, hubspot, settings, fault):
    deal = hubspot.add_deal(dealname="Patience")
    # More 429s than the shared layer's retries (3 in tests): only a wait gets through.
    hubspot.inject(fault, times=settings.SYNC_HTTP_RETRIES + 2)
    client = connection_client(connection)

    [fetched] = client.deals_fetch([deal["id"]])

    assert fetched.name == "Patience"
    assert hubspot.faults_served.count(fault) == settings.SYNC_HTTP_RETRIES + 2


def test_a_daily_limit_429_is_not_waited_out(connection, hubspot, settings):
    deal = hubspot.add_deal()
    hubspot.inject("rate-daily", times=settings.SYNC_HTTP_RETRIES + 2)
    client = connection_client(connection)

    with pytest.raises(errors.RateLimitedError):
        client.deals_fetch([deal["id"]])
    # The call and its retries, then no waiting.
    assert hubspot.faults_served.count("rate-daily") == settings.SYNC_HTTP_RETRIES + 1


def test_a_401_marks_the_connection_needing_reauthentication(connection, hubspot):
    hubspot.valid_tokens.clear()
    client = connection_client(connection)

    with pytest.raises(errors.AuthError):
        client.deals_fetch(["1"])

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    # Not retried.
    assert hubspot.count("POST") == 1


def test_the_admin_form_key_is_used_as_the_private_app_token(workspace, hubspot):
    connection = hubspot_connection_create(workspace, hubspot, api_key=hubspot.api_key)

    assert connection_test(connection=connection).ok


def test_oauth_refreshes_once_and_keeps_the_token_encrypted(oauth_connection, hubspot):
    deal = hubspot.add_deal(dealname="Via OAuth")

    connection_client(oauth_connection).deals_fetch([deal["id"]])
    stored = Connection.objects.get(pk=oauth_connection.pk)
    # A second client (the next run) reuses the stored token while it is valid.
    connection_client(stored).deals_fetch([deal["id"]])

    assert hubspot.count("POST", "/oauth/v1/token") == 1
    credentials = Connection.objects.get(pk=oauth_connection.pk).credentials
    assert credentials["access_token"] == hubspot.issued_tokens[0]
    assert credentials["access_token_expires_at"] > time.time() + 1700
    assert credentials["refresh_token"] == REFRESH_TOKEN
    assert hubspot.issued_tokens[0] not in stored.credentials_encrypted


def test_an_expired_oauth_token_is_refreshed_before_the_call(oauth_connection, hubspot):
    deal = hubspot.add_deal()
    connection_client(oauth_connection).deals_fetch([deal["id"]])
    # Half an hour later: the token's lifetime is over.
    hubspot.expire_tokens()
    stored = Connection.objects.get(pk=oauth_connection.pk)
    stored.credentials = {**stored.credentials, "access_token_expires_at": int(time.time()) - 1}
    stored.save()

    [fetched] = connection_client(stored).deals_fetch([deal["id"]])

    assert fetched.upstream_id == deal["id"]
    assert hubspot.count("POST", "/oauth/v1/token") == 2
    assert stored.credentials["access_token"] == hubspot.issued_tokens[1]
    # A refresh before expiry is routine: the status stays as it was (never tested).
    assert Connection.objects.get(pk=stored.pk).status == Connection.Status.NEVER_RUN


def test_a_refused_refresh_token_needs_reauthentication(oauth_connection, hubspot):
    hubspot.oauth["refresh_token"] = "rotated-elsewhere"

    result = connection_test(connection=oauth_connection)

    assert not result.ok
    assert result.detail.startswith("HubSpot refused the credentials; enter them again: HTTP 400")
    oauth_connection.refresh_from_db()
    assert oauth_connection.status == Connection.Status.NEEDS_REAUTH
    assert hubspot.count("POST", DEALS) == 0


def test_api_paths_are_a_connection_option(workspace, hubspot):
    connection = hubspot_connection_create(workspace, hubspot)
    connection.options["api_paths"] = {"objects": "/crm/objects/2026-03"}
    connection.save()

    with pytest.raises(errors.NotFoundError):
        connection_client(connection).deals_fetch(["1"])
    assert hubspot.requests[-1] == ("POST", "/crm/objects/2026-03/deals/batch/read")
