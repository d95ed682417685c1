"""HubSpot webhook signatures (v3): what ``verify`` accepts and rejects, and what it reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.test import RequestFactory

from syncing.crm.types import WebhookRejected
from syncing.models import Connection, CrmDeal, SyncRun, WebhookDelivery
from syncing.providers.hubspot.webhooks import verify
from syncing.services import connection_create
from tests.syncing.crm.hubspot_setup import hubspot_connection_create
from tests.syncing.fakes.hubspot import FakeHubSpot

pytestmark = pytest.mark.django_db

APP_SECRET = "hubspot-app-secret-5d1e"
PUBLIC = "https://flowsync.acme.example"
EVENTS = [
    {
        "eventId": 101,
        "subscriptionId": 9,
        "portalId": 62515,
        "occurredAt": 1764120000000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 5001,
        "propertyName": "dealstage",
        "propertyValue": "contractsent",
    },
    {"eventId": 102, "subscriptionType": "deal.creation", "objectId": 5002},
    {"eventId": 103, "subscriptionType": "contact.creation", "objectId": 7001},
    {"eventId": 104, "subscriptionType": "deal.merge", "objectId": 5003, "mergedObjectIds": [5004]},
    {
        "eventId": 105,
        "subscriptionType": "object.propertyChange",
        "objectTypeId": "0-3",
        "objectId": 5005,
    },
]


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def connection(workspace) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.HUBSPOT,
        name="Acme HubSpot",
        base_url="http://crm.example",
        credentials={"access_token": "pat-unused", "client_secret": APP_SECRET},
    )


def hubspot_signature(secret: str, source: str) -> str:
    """Computed as HubSpot's guide says, independently of the code under test."""
    digest = hmac.new(secret.encode(), source.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def delivery(
    connection,
    *,
    body: str | None = None,
    timestamp: int | None = None,
    secret: str = APP_SECRET,
    signed_body: str | None = None,
    headers: dict | None = None,
):
    body = json.dumps(EVENTS) if body is None else body
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    path = f"/webhooks/crm/hubspot/{connection.pk}?source=app"
    signed = signed_body if signed_body is not None else body
    signature = hubspot_signature(secret, f"POST{PUBLIC}{path}{signed}{timestamp}")
    sent = {
        "HTTP_X_HUBSPOT_SIGNATURE_V3": signature,
        "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": str(timestamp),
    }
    sent.update(headers or {})
    return RequestFactory().post(
        path,
        data=body,
        content_type="application/json",
        **{k: v for k, v in sent.items() if v is not None},
    )


def test_a_valid_delivery_names_its_events_and_deals(connection):
    notice = verify(connection, delivery(connection))

    assert notice.event_ids == ("101", "102", "103", "104", "105")
    # Deal events only; a merge names the deal that is gone too.
    assert notice.deal_ids == ("5001", "5002", "5003", "5004", "5005")


def test_a_tampered_body_is_rejected(connection):
    tampered = json.dumps([{**EVENTS[0], "objectId": 6666}])

    with pytest.raises(WebhookRejected):
        verify(connection, delivery(connection, body=tampered, signed_body=json.dumps(EVENTS)))


def test_another_secret_is_rejected(connection):
    with pytest.raises(WebhookRejected):
        verify(connection, delivery(connection, secret="someone-else"))


def test_a_delivery_older_than_five_minutes_is_rejected(connection):
    six_minutes_ago = int((time.time() - 6 * 60) * 1000)

    with pytest.raises(WebhookRejected, match="Stale"):
        verify(connection, delivery(connection, timestamp=six_minutes_ago))


def test_a_delivery_four_minutes_old_is_accepted(connection):
    four_minutes_ago = int((time.time() - 4 * 60) * 1000)

    assert verify(connection, delivery(connection, timestamp=four_minutes_ago)).event_ids


@pytest.mark.parametrize(
    "missing", ["HTTP_X_HUBSPOT_SIGNATURE_V3", "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"]
)
def test_a_missing_header_is_rejected(connection, missing):
    with pytest.raises(WebhookRejected, match="Missing"):
        verify(connection, delivery(connection, headers={missing: None}))


def test_a_connection_without_a_client_secret_rejects_everything(connection):
    connection.credentials = {"access_token": "pat-unused"}

    with pytest.raises(WebhookRejected, match="client secret"):
        verify(connection, delivery(connection))


def test_a_secret_kept_as_app_secret_before_the_per_field_form_still_verifies(connection):
    connection.credentials = {"access_token": "pat-unused", "app_secret": APP_SECRET}

    assert verify(connection, delivery(connection)).deal_ids


def test_encoded_characters_of_the_uri_are_decoded_before_signing(connection):
    # HubSpot signs the URI with %3A, %2F, %40 ... decoded.
    timestamp = int(time.time() * 1000)
    body = json.dumps(EVENTS[:1])
    path = f"/webhooks/crm/hubspot/{connection.pk}?return=a%3Ab%40c"
    source = f"POST{PUBLIC}/webhooks/crm/hubspot/{connection.pk}?return=a:b@c{body}{timestamp}"
    request = RequestFactory().post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE_V3=hubspot_signature(APP_SECRET, source),
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=str(timestamp),
    )

    assert verify(connection, request).deal_ids == ("5001",)


# --- through the endpoint -------------------------------------------------------------------


@pytest.fixture
def hubspot():
    fake = FakeHubSpot().start()
    yield fake
    fake.stop()


@pytest.fixture
def live_connection(workspace, hubspot) -> Connection:
    return hubspot_connection_create(
        workspace, hubspot, access_token=hubspot.api_key, app_secret=APP_SECRET
    )


def post_delivery(client, connection, events, *, timestamp=None, tamper=None, drop=None):
    body = json.dumps(events)
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    path = f"/webhooks/crm/hubspot/{connection.pk}"
    headers = {
        "X-HubSpot-Signature-v3": hubspot_signature(
            APP_SECRET, f"POST{PUBLIC}{path}{body}{timestamp}"
        ),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }
    if drop:
        del headers[drop]
    return client.post(path, data=tamper or body, content_type="application/json", headers=headers)


def deal_events(*deal_ids, first_event=1):
    return [
        {"eventId": first_event + n, "subscriptionType": "deal.propertyChange", "objectId": int(d)}
        for n, d in enumerate(deal_ids)
    ]


def test_a_signed_delivery_syncs_the_deals_it_names(
    client, live_connection, hubspot, tasks_run_inline
):
    named = hubspot.add_deal(dealname="Signed and sealed")
    hubspot.add_deal(dealname="Not named")

    response = post_delivery(client, live_connection, deal_events(named["id"]))

    assert response.status_code == 200
    assert response.json() == {"received": 1, "duplicates": 0}
    assert list(CrmDeal.objects.values_list("upstream_id", "name")) == [
        (named["id"], "Signed and sealed")
    ]
    # Read by id, not by a search of everything.
    assert hubspot.count("POST", "/crm/v3/objects/deals/batch/read") == 1
    assert hubspot.count("POST", "/crm/v3/objects/deals/search") == 0
    run = SyncRun.objects.get(trigger=SyncRun.Trigger.WEBHOOK)
    assert (run.stream, run.created) == ("deals", 1)


def test_a_redelivery_is_ignored_by_its_event_id(
    client, live_connection, hubspot, tasks_run_inline
):
    deal = hubspot.add_deal()
    events = deal_events(deal["id"], first_event=500)

    assert post_delivery(client, live_connection, events).json() == {
        "received": 1,
        "duplicates": 0,
    }
    assert post_delivery(client, live_connection, events).json() == {
        "received": 0,
        "duplicates": 1,
    }
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1


@pytest.mark.parametrize(
    "fault",
    ["tampered", "stale", "no signature", "no timestamp"],
)
def test_an_unauthentic_delivery_is_answered_401_and_changes_nothing(
    client, live_connection, hubspot, tasks_run_inline, fault
):
    deal = hubspot.add_deal()
    events = deal_events(deal["id"])
    options = {
        "tampered": {"tamper": json.dumps(deal_events("424242"))},
        "stale": {"timestamp": int((time.time() - 301) * 1000)},
        "no signature": {"drop": "X-HubSpot-Signature-v3"},
        "no timestamp": {"drop": "X-HubSpot-Request-Timestamp"},
    }[fault]

    response = post_delivery(client, live_connection, events, **options)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not WebhookDelivery.objects.exists()
    assert not SyncRun.objects.exists()
    assert hubspot.requests == []
