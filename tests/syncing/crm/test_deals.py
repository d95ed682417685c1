from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from syncing.crm.deals import deals_store
from syncing.crm.types import Deal
from syncing.errors import RecordError
from syncing.models import CrmDeal, SyncRun
from syncing.runs import sync_run
from syncing.services import connection_create
from tests.factories import WorkspaceFactory


def deal(upstream_id: str, **fields) -> Deal:
    values = {
        "name": f"Deal {upstream_id}",
        "stage": "appointmentscheduled",
        "amount": Decimal("1200.50"),
        "currency": "EUR",
        "owner_email": "ae@example.com",
        "close_date": date(2026, 12, 31),
        "modified_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "contact_emails": ("buyer@example.com",),
        "properties": {"dealname": f"Deal {upstream_id}", "pipeline": "default"},
    }
    return Deal(upstream_id=upstream_id, **(values | fields))


def store(store_run, deals) -> SyncRun:
    with store_run() as run:
        deals_store(run, deals)
    return SyncRun.objects.get(pk=run.run.pk)


def test_new_deals_are_stored_field_by_field(store_run, crm_connection):
    pulled = [deal("101"), deal("102", amount=None, close_date=None, archived=True)]

    run = store(store_run, pulled)

    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 2, 0, 0)
    stored = {row.upstream_id: row for row in CrmDeal.objects.all()}
    assert stored.keys() == {"101", "102"}
    for expected in pulled:
        row = stored[expected.upstream_id]
        assert row.workspace_id == crm_connection.workspace_id
        assert (row.connection_id, row.provider) == (crm_connection.pk, "hubspot")
        assert (row.name, row.stage, row.currency) == (expected.name, expected.stage, "EUR")
        assert (row.amount, row.close_date) == (expected.amount, expected.close_date)
        assert (row.owner_email, row.archived) == (expected.owner_email, expected.archived)
        assert row.upstream_modified_at == expected.modified_at
        assert row.contact_emails == list(expected.contact_emails)
        assert row.properties == expected.properties


def test_a_second_store_of_the_same_deals_changes_nothing(store_run):
    pulled = [deal(str(n)) for n in range(5)]
    store(store_run, pulled)
    before = dict(CrmDeal.objects.values_list("upstream_id", "updated_at"))

    run = store(store_run, pulled)

    assert (run.created, run.updated, run.unchanged) == (0, 0, 5)
    assert dict(CrmDeal.objects.values_list("upstream_id", "updated_at")) == before


def test_changed_deals_are_updated_and_counted(store_run):
    store(store_run, [deal("1"), deal("2"), deal("3")])

    run = store(
        store_run,
        [deal("1", stage="closedwon"), deal("2"), deal("3", properties={"x": 1}), deal("4")],
    )

    assert (run.created, run.updated, run.unchanged) == (1, 2, 1)
    assert CrmDeal.objects.get(upstream_id="1").stage == "closedwon"
    assert CrmDeal.objects.get(upstream_id="3").properties == {"x": 1}
    assert CrmDeal.objects.count() == 4


def test_a_malformed_record_is_a_failure_of_the_run_not_a_crash(store_run):
    bad = RecordError("amount: not a number", upstream_id="666")

    run = store(store_run, [deal("1"), bad, deal("2")])

    assert (run.status, run.created, run.failed) == ("partial", 2, 1)
    assert run.errors[0]["upstreamId"] == "666"
    assert "amount" in run.errors[0]["message"]
    assert not CrmDeal.objects.filter(upstream_id="666").exists()


def test_a_deal_read_twice_in_one_page_is_stored_once_as_last_read(store_run):
    run = store(store_run, [deal("7", stage="a"), deal("7", stage="b")])

    assert CrmDeal.objects.get(upstream_id="7").stage == "b"
    assert run.created == 1


def test_deals_of_another_workspace_with_the_same_id_stay_apart(store_run, crm_connection):
    other = connection_create(
        workspace=WorkspaceFactory(),
        provider="hubspot",
        name="HubSpot",
        base_url="http://crm.example",
        credentials={"access_token": "other"},
    )
    store(store_run, [deal("1", name="Ours")])
    with sync_run(connection=other, stream="deals", trigger="manual") as run:
        deals_store(run, [deal("1", name="Theirs")])

    assert CrmDeal.objects.get(upstream_id="1", connection=crm_connection).name == "Ours"
    assert CrmDeal.objects.get(upstream_id="1", connection=other).name == "Theirs"


def _store_queries(store_run, deals) -> int:
    with store_run() as run, CaptureQueriesContext(db) as queries:
        deals_store(run, deals)
    return len(queries)


def test_queries_per_batch_do_not_grow_with_the_deals(store_run):
    few = _store_queries(store_run, [deal(f"a{n}") for n in range(3)])
    many = _store_queries(store_run, [deal(f"b{n}") for n in range(300)])
    assert few == many

    # Updating and re-reading unchanged deals is no different.
    mixed = [deal(f"b{n}", stage="x" if n % 2 else "appointmentscheduled") for n in range(300)]
    assert _store_queries(store_run, mixed) == few
