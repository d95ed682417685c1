"""The CRM webhook endpoint's provider-independent behaviour (routing, de-duplication, the
sync task), driven through HubSpot deliveries signed as HubSpot's guide says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
from django.db import connections
from django.test import Client

from config.celery import app as celery_app
from rooms.models import Room
from syncing.crm.webhooks import deals_sync
from syncing.models import Connection, CrmDeal, DealRoom, DealRoomRule, SyncRun, WebhookDelivery
from syncing.runs import sync_run
from syncing.services import connection_create
from syncing.streams import stream_run
from tests.conftest import wait_until
from tests.rooms.factories import RoomFactory
from tests.syncing.crm.hubspot_setup import hubspot_connection_create

APP_SECRET = "crm-core-app-secret-81f2"
PUBLIC = "https://flowsync.acme.example"
BATCH_READ = "/crm/v3/objects/deals/batch/read"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def connection(workspace, hubspot) -> Connection:
    return hubspot_connection_create(
        workspace, hubspot, access_token=hubspot.api_key, app_secret=APP_SECRET
    )


def post(client, path: str, events: list[dict]):
    body = json.dumps(events)
    timestamp = str(int(time.time() * 1000))
    source = f"POST{PUBLIC}{path}{body}{timestamp}".encode()
    signature = base64.b64encode(hmac.new(APP_SECRET.encode(), source, hashlib.sha256).digest())
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={
            "X-HubSpot-Signature-v3": signature.decode(),
            "X-HubSpot-Request-Timestamp": timestamp,
        },
    )


def url(connection, provider="hubspot") -> str:
    return f"/webhooks/crm/{provider}/{connection.pk}"


def events(*deal_ids, first=1) -> list[dict]:
    return [
        {"eventId": first + n, "subscriptionType": "deal.propertyChange", "objectId": int(i)}
        for n, i in enumerate(deal_ids)
    ]


def test_a_delivery_with_some_events_seen_before_syncs_its_deals_once_more(
    client, connection, hubspot, tasks_run_inline
):
    first, second = hubspot.add_deal(), hubspot.add_deal()
    post(client, url(connection), events(first["id"], first=10))
    hubspot.touch(second["id"], dealname="Renamed")

    response = post(client, url(connection), events(first["id"], second["id"], first=10))

    assert response.json() == {"received": 1, "duplicates": 1}
    assert CrmDeal.objects.get(upstream_id=second["id"]).name == "Renamed"
    assert SyncRun.objects.filter(trigger="webhook").count() == 2
    assert WebhookDelivery.objects.filter(connection=connection).count() == 2


@pytest.mark.parametrize("path", ["other connection", "other provider", "not a crm", "nobody"])
def test_a_webhook_for_no_such_connection_answers_like_a_bad_signature(
    client, connection, hubspot, workspace, tasks_run_inline, path
):
    rooms = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url="http://rooms.example",
        api_key="key",
    )
    target = {
        "other connection": url(rooms, "hubspot"),
        "other provider": url(connection, "salesforce"),
        "not a crm": url(rooms, "rooms_platform"),
        "nobody": f"/webhooks/crm/hubspot/{connection.pk + 1000}",
    }[path]

    response = post(client, target, events(hubspot.add_deal()["id"]))
    forged = client.post(
        url(connection, "hubspot"),
        b"[]",
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": "forged", "X-HubSpot-Request-Timestamp": "1"},
    )

    assert response.status_code == forged.status_code == 401
    assert response.json() == forged.json()
    assert not WebhookDelivery.objects.exists()
    assert not SyncRun.objects.exists()


def test_a_webhook_is_only_posted(client, connection):
    response = client.get(url(connection))

    assert response.status_code == 405
    assert response.json()["error"]["status"] == 405


def test_an_authentic_delivery_naming_no_deal_queues_nothing(
    client, connection, hubspot, tasks_run_inline
):
    contact_event = [{"eventId": 77, "subscriptionType": "contact.creation", "objectId": 9}]

    response = post(client, url(connection), contact_event)

    assert response.json() == {"received": 1, "duplicates": 0}
    assert not SyncRun.objects.exists()
    assert hubspot.requests == []


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_delivery_at_once_count_once(client, connection, hubspot):
    """HubSpot retries a delivery it timed out on while the first is still being answered."""
    deal = hubspot.add_deal()
    answers, start = [], threading.Barrier(2)

    def deliver():
        try:
            start.wait(timeout=10)
            answers.append(post(Client(), url(connection), events(deal["id"], first=300)).json())
        finally:
            connections.close_all()

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        celery_app.conf.task_always_eager = previous

    assert sorted(answer["received"] for answer in answers) == [0, 1]
    assert sorted(answer["duplicates"] for answer in answers) == [0, 1]
    assert WebhookDelivery.objects.count() == 1


def test_a_webhook_sync_waits_while_a_run_of_the_stream_is_under_way(connection, hubspot):
    deal = hubspot.add_deal()

    with sync_run(connection=connection, stream="deals", trigger="schedule"):
        assert deals_sync(connection_id=connection.pk, deal_ids=[deal["id"]]) == "busy"
    assert hubspot.count("POST", BATCH_READ) == 0

    assert deals_sync(connection_id=connection.pk, deal_ids=[deal["id"]]) == "done"
    assert CrmDeal.objects.filter(upstream_id=deal["id"]).exists()


def test_a_webhook_sync_of_a_deleted_or_disabled_connection_does_nothing(connection, hubspot):
    connection.enabled = False
    connection.save()

    assert deals_sync(connection_id=connection.pk, deal_ids=["1"]) == "gone"
    assert deals_sync(connection_id=connection.pk + 1000, deal_ids=["1"]) == "gone"
    assert hubspot.requests == []


@pytest.mark.django_db(transaction=True)
def test_webhook_schedule_and_retry_at_once_make_one_room(connection, hubspot, workspace):
    """The deal enters the rule's stage; a webhook sync, the scheduled pull and a retried
    webhook sync all run at once (each retried, as Celery would, until it got its turn)."""
    template = RoomFactory(workspace=workspace, is_template=True, title="Closing plan")
    DealRoomRule.objects.create(
        workspace=workspace, connection=connection, stage="contractsent", template=template
    )
    deal = hubspot.add_deal(dealname="Globex renewal", dealstage="contractsent")
    start, errors = threading.Barrier(3), []

    def until_done(sync):
        try:
            start.wait(timeout=10)
            deadline = time.monotonic() + 90
            while sync() == "busy":
                if time.monotonic() > deadline:
                    errors.append("never got its turn")
                    return
                time.sleep(0.05)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    def webhook():
        return deals_sync(connection_id=connection.pk, deal_ids=[deal["id"]])

    def schedule():
        run = stream_run(connection=Connection.objects.get(pk=connection.pk), stream="deals")
        return "busy" if run is None else "done"

    threads = [threading.Thread(target=until_done, args=(s,)) for s in (webhook, schedule, webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    room = Room.objects.get(is_template=False)
    assert (room.title, room.hs_deal_id) == ("Globex renewal", deal["id"])
    assert DealRoom.objects.get().room == room
    assert SyncRun.objects.filter(stream="deals", status="succeeded").count() == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_sync_a_webhook_queued(client, connection, hubspot, request):
    """The task is known to a worker process (it is not in an app's tasks module)."""
    worker = request.getfixturevalue("celery_worker_process")
    deal = hubspot.add_deal(dealname="Worked on")

    response = post(client, url(connection), events(deal["id"]))

    assert response.json() == {"received": 1, "duplicates": 0}
    wait_until(lambda: CrmDeal.objects.filter(upstream_id=deal["id"]).exists(), timeout=90)
    assert worker.poll() is None, "the worker died"
    assert SyncRun.objects.get(stream="deals").trigger == "webhook"
