"""The video-rooms platform's webhooks (POST /webhooks/video_platform/<connection id>): signed
deliveries land in the workspace analytics beside the pulled data (and equal what ingesting
the same data gives), replays change nothing, and every delivery that is not signed, fresh
or readable is refused with nothing stored."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone

from insights.models import ContactEvent, Recording
from rooms.models import Contact, Room
from syncing.models import Connection, SyncRun, WebhookDelivery
from syncing.services import connection_create
from tests.factories import WorkspaceFactory
from tests.syncing.fakes.video_platform import ROOMS, FakeVideoPlatform, sign
from tests.syncing.test_video_pull import (
    analytics,
    connect,
    event_calls,
    ingested_twin_analytics,
    pull,
    stored_events,
    stored_state,
    upstream_events,
    upstream_state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    fake = FakeVideoPlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def connection(workspace, fake) -> Connection:
    return connect(workspace, fake)


def deliver(client, connection_, delivery: tuple[bytes, dict], *, connection_id=None):
    body, headers = delivery
    return client.post(
        f"/webhooks/video_platform/{connection_id or connection_.pk}",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def nothing_stored(workspace) -> bool:
    return not (
        ContactEvent.objects.for_workspace(workspace).exists()
        or Recording.objects.for_workspace(workspace).exists()
        or Room.objects.for_workspace(workspace).exists()
        or Contact.objects.for_workspace(workspace).exists()
        or WebhookDelivery.objects.exists()
    )


def rooms_of(fake) -> list[dict]:
    return list(fake.rooms.values())


def test_a_signed_join_lands_in_the_analytics(client, connection, fake, workspace):
    fake.populate(10)
    pull(connection, full_refresh=True)
    before = analytics(client, workspace)
    contact = next(iter(fake.contacts))

    response = deliver(client, connection, fake.join(contact, rooms_of(fake)[0]))

    assert response.status_code == 200, response.content
    assert response.json() == {"received": 1, "duplicates": 0}
    assert stored_events(workspace) == upstream_events(fake)
    after = analytics(client, workspace)
    joins = {row["type"]: row["count"] for row in after["eventTypeBreakdown"]}
    assert joins["room_join"] == 1 + {
        row["type"]: row["count"] for row in before["eventTypeBreakdown"]
    }.get("room_join", 0)
    assert sum(day["room_joins"] for day in after["activityTimeline"]) == 1 + sum(
        day["room_joins"] for day in before["activityTimeline"]
    )


def test_pulled_and_pushed_data_answer_the_same_analytics_as_the_same_data_ingested(
    client, connection, fake, workspace
):
    """A pull, then every kind of delivery (a new room, joins and a leave by a known and a
    new contact, a recording started and completed, a member joining); the analytics equal
    those of a workspace that ingested the platform's final state, and the next pull reads
    no event and stores nothing new."""
    fake.populate(30, start=datetime.now(UTC) - timedelta(days=10))
    pull(connection, full_refresh=True)
    known = list(fake.contacts)[4]
    newcomer = fake.add_contact("Late Comer", "Late@Example.com", at=datetime.now(UTC))
    room, created = fake.room_create("late-room-2222")
    recording, started = fake.recording_start(rooms_of(fake)[1]["id"])
    deliveries = [
        created,
        fake.join(known, room),
        fake.join(newcomer["id"], room),
        fake.join(newcomer["id"], rooms_of(fake)[0]),
        fake.leave(known, room),
        started,
        fake.recording_complete(recording, duration=1800),
        fake.webhook("member.joined", {"id": 9, "email": "teammate@example.com", "role": "member"}),
    ]

    answers = [deliver(client, connection, delivery) for delivery in deliveries]

    assert [a.status_code for a in answers] == [200] * len(deliveries), answers[-1].content
    assert stored_events(workspace) == upstream_events(fake)
    expected = upstream_state(fake)
    quiet = ROOMS[-1][0]  # nobody joined it: the room list carries no display name
    expected["rooms"][quiet] = (quiet, expected["rooms"][quiet][1])
    assert stored_state(workspace) == expected
    pushed = analytics(client, workspace)
    assert pushed == ingested_twin_analytics(client, fake)
    assert pushed["kpis"]["recordingDuration"] >= 1800
    calls = event_calls(fake)

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.created == 0
    assert event_calls(fake) == calls
    assert analytics(client, workspace) == pushed


def test_a_replayed_delivery_changes_nothing(client, connection, fake, workspace):
    fake.populate(5)
    contact = next(iter(fake.contacts))
    join = fake.join(contact, rooms_of(fake)[0])
    recording, started = fake.recording_start(rooms_of(fake)[0]["id"])
    completed = fake.recording_complete(recording, duration=600)
    for delivery in (join, started, completed):
        assert deliver(client, connection, delivery).status_code == 200
    body = json.loads(join[0])
    # The platform's retry of the same event, signed anew a second later.
    resigned = fake.webhook(
        "room.joined", body["data"], at=datetime.fromtimestamp(body["timestamp"] + 1, UTC)
    )

    again = deliver(client, connection, join)
    late = deliver(client, connection, started)
    retried = deliver(client, connection, resigned)

    assert again.json() == {"received": 0, "duplicates": 1}
    assert late.json() == {"received": 0, "duplicates": 1}
    assert retried.json() == {"received": 1, "duplicates": 0}
    assert ContactEvent.objects.for_workspace(workspace).count() == 1
    assert Contact.objects.for_workspace(workspace).count() == 1
    stored = Recording.objects.for_workspace(workspace).get()
    assert (stored.status, stored.duration_seconds) == ("available", 600)


def test_a_late_recording_started_does_not_undo_its_completion(client, connection, fake, workspace):
    fake.populate(1)
    recording, started = fake.recording_start(rooms_of(fake)[0]["id"])
    completed = fake.recording_complete(recording, duration=900)
    # The platform's retry of "started", signed anew after "completed" arrived.
    retry = fake.webhook(
        "recording.started",
        json.loads(started[0])["data"],
        at=datetime.now(UTC) + timedelta(seconds=1),
    )

    for delivery in (completed, retry):
        assert deliver(client, connection, delivery).status_code == 200

    stored = Recording.objects.for_workspace(workspace).get()
    assert (stored.status, stored.duration_seconds) == ("available", 900)


def tampered(fake, contact, room):
    body, headers = fake.join(contact, room)
    return body.replace(b'"room_join"', b'"booking"'), headers


def resigned_with(secret):
    def make(fake, contact, room):
        body, headers = fake.join(contact, room)
        return body, {**headers, "X-Webhook-Signature": sign(body, secret)}

    return make


def at_offset(seconds):
    def make(fake, contact, room):
        fake.add_event(contact, "room_join", room=room)
        event = fake.events[contact][-1]
        data = {**event, "contact": dict(fake.contacts[contact])}
        return fake.webhook("room.joined", data, at=datetime.now(UTC) + timedelta(seconds=seconds))

    return make


def without(header):
    def make(fake, contact, room):
        body, headers = fake.join(contact, room)
        return body, {k: v for k, v in headers.items() if k != header}

    return make


def header_timestamp_moved(fake, contact, room):
    """A captured delivery replayed later with a fresh (unsigned) timestamp header."""
    body, headers = at_offset(-3600)(fake, contact, room)
    return body, {**headers, "X-Webhook-Timestamp": str(int(datetime.now(UTC).timestamp()))}


@pytest.mark.parametrize(
    "forge",
    [
        tampered,
        resigned_with("whsec_someone_else"),
        at_offset(-6 * 60),  # stale
        at_offset(6 * 60),  # from a clock far ahead
        without("X-Webhook-Signature"),
        without("X-Webhook-Timestamp"),
        header_timestamp_moved,
    ],
    ids=[
        "tampered",
        "other-secret",
        "stale",
        "future",
        "no-signature",
        "no-timestamp",
        "timestamp-header-not-signed-one",
    ],
)
def test_a_delivery_not_signed_fresh_is_refused_and_stores_nothing(
    client, connection, fake, workspace, forge
):
    fake.populate(2)

    response = deliver(
        client, connection, forge(fake, next(iter(fake.contacts)), rooms_of(fake)[0])
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert nothing_stored(workspace)


def test_an_unknown_connection_answers_as_a_bad_signature(client, connection, fake, workspace):
    fake.populate(2)
    delivery = fake.join(next(iter(fake.contacts)), rooms_of(fake)[0])
    other = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=fake.url,
        api_key="k",
    )
    no_secret = connection_create(
        workspace=workspace,
        provider=Connection.Provider.VIDEO_PLATFORM,
        name="Nexus without secret",
        base_url=fake.url,
        credentials={"api_key": fake.api_key},
        options={"workspace_id": fake.workspace_id},
    )
    bad_signature = deliver(
        client,
        connection,
        without("X-Webhook-Signature")(fake, next(iter(fake.contacts)), rooms_of(fake)[0]),
    )

    answers = [
        deliver(client, connection, delivery, connection_id=connection_id)
        for connection_id in (other.pk, no_secret.pk, 999_999)
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.json() == bad_signature.json() for a in answers)
    assert nothing_stored(workspace)


def test_an_oversized_body_is_refused_with_413(client, connection, fake, workspace, settings):
    fake.populate(1)
    data = {"padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}

    response = deliver(client, connection, fake.webhook("room.created", data))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert nothing_stored(workspace)


def test_a_signed_body_that_is_not_json_is_refused_with_400(client, connection, fake, workspace):
    body = b'{"event": "room.joined", "timestamp": '
    timestamp = str(int(datetime.now(UTC).timestamp()))
    headers = {"X-Webhook-Signature": sign(body), "X-Webhook-Timestamp": timestamp}

    response = deliver(client, connection, (body, headers))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert nothing_stored(workspace)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event": "room.joined", "data": {}}, "timestamp"),
        ({"event": "room.joined", "data": []}, "data"),
        ({"data": {}}, "event"),
    ],
)
def test_a_signed_delivery_of_the_wrong_shape_is_refused_with_400(
    client, connection, workspace, payload, field
):
    timestamp = int(datetime.now(UTC).timestamp())
    payload = {"timestamp": timestamp, **payload} if field != "timestamp" else payload
    body = json.dumps(payload).encode()
    headers = {"X-Webhook-Signature": sign(body), "X-Webhook-Timestamp": str(timestamp)}

    response = deliver(client, connection, (body, headers))

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert nothing_stored(workspace)


def test_a_join_whose_data_cannot_be_stored_is_refused_and_stores_nothing(
    client, connection, fake, workspace
):
    fake.populate(1)
    body = json.loads(fake.join(next(iter(fake.contacts)), rooms_of(fake)[0])[0])
    del body["data"]["id"]  # without the event's id the next pull would store it again
    delivery = fake.webhook("room.joined", body["data"])

    response = deliver(client, connection, delivery)

    assert response.status_code == 400
    assert "id" in response.json()["error"]["message"]
    assert nothing_stored(workspace)


def test_other_methods_are_not_allowed(client, connection):
    assert client.get(f"/webhooks/video_platform/{connection.pk}").status_code == 405


def test_delivery_records_are_kept_only_while_a_replay_could_pass(
    client, connection, fake, workspace
):
    """A delivery's hash only has to outlive the window in which its signed timestamp is
    accepted (5 minutes either way); older records are dropped as new deliveries arrive, so
    the table does not grow with every join."""
    fake.populate(2)
    contact, room = next(iter(fake.contacts)), rooms_of(fake)[0]
    for minutes_ago in (30, 9):
        deliver(client, connection, fake.join(contact, room))
        WebhookDelivery.objects.filter(
            received_at__gt=timezone.now() - timedelta(minutes=1)
        ).update(received_at=timezone.now() - timedelta(minutes=minutes_ago))

    deliver(client, connection, fake.join(contact, room))

    ages = sorted(
        round((timezone.now() - row.received_at).total_seconds() / 60)
        for row in WebhookDelivery.objects.filter(connection=connection)
    )
    assert ages == [0, 9]
    assert ContactEvent.objects.for_workspace(workspace).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_creating_the_same_room_at_once_store_it_once(fake):
    """Two deliveries naming a room nobody stored yet (two workers; the same goes for a
    delivery and a pull) are held at the room insert by an open transaction holding its slug,
    so both have read that the room is new; both must still answer 200 with one room."""
    workspace = WorkspaceFactory()
    connection_ = connect(workspace, fake)
    fake.populate(1)
    room, created = fake.room_create("late-room-2222")
    deliveries = [created, fake.join(next(iter(fake.contacts)), room)]
    answers = {}

    def send(index: int) -> None:
        try:
            answers[index] = deliver(Client(), connection_, deliveries[index]).status_code
        except Exception as error:  # the test client re-raises a view's exception
            answers[index] = repr(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        Room.objects.create(workspace=workspace, title="Holder", slug="late-room-2222")
        threads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(2)  # both are waiting on the slug now
        transaction.set_rollback(True)
    for thread in threads:
        thread.join(timeout=30)

    assert answers == {0: 200, 1: 200}
    assert Room.objects.for_workspace(workspace).filter(slug="late-room-2222").count() == 1
    assert ContactEvent.objects.for_workspace(workspace).count() == 1


def test_a_non_ascii_signature_is_refused_like_a_bad_one(client, connection, fake, workspace):
    fake.populate(1)
    body, headers = fake.join(next(iter(fake.contacts)), rooms_of(fake)[0])

    response = deliver(client, connection, (body, {**headers, "X-Webhook-Signature": "é" * 64}))

    assert response.status_code == 401
    assert nothing_stored(workspace)


@pytest.mark.parametrize(
    "change",
    [
        lambda data: data["contact"].update(name="Ann\u0000"),
        lambda data: data.update(metadata=json.dumps({"note": "a\u0000b"})),
    ],
    ids=["name", "metadata"],
)
def test_a_signed_join_with_a_nul_character_is_refused_and_stores_nothing(
    client, connection, fake, workspace, change
):
    fake.populate(1)
    data = json.loads(fake.join(next(iter(fake.contacts)), rooms_of(fake)[0])[0])["data"]
    change(data)

    response = deliver(client, connection, fake.webhook("room.joined", data))

    assert response.status_code == 400
    assert "Null characters" in response.json()["error"]["message"]
    assert nothing_stored(workspace)


def test_a_signed_room_with_an_id_longer_than_64_characters_is_refused(
    client, connection, fake, workspace
):
    room = {"id": "r" * 65, "name": "long-id-room", "created_at": 1_700_000_000}

    response = deliver(client, connection, fake.webhook("room.created", room))

    assert response.status_code == 400
    assert "id" in response.json()["error"]["message"]
    assert nothing_stored(workspace)
