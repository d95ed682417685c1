"""The Attio client and webhook check against the fake Attio over a real socket."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import RequestFactory

from syncing import errors
from syncing.crm.types import Deal, DealUpdate, WebhookRejected
from syncing.models import Connection
from syncing.providers.attio import webhooks
from syncing.providers.attio.client import PAGE_LIMIT
from syncing.services import connection_client, connection_create
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

    pages = list(client.deal_pages())

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

    [page] = connection_client(attio_connection).deal_pages()

    by_id = {getattr(item, "upstream_id", None): item for item in page}
    assert isinstance(by_id[good], Deal)
    assert isinstance(by_id[bad], errors.RecordError)
    assert "stage" in by_id[bad].message


def test_a_rate_limit_with_an_http_date_retry_after_is_waited_out(attio_connection, attio_fake):
    attio_fake.add_deal(name="Patient")
    attio_fake.inject("429-date", path=QUERY)
    client = connection_client(attio_connection)

    [page] = client.deal_pages()

    assert [deal.name for deal in page] == ["Patient"]
    assert attio_fake.faults_served == ["429-date"]
    assert attio_fake.count("POST", QUERY) == 2


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


def test_a_redelivery_has_the_same_event_ids(attio_connection):
    body, signature = signed_delivery([("record.updated", "deal-1")])
    headers = {"Attio-Signature": signature}

    first = webhooks.verify(attio_connection, webhook_request(body, headers))
    again = webhooks.verify(attio_connection, webhook_request(body, headers))

    assert first.event_ids == again.event_ids


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


def test_the_http_date_retry_after_is_read_as_a_wait(attio_connection, attio_fake, settings):
    settings.SYNC_HTTP_RETRIES = 0
    attio_fake.retry_after = 30
    attio_fake.inject("429-date", path=QUERY)

    with pytest.raises(errors.RateLimitedError) as raised:
        list(connection_client(attio_connection).deal_pages())

    # The date has whole seconds: 30 s ahead, less what passed since it was written.
    assert 28 <= raised.value.retry_after <= 30
