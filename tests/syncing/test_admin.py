"""Admin pages of connections, runs and the outbox, scoped by workspace."""

from __future__ import annotations

import pytest
from django.db import transaction

from syncing.models import Connection, OutboxMessage, SyncRun
from syncing.outbox import outbox_enqueue, outbox_message_deliver
from syncing.services import connection_create
from tests.syncing.conftest import ADMIN_API_KEY as SECRET
from tests.syncing.conftest import admin_edit_connection
from tests.syncing.fakes.handlers import CREATE

pytestmark = pytest.mark.django_db


def test_adding_a_connection_stores_the_key_encrypted_and_never_shows_it(client, staff, rooms_fake):
    client.force_login(staff.owner.user)
    response = client.post(
        "/admin/syncing/connection/add/",
        {
            "workspace": staff.workspace.pk,
            "provider": "rooms_platform",
            "name": "Flowla",
            "base_url": rooms_fake.url,
            "api_key": SECRET,
            "enabled": "on",
            "options": "{}",
            "schedule_rooms_every": "15",
            "schedule_rooms_on": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    connection = Connection.objects.get(name="Flowla")
    assert connection.credentials == {"api_key": SECRET}
    page = client.get(f"/admin/syncing/connection/{connection.pk}/change/").content.decode()
    assert "stored (encrypted)" in page
    assert SECRET not in page
    assert connection.credentials_encrypted not in page
    assert SECRET not in client.get("/admin/syncing/connection/").content.decode()


def test_a_new_connection_needs_a_key(client, staff):
    client.force_login(staff.owner.user)
    response = client.post(
        "/admin/syncing/connection/add/",
        {
            "workspace": staff.workspace.pk,
            "provider": "rooms_platform",
            "name": "Keyless",
            "base_url": "https://api.flowla.example",
            "options": "{}",
        },
    )

    assert "A new connection needs its api key." in response.content.decode()
    assert not Connection.objects.filter(name="Keyless").exists()


def test_a_blank_key_keeps_the_stored_one_and_a_new_key_clears_needs_reauth(
    client, staff, connection, rooms_fake
):
    client.force_login(staff.owner.user)
    admin_edit_connection(client, connection, name="Flowla EU")
    connection.refresh_from_db()
    assert connection.name == "Flowla EU"
    assert connection.credentials == {"api_key": SECRET}

    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.NEEDS_REAUTH)
    rooms_fake.api_key = "new-secret"
    admin_edit_connection(client, connection, name="Flowla EU", api_key="new-secret")
    connection.refresh_from_db()
    assert connection.credentials == {"api_key": "new-secret"}
    assert connection.status == Connection.Status.OK


def test_test_connection_shows_the_result(client, staff, connection, rooms_fake):
    client.force_login(staff.owner.user)
    url = "/admin/syncing/connection/"
    action = {"action": "test_connection", "_selected_action": [connection.pk]}

    page = client.post(url, action, follow=True).content.decode()
    assert "Acme Flowla: 2 room statuses readable" in page

    rooms_fake.api_key = "revoked"
    page = client.post(url, action, follow=True).content.decode()
    assert (
        "Acme Flowla: Rooms platform (Flowla API v2) refused the credentials; "
        "enter them again: HTTP 401" in page
    )
    assert SECRET not in page
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH


def test_connections_of_another_workspace_are_hidden(client, staff, connection):
    client.force_login(staff.outsider.user)

    assert "Acme Flowla" not in client.get("/admin/syncing/connection/").content.decode()
    response = client.get(f"/admin/syncing/connection/{connection.pk}/change/")
    assert response.status_code in (302, 403, 404)


def test_runs_list_filters_and_detail_shows_errors(client, staff, connection):
    run = SyncRun.objects.create(
        workspace=staff.workspace,
        connection=connection,
        stream="rooms",
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.PARTIAL,
        failed=1,
        errors=[
            {
                "message": "invalid record: createdAt: This field is required.",
                "upstreamId": "room-77",
                "correlationId": "req-991",
                "status": None,
            }
        ],
        error_count=1,
    )
    client.force_login(staff.member.user)

    listing = client.get("/admin/syncing/syncrun/?status__exact=partial&stream=rooms")
    assert listing.status_code == 200
    assert f"/admin/syncing/syncrun/{run.pk}/change/" in listing.content.decode()
    empty = client.get("/admin/syncing/syncrun/?status__exact=failed").content.decode()
    assert f"/admin/syncing/syncrun/{run.pk}/change/" not in empty

    detail = client.get(f"/admin/syncing/syncrun/{run.pk}/change/").content.decode()
    assert "createdAt: This field is required." in detail
    assert "room-77" in detail
    assert "req-991" in detail


@pytest.mark.usefixtures("test_handlers")
def test_retry_puts_a_failed_message_back_and_it_is_delivered_once(
    client, staff, connection, rooms_fake, settings
):
    settings.SYNC_OUTBOX_MAX_ATTEMPTS = 1
    with transaction.atomic():
        message = outbox_enqueue(connection=connection, kind=CREATE, payload={"title": "Deal"})
    rooms_fake.inject("lost", method="POST")
    assert outbox_message_deliver(message_id=message.pk) == "failed"

    client.force_login(staff.member.user)
    page = client.get("/admin/syncing/outboxmessage/").content.decode()
    assert "connection failed" in page
    client.post(
        "/admin/syncing/outboxmessage/", {"action": "retry", "_selected_action": [message.pk]}
    )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED, "a member may not retry"

    client.force_login(staff.owner.user)
    client.post(
        "/admin/syncing/outboxmessage/", {"action": "retry", "_selected_action": [message.pk]}
    )
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)

    assert outbox_message_deliver(message_id=message.pk) == "sent"
    # The lost attempt had created the room: it was adopted, not created again.
    assert len(rooms_fake.rooms) == 1
    message.refresh_from_db()
    assert message.upstream_id == next(iter(rooms_fake.rooms))


def test_test_connection_of_hubspot_searches_deals_with_the_stored_token(client, staff):
    from tests.syncing.fakes.hubspot import FakeHubSpot

    fake = FakeHubSpot().start()
    try:
        fake.add_deal(dealname="Acme renewal")
        fake.add_deal(dealname="Globex expansion")
        hubspot = connection_create(
            workspace=staff.workspace,
            provider=Connection.Provider.HUBSPOT,
            name="Acme HubSpot",
            base_url=fake.url,
            api_key=fake.api_key,
            options={"requests_per_second": 100, "burst": 100},
        )
        client.force_login(staff.owner.user)

        page = client.post(
            "/admin/syncing/connection/",
            {"action": "test_connection", "_selected_action": [hubspot.pk]},
            follow=True,
        ).content.decode()
    finally:
        fake.stop()

    # The fake holds two deals; the check is one deal search with the bearer token, then the
    # CRM's stages and deal properties.
    assert "Acme HubSpot: 2 deals readable; 4 stages in 1 pipeline; all 6 write-back" in page
    assert fake.requests == [
        ("POST", "/crm/v3/objects/deals/search"),
        ("GET", "/crm/v3/pipelines/deals"),
        ("GET", "/crm/v3/properties/deals"),
    ]
    hubspot.refresh_from_db()
    assert hubspot.status == Connection.Status.OK


def test_the_sweeper_schedule_exists_and_is_editable(client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="syncing: sweep outbox")

    assert task.task == "syncing.sweep_outbox"
    assert (task.interval.every, task.interval.period) == (1, "minutes")
    assert task.enabled


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("[1, 2]", "Options must be a JSON object."),
        ('{"requests_per_second": 0}', "requests_per_second must be a positive number."),
        ('{"burst": "ten"}', "burst must be a positive number."),
        ('{"burst": 2.5}', "burst must be a positive number."),
    ],
)
def test_budget_options_are_checked(client, staff, connection, options, message):
    client.force_login(staff.owner.user)

    response = admin_edit_connection(client, connection, options=options)

    assert message in response.content.decode()
    connection.refresh_from_db()
    assert connection.options == {"requests_per_second": 100, "burst": 100}
