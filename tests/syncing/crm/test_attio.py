"""Attio: the client, the webhook check and the streams against the fake Attio over a real
socket."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
import time_machine
from django.test import RequestFactory

from rooms.models import Room
from syncing import errors
from syncing.crm.types import WRITE_BACK_FIELDS, Deal, DealUpdate, WebhookRejected
from syncing.models import (
    Connection,
    CrmDeal,
    CrmWriteBack,
    DealRoom,
    DealRoomRule,
    SyncRun,
    WebhookDelivery,
)
from syncing.providers.attio import webhooks
from syncing.providers.attio.client import PAGE_LIMIT
from syncing.services import connection_client, connection_create
from syncing.streams import stream_run
from tests.rooms.factories import RoomFactory, VisitFactory
from tests.syncing.fakes.attio import WEBHOOK_SECRET, FakeAttio, sign, signed_delivery

pytestmark = pytest.mark.django_db

QUERY = "/v2/objects/deals/records/query"


@pytest.fixture
def attio_fake():
    fake = FakeAttio().start()
    yield fake
    fake.stop()


@pytest.fixture
def attio_connection(workspace, attio_fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ATTIO,
        name="Attio",
        base_url=attio_fake.url,
        api_key=attio_fake.api_key,
        credentials={"webhook_secret": WEBHOOK_SECRET},
        options={"requests_per_second": 1000, "burst": 1000},
    )


def test_a_deal_is_flattened_from_its_value_lists(attio_connection, attio_fake):
    owner = attio_fake.add_member("ae@example.com")
    buyer = attio_fake.add_person("buyer@example.com", "buyer.alt@example.com")
    other = attio_fake.add_person("cfo@example.com")
    deal_id = attio_fake.add_deal(
        name="Globex renewal",
        stage="In Progress",
        amount="4200.50",
        currency="EUR",
        owner=owner,
        people=(buyer, other),
        close_date="2026-12-31",
    )

    [deal] = connection_client(attio_connection).deals_fetch([deal_id])

    assert deal == Deal(
        upstream_id=deal_id,
        name="Globex renewal",
        stage="In Progress",
        amount=Decimal("4200.50"),
        currency="EUR",
        owner_email="ae@example.com",
        close_date=date(2026, 12, 31),
        contact_emails=("buyer@example.com",),
        properties=attio_fake.deals[deal_id],
    )


def test_a_deal_without_optional_values_and_a_deleted_one(attio_connection, attio_fake):
    bare = attio_fake.add_deal(name="Bare")
    client = connection_client(attio_connection)

    found, gone = client.deals_fetch([bare, "7f3c9a50-0000-4000-8000-000000000404"])

    assert (found.name, found.stage, found.amount, found.currency) == ("Bare", "Lead", None, "")
    assert (found.owner_email, found.contact_emails, found.archived) == ("", (), False)
    assert gone == Deal(upstream_id="7f3c9a50-0000-4000-8000-000000000404", archived=True)


def test_every_deal_is_read_page_by_page_with_owners_and_people_looked_up_once(
    attio_connection, attio_fake
):
    members = [attio_fake.add_member(f"ae{n}@example.com") for n in range(3)]
    people = [attio_fake.add_person(f"buyer{n}@example.com") for n in range(4)]
    total = PAGE_LIMIT * 2 + 3
    for n in range(total):
        attio_fake.add_deal(name=f"Deal {n}", owner=members[n % 3], people=(people[n % 4],))
    client = connection_client(attio_connection)

    pages = [
        [client.deal_from_record(raw) for raw in records] for records in client.deal_record_pages()
    ]

    assert [len(page) for page in pages] == [PAGE_LIMIT, PAGE_LIMIT, 3]
    deals = {deal.upstream_id: deal for page in pages for deal in page}
    assert deals.keys() == attio_fake.deals.keys()
    for upstream_id, record in attio_fake.deals.items():
        member = record["values"]["owner"][0]["referenced_actor_id"]
        person = record["values"]["associated_people"][0]["target_record_id"]
        assert deals[upstream_id].owner_email == attio_fake.members[member]["email_address"]
        expected_contact = attio_fake.people[person]["values"]["email_addresses"][0]
        assert deals[upstream_id].contact_emails == (expected_contact["email_address"],)
    # 3 queries, then each of the 3 members and 4 people once.
    assert attio_fake.count("POST", QUERY) == 3
    assert attio_fake.count("GET", "/v2/workspace_members/") == 3
    assert attio_fake.count("GET", "/v2/objects/people/records/") == 4
    assert client.calls == 3 + 3 + 4


def test_a_malformed_record_is_a_record_error_naming_it(attio_connection, attio_fake):
    good = attio_fake.add_deal(name="Good")
    bad = attio_fake.add_deal(name="Bad")
    attio_fake.deals[bad]["values"]["stage"] = [{"status": "not an object"}]

    client = connection_client(attio_connection)
    [records] = client.deal_record_pages()
    page = [client.deal_from_record(raw) for raw in records]

    by_id = {getattr(item, "upstream_id", None): item for item in page}
    assert isinstance(by_id[good], Deal)
    assert isinstance(by_id[bad], errors.RecordError)
    assert "stage" in by_id[bad].message


def test_a_rate_limit_with_an_http_date_retry_after_is_waited_out(attio_connection, attio_fake):
    attio_fake.add_deal(name="Patient")
    attio_fake.inject("429-date", path=QUERY)
    client = connection_client(attio_connection)

    [records] = client.deal_record_pages()

    assert [client.deal_from_record(raw).name for raw in records] == ["Patient"]
    assert attio_fake.faults_served == ["429-date"]
    assert attio_fake.count("POST", QUERY) == 2


def test_the_http_date_retry_after_is_read_as_a_wait(attio_connection, attio_fake, settings):
    settings.SYNC_HTTP_RETRIES = 0
    attio_fake.retry_after = 30
    attio_fake.inject("429-date", path=QUERY)

    with pytest.raises(errors.RateLimitedError) as raised:
        list(connection_client(attio_connection).deal_record_pages())

    # The date has whole seconds: 30 s ahead, less what passed since it was written (a
    # loaded machine may take a few).
    assert 20 <= raised.value.retry_after <= 30


def test_write_back_patches_each_deal_and_reports_the_missing_one(attio_connection, attio_fake):
    first = attio_fake.add_deal(name="First")
    second = attio_fake.add_deal(name="Second")
    missing = "7f3c9a50-0000-4000-8000-000000000404"
    client = connection_client(attio_connection)
    updates = [
        DealUpdate(first, {"flowsync_room_url": "https://rooms.example/r/1"}),
        DealUpdate(missing, {"flowsync_room_url": "https://rooms.example/r/2"}),
        DealUpdate(second, {"flowsync_total_views": 7, "flowsync_last_engaged_at": None}),
    ]

    failed = client.deals_write(updates)

    assert list(failed) == [missing]
    assert "404" in failed[missing]
    assert attio_fake.patches == [(u.upstream_id, u.properties) for u in updates if u != updates[1]]
    assert attio_fake.deals[first]["values"]["flowsync_room_url"][0]["value"] == (
        "https://rooms.example/r/1"
    )
    assert client.WRITE_BATCH == 1


def test_a_rate_limited_write_is_retried_and_applied_once(attio_connection, attio_fake):
    deal_id = attio_fake.add_deal(name="Busy")
    attio_fake.inject("429-date", method="PATCH")
    client = connection_client(attio_connection)

    failed = client.deals_write([DealUpdate(deal_id, {"flowsync_total_views": 3})])

    assert failed == {}
    assert attio_fake.count("PATCH", "/v2/objects/deals/records/") == 2
    assert attio_fake.patches == [(deal_id, {"flowsync_total_views": 3})]


def test_a_revoked_key_marks_the_connection_for_re_authentication(attio_connection, attio_fake):
    attio_fake.api_key = "rotated-key"

    with pytest.raises(errors.AuthError):
        connection_client(attio_connection).deals_fetch(["any"])

    attio_connection.refresh_from_db()
    assert attio_connection.status == Connection.Status.NEEDS_REAUTH
    # Bearer auth: one attempt, no retry of a 401.
    assert attio_fake.count("GET") == 1


def test_ping_names_the_deals_object(attio_connection):
    assert connection_client(attio_connection).ping().startswith("deals object ")


# --- webhooks -------------------------------------------------------------------------------


def webhook_request(body: bytes, headers: dict):
    return RequestFactory().post(
        "/webhooks/crm/attio/1", data=body, content_type="application/json", headers=headers
    )


def test_a_signed_delivery_names_its_deals(attio_connection):
    body, signature = signed_delivery(
        [("record.updated", "deal-1"), ("record.created", "deal-2"), ("note.created", "n-1")]
    )

    request = webhook_request(body, {"Attio-Signature": signature})

    notice = webhooks.verify(attio_connection, request)

    assert notice.deal_ids == ("deal-1", "deal-2")
    assert len(notice.event_ids) == 3
    assert len(set(notice.event_ids)) == 3


def test_the_legacy_signature_header_is_accepted(attio_connection):
    body, signature = signed_delivery([("record.deleted", "deal-9")])

    request = webhook_request(body, {"X-Attio-Signature": signature})

    assert webhooks.verify(attio_connection, request).deal_ids == ("deal-9",)


def test_without_an_idempotency_key_event_ids_are_the_same_within_the_minute_only(
    attio_connection,
):
    """A delivery without Idempotency-Key (a proxy that dropped it): the same event is a
    redelivery within the minute it arrived, a new change after it (see webhooks.py)."""
    body, signature = signed_delivery([("record.updated", "deal-1")])
    headers = {"Attio-Signature": signature}

    def event_ids(second: int) -> tuple[str, ...]:
        with time_machine.travel(
            datetime(2026, 11, 26, 10, 0, tzinfo=UTC) + timedelta(seconds=second)
        ):
            return webhooks.verify(attio_connection, webhook_request(body, headers)).event_ids

    assert event_ids(5) == event_ids(50)
    assert event_ids(5) != event_ids(65)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, sig: (body.replace(b"deal-1", b"deal-2"), sig), id="body"),
        pytest.param(lambda body, sig: (body, sig[::-1]), id="signature"),
        pytest.param(lambda body, sig: (body, None), id="missing"),
        pytest.param(lambda body, sig: (body, sign(body, "another-secret")), id="other-secret"),
    ],
)
def test_a_delivery_not_signed_with_the_secret_is_rejected(attio_connection, tamper):
    body, signature = tamper(*signed_delivery([("record.updated", "deal-1")]))
    headers = {"Attio-Signature": signature} if signature else {}

    with pytest.raises(WebhookRejected):
        webhooks.verify(attio_connection, webhook_request(body, headers))


def test_without_a_webhook_secret_every_delivery_is_rejected(workspace, attio_fake):
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ATTIO,
        name="Attio without webhooks",
        base_url=attio_fake.url,
        api_key=attio_fake.api_key,
    )
    body, signature = signed_delivery([("record.updated", "deal-1")], secret="")

    with pytest.raises(WebhookRejected):
        webhooks.verify(connection, webhook_request(body, {"Attio-Signature": signature}))


# --- streams --------------------------------------------------------------------------------


def pull(connection, **options) -> SyncRun:
    return stream_run(
        connection=connection, stream="deals", trigger=SyncRun.Trigger.SCHEDULE, **options
    )


def stored() -> dict[str, CrmDeal]:
    return {row.upstream_id: row for row in CrmDeal.objects.all()}


@pytest.fixture
def pipeline(attio_fake) -> dict[str, dict]:
    """Six deals in the fake and, by id, what each should be stored as (from the inputs)."""
    owners = {
        email: attio_fake.add_member(email) for email in ("ae1@example.com", "ae2@example.com")
    }
    people = {email: attio_fake.add_person(email) for email in ("a@example.com", "b@example.com")}
    rows = [
        # name, stage, amount, currency, owner, first contact
        ("Acme", "Lead", "1000", "EUR", "ae1@example.com", "a@example.com"),
        ("Globex", "In Progress", "2500.75", "USD", "ae2@example.com", "b@example.com"),
        ("Initech", "Won 🎉", "99.99", "GBP", "ae1@example.com", "b@example.com"),
        ("Umbrella", "Lost", None, "", None, None),
        ("Hooli", "Lead", "12", "USD", "ae2@example.com", "a@example.com"),
        ("Stark", "In Progress", "5", "USD", None, "a@example.com"),
    ]
    fields = ("name", "stage", "amount", "currency", "owner", "contact")
    specs = [dict(zip(fields, row, strict=True)) for row in rows]
    expected = {}
    for spec in specs:
        deal_id = attio_fake.add_deal(
            name=spec["name"],
            stage=spec["stage"],
            amount=spec["amount"],
            currency=spec["currency"] or "USD",
            owner=owners.get(spec["owner"]),
            people=(people[spec["contact"]],) if spec["contact"] else (),
        )
        expected[deal_id] = spec
    return expected


def assert_mirrors(expected: dict[str, dict]) -> None:
    rows = stored()
    assert rows.keys() == expected.keys()
    for deal_id, spec in expected.items():
        row = rows[deal_id]
        assert (row.name, row.stage, row.archived) == (spec["name"], spec["stage"], False)
        amount = Decimal(spec["amount"]) if spec["amount"] else None
        assert (row.amount, row.currency) == (amount, spec["currency"] if amount else "")
        assert row.owner_email == (spec["owner"] or "")
        assert row.contact_emails == ([spec["contact"]] if spec["contact"] else [])
        assert (row.provider, row.connection.name) == ("attio", "Attio")


def test_a_full_reconciliation_mirrors_attio_and_a_second_run_changes_nothing(
    attio_connection, attio_fake, pipeline
):
    first = pull(attio_connection)

    assert (first.status, first.created, first.updated, first.failed) == ("succeeded", 6, 0, 0)
    assert_mirrors(pipeline)
    # One query page, 2 owners and 2 contacts looked up once each.
    assert first.upstream_calls == 1 + 2 + 2

    second = pull(attio_connection)

    assert (second.created, second.updated, second.unchanged) == (0, 0, 6)
    # Unchanged records reuse the stored emails: the query alone.
    assert second.upstream_calls == 1
    assert_mirrors(pipeline)


def test_a_changed_deal_is_updated_and_the_others_stay_unchanged(
    attio_connection, attio_fake, pipeline
):
    pull(attio_connection)
    moved = next(iter(pipeline))
    attio_fake.set_stage(moved, "Won 🎉")
    pipeline[moved]["stage"] = "Won 🎉"

    run = pull(attio_connection)

    assert (run.created, run.updated, run.unchanged) == (0, 1, 5)
    assert_mirrors(pipeline)


def test_a_deal_deleted_upstream_is_archived_with_what_was_known(
    attio_connection, attio_fake, pipeline
):
    pull(attio_connection)
    gone = list(pipeline)[1]
    del attio_fake.deals[gone]

    run = pull(attio_connection)

    assert (run.updated, run.unchanged) == (1, 5)
    row = stored()[gone]
    assert (row.archived, row.name, row.stage) == (True, "Globex", "In Progress")
    assert not any(r.archived for upstream_id, r in stored().items() if upstream_id != gone)
    # Confirmed with Attio before archiving.
    assert attio_fake.count("GET", f"/v2/objects/deals/records/{gone}") == 1


def test_a_deal_a_query_page_skipped_is_not_archived(attio_connection, attio_fake, pipeline):
    pull(attio_connection)
    skipped = list(pipeline)[2]
    attio_fake.hidden_from_query.add(skipped)

    run = pull(attio_connection)

    assert (run.updated, run.unchanged) == (0, 6)
    assert stored()[skipped].archived is False


def test_a_full_refresh_looks_every_email_up_again(attio_connection, attio_fake, pipeline):
    pull(attio_connection)
    person = next(iter(attio_fake.people))
    attio_fake.people[person]["values"]["email_addresses"][0]["email_address"] = "new@example.com"
    changed = {
        deal_id
        for deal_id, record in attio_fake.deals.items()
        if record["values"]["associated_people"]
        and record["values"]["associated_people"][0]["target_record_id"] == person
    }

    run = pull(attio_connection, full_refresh=True)

    assert (run.updated, run.unchanged) == (len(changed), 6 - len(changed))
    # A query page, the two members and two people again, the stages and attributes.
    assert run.upstream_calls == 1 + 2 + 2 + 2
    for deal_id, row in stored().items():
        assert (row.contact_emails == ["new@example.com"]) == (deal_id in changed)


def test_a_malformed_record_fails_alone(attio_connection, attio_fake, pipeline):
    bad = next(iter(pipeline))
    attio_fake.deals[bad]["values"]["name"] = [{"value": None}]

    run = pull(attio_connection)

    assert (run.status, run.created, run.failed) == ("partial", 5, 1)
    assert run.errors[0]["upstreamId"] == bad
    assert bad not in stored()


def test_a_rate_limited_reconciliation_waits_and_finishes(attio_connection, attio_fake, pipeline):
    attio_fake.inject("429-date", path=QUERY)

    run = pull(attio_connection)

    assert (run.status, run.created) == ("succeeded", 6)
    assert attio_fake.faults_served == ["429-date"]


def test_a_revoked_key_fails_the_run_and_asks_for_new_credentials(
    attio_connection, attio_fake, pipeline
):
    attio_fake.api_key = "rotated-key"

    run = pull(attio_connection)

    attio_connection.refresh_from_db()
    assert run.status == "failed"
    assert attio_connection.status == Connection.Status.NEEDS_REAUTH
    assert CrmDeal.objects.count() == 0


# --- webhooks through the endpoint ----------------------------------------------------------


def deliver(client, connection, events, *, signature=None):
    body, good = signed_delivery(events)
    return client.post(
        f"/webhooks/crm/attio/{connection.pk}",
        data=body,
        content_type="application/json",
        headers={"Attio-Signature": good if signature is None else signature},
    )


def test_a_webhook_syncs_exactly_the_deals_it_names(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline
):
    pull(attio_connection)
    named, other = list(pipeline)[:2]
    attio_fake.set_stage(named, "Won 🎉")
    attio_fake.set_stage(other, "Lost")
    queries = attio_fake.count("POST", QUERY)

    response = deliver(client, attio_connection, [("record.updated", named)])

    assert response.status_code == 200
    assert response.json() == {"received": 1, "duplicates": 0}
    assert (stored()[named].stage, stored()[other].stage) == ("Won 🎉", "In Progress")
    run = SyncRun.objects.get(trigger=SyncRun.Trigger.WEBHOOK)
    assert (run.stream, run.updated, run.unchanged) == ("deals", 1, 0)
    assert attio_fake.count("POST", QUERY) == queries
    assert attio_fake.count("GET", f"/v2/objects/deals/records/{named}") == 1


def test_a_redelivered_webhook_without_idempotency_key_is_not_synced_twice(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline
):
    named = next(iter(pipeline))
    body, signature = signed_delivery([("record.updated", named)])
    post = partial(
        client.post,
        f"/webhooks/crm/attio/{attio_connection.pk}",
        data=body,
        content_type="application/json",
        headers={"Attio-Signature": signature},
    )

    # Event ids hold for the minute a delivery arrives in: pin it (time still runs).
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC), tick=True):
        assert post().json() == {"received": 1, "duplicates": 0}
        assert post().json() == {"received": 0, "duplicates": 1}
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1
    assert attio_fake.count("GET", f"/v2/objects/deals/records/{named}") == 1


def post_delivery(client, connection, body: bytes, **headers):
    return client.post(
        f"/webhooks/crm/attio/{connection.pk}",
        data=body,
        content_type="application/json",
        headers={"Attio-Signature": sign(body), **headers},
    )


def test_identical_bodies_with_different_idempotency_keys_are_both_applied(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline
):
    """Issue #17, case 3: two edits of the same attribute within a minute arrive as identical
    bodies; Attio's Idempotency-Key differs for each message, so the second edit is read."""
    pull(attio_connection)
    named = next(iter(pipeline))
    body, _ = signed_delivery([("record.updated", named)])

    with time_machine.travel(datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC), tick=True):
        attio_fake.set_stage(named, "Won")
        first = post_delivery(client, attio_connection, body, **{"Idempotency-Key": "msg-1"})
        attio_fake.set_stage(named, "Lost")
        second = post_delivery(client, attio_connection, body, **{"Idempotency-Key": "msg-2"})

    assert first.json() == second.json() == {"received": 1, "duplicates": 0}
    assert stored()[named].stage == "Lost"
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 2


def test_a_redelivery_with_the_same_idempotency_key_is_applied_once(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline
):
    """Attio keeps the key across retries and redeliveries, however late they come."""
    named = next(iter(pipeline))
    body, _ = signed_delivery([("record.updated", named)])
    key = {"Idempotency-Key": "0c6c2bd4-5f1e-4b8e-9a57-9d3b7c1e2f40"}

    with time_machine.travel(datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC), tick=True):
        assert post_delivery(client, attio_connection, body, **key).json()["received"] == 1
    with time_machine.travel(datetime(2026, 11, 26, 10, 7, 30, tzinfo=UTC), tick=True):
        again = post_delivery(client, attio_connection, body, **key)

    assert again.json() == {"received": 0, "duplicates": 1}
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1
    assert attio_fake.count("GET", f"/v2/objects/deals/records/{named}") == 1


def test_webhooks_create_and_archive_deals(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline
):
    pull(attio_connection)
    gone = next(iter(pipeline))
    del attio_fake.deals[gone]
    new = attio_fake.add_deal(name="Wayne", stage="Lead")

    deliver(client, attio_connection, [("record.deleted", gone)])
    deliver(client, attio_connection, [("record.created", new)])

    assert (stored()[gone].archived, stored()[gone].name) == (True, "Acme")
    assert (stored()[new].name, stored()[new].archived) == ("Wayne", False)
    assert len(stored()) == 7


def test_a_webhook_naming_a_record_of_another_object_stores_nothing(
    client, attio_connection, attio_fake, tasks_run_inline
):
    person = attio_fake.add_person("someone@example.com")

    response = deliver(client, attio_connection, [("record.updated", person)])

    assert response.status_code == 200
    assert CrmDeal.objects.count() == 0


@pytest.mark.parametrize("signature", ["", "0" * 64])
def test_an_unsigned_or_forged_webhook_is_refused_and_recorded_nowhere(
    client, attio_connection, attio_fake, pipeline, tasks_run_inline, signature
):
    response = deliver(
        client, attio_connection, [("record.updated", next(iter(pipeline)))], signature=signature
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not WebhookDelivery.objects.exists()
    assert not SyncRun.objects.exists()
    assert attio_fake.requests == []


def test_a_deal_moved_into_a_rule_stage_gets_one_room_from_its_attio_values(
    client, attio_connection, attio_fake, tasks_run_inline, workspace, template, member
):
    """Stage title, owner email and first contact as auto-create reads them; the webhook's
    sync and the next scheduled reconciliation make one room between them."""
    DealRoomRule.objects.create(
        workspace=workspace, connection=attio_connection, stage="Won 🎉", template=template
    )
    owner = attio_fake.add_member(member.email.upper())
    buyer = attio_fake.add_person("buyer@acme.example")
    deal_id = attio_fake.add_deal(name="Acme expansion", owner=owner, people=(buyer,))
    pull(attio_connection)
    assert not Room.objects.filter(is_template=False).exists()
    attio_fake.set_stage(deal_id, "Won 🎉")

    deliver(client, attio_connection, [("record.updated", deal_id)])
    pull(attio_connection)

    room = Room.objects.get(is_template=False)
    assert (room.title, room.attio_deal_id, room.owner) == ("Acme expansion", deal_id, member)
    assert room.primary_contact.email == "buyer@acme.example"
    assert DealRoom.objects.get().room == room


# --- write-back -----------------------------------------------------------------------------


def write_back(connection) -> SyncRun:
    return stream_run(connection=connection, stream="write_back", trigger=SyncRun.Trigger.SCHEDULE)


@pytest.fixture
def linked_rooms(workspace, attio_fake) -> dict[str, Room]:
    """Three rooms linked to three Attio deals (by deal id), and one room linked to none."""
    RoomFactory(workspace=workspace, title="Not linked")
    rooms = {}
    for n in range(3):
        deal_id = attio_fake.add_deal(name=f"Deal {n}")
        rooms[deal_id] = RoomFactory(workspace=workspace, title=f"Room {n}", attio_deal_id=deal_id)
    return rooms


def test_write_back_patches_each_linked_deal_then_only_changed_rooms(
    attio_connection, attio_fake, linked_rooms
):
    first = write_back(attio_connection)

    assert (first.status, first.updated, first.unchanged) == ("succeeded", 3, 0)
    assert sorted(deal_id for deal_id, _ in attio_fake.patches) == sorted(linked_rooms)
    for deal_id, values in attio_fake.patches:
        assert set(values) == {f"flowsync_{field}" for field in WRITE_BACK_FIELDS}
        assert str(linked_rooms[deal_id].pk) in values["flowsync_room_url"]
        assert (values["flowsync_total_views"], values["flowsync_last_engaged_at"]) == (0, None)

    second = write_back(attio_connection)

    assert (second.updated, second.unchanged, second.upstream_calls) == (0, 3, 0)
    assert len(attio_fake.patches) == 3

    viewed_deal = list(linked_rooms)[1]
    VisitFactory(room=linked_rooms[viewed_deal])
    VisitFactory(room=linked_rooms[viewed_deal])

    third = write_back(attio_connection)

    assert (third.updated, third.unchanged, third.upstream_calls) == (1, 2, 1)
    deal_id, values = attio_fake.patches[-1]
    assert (deal_id, values["flowsync_total_views"]) == (viewed_deal, 2)


def test_write_back_to_a_deleted_deal_fails_that_room_only(
    attio_connection, attio_fake, linked_rooms
):
    gone = next(iter(linked_rooms))
    del attio_fake.deals[gone]

    run = write_back(attio_connection)

    assert (run.status, run.updated, run.failed) == ("partial", 2, 1)
    assert run.errors[0]["upstreamId"] == gone
    assert {deal_id for deal_id, _ in attio_fake.patches} == set(linked_rooms) - {gone}


def test_a_rate_limited_write_back_is_waited_out(attio_connection, attio_fake, linked_rooms):
    attio_fake.inject("429-date", method="PATCH")

    run = write_back(attio_connection)

    assert (run.status, run.updated) == ("succeeded", 3)
    assert attio_fake.faults_served == ["429-date"]
    assert len(attio_fake.patches) == 3


def test_one_deal_per_call_does_not_mean_queries_per_room(
    attio_connection, attio_fake, workspace, django_assert_max_num_queries
):
    """Attio writes one deal per call; the hashes of what it accepted are still stored for
    many rooms at once, so SQL stays flat while calls grow with the rooms."""
    for n in range(150):
        RoomFactory(workspace=workspace, attio_deal_id=attio_fake.add_deal(name=f"Deal {n}"))

    with django_assert_max_num_queries(60):
        run = write_back(attio_connection)

    assert (run.status, run.updated, run.upstream_calls) == ("succeeded", 150, 150)
    assert CrmWriteBack.objects.filter(connection=attio_connection).count() == 150
    assert write_back(attio_connection).unchanged == 150
