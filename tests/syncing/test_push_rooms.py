"""Rooms created or changed locally (API and admin) are pushed to the fake rooms platform
through the outbox with the real handlers (syncing.providers.rooms_platform.push)."""

from __future__ import annotations

import pytest
from django.db import transaction

from rooms.models import Room
from rooms.services import room_create
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_handler_get, outbox_handler_register, outbox_message_deliver
from syncing.providers.rooms_platform.push import CREATE, UPDATE
from syncing.services import connection_create
from tests.concurrency import insert_committed_while_waited_for
from tests.conftest import wait_until
from tests.rooms.factories import (
    LabelFactory,
    RoomFactory,
    RoomStatusFactory,
    VisitFactory,
    room_admin_form,
)
from tests.syncing.test_outbox import deliver_until_settled

pytestmark = pytest.mark.django_db
ROOMS = "/api/v2/rooms"
ADMIN_ROOMS = "/admin/rooms/room/"


def connect(workspace, fake, **fields) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name=fields.pop("name", "Flowla"),
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
        **fields,
    )


@pytest.fixture
def pushed(cast, rooms_fake) -> Connection:
    """Workspace A pushes its rooms to the fake platform."""
    return connect(cast.workspace, rooms_fake)


@pytest.fixture
def staff_client(client, cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


def messages(kind: str | None = None) -> list[OutboxMessage]:
    queryset = OutboxMessage.objects.order_by("pk")
    return list(queryset.filter(kind=kind) if kind else queryset)


def upstream_room(fake, room: Room) -> dict:
    room.refresh_from_db()
    assert room.upstream_id, "the room has no upstream id"
    return fake.rooms[room.upstream_id]


# --- enqueueing ---------------------------------------------------------------------------------


def test_an_api_create_writes_one_message(cast, pushed, django_capture_on_commit_callbacks):
    body = {"title": "Q3 renewal", "coverTitle": "Welcome", "hsDealId": "981", "navColor": None}

    with django_capture_on_commit_callbacks() as callbacks:
        response = cast.owner.client().post(ROOMS, body, format="json")

    assert response.status_code == 201
    (message,) = messages()
    assert (message.kind, message.object_id) == (CREATE, response.json()["id"])
    assert message.connection == pushed
    assert message.status == OutboxMessage.Status.PENDING
    assert message.payload["title"] == "Q3 renewal"
    assert message.payload["coverTitle"] == "Welcome"
    assert message.payload["hsDealId"] == "981"
    assert message.payload["navColor"] is None
    assert len(callbacks) == 1, "delivery is sent once, after commit"


def test_without_an_enabled_connection_nothing_is_written(cast, rooms_fake):
    connect(cast.workspace, rooms_fake, enabled=False)
    connect(cast.other_workspace, rooms_fake, name="Globex's")

    response = cast.owner.client().post(ROOMS, {"title": "Local only"}, format="json")

    assert response.status_code == 201
    assert messages() == []


@pytest.fixture
def create_handler_missing():
    """A deployment whose rooms handlers failed to load: enqueueing raises."""
    from syncing.outbox import outbox_handler_unregister

    handler = outbox_handler_get(CREATE)
    outbox_handler_unregister(CREATE)
    yield
    outbox_handler_register(handler)


@pytest.mark.usefixtures("create_handler_missing")
def test_a_failing_create_stores_neither_room_nor_message(cast, pushed):
    response = cast.owner.client().post(ROOMS, {"title": "Doomed"}, format="json")

    assert response.status_code == 500
    assert not Room.objects.filter(title="Doomed").exists()
    assert messages() == []


def test_invalid_input_stores_neither(cast, pushed):
    response = cast.owner.client().post(ROOMS, {"title": "", "themeColor": "red"}, format="json")

    assert response.status_code == 400
    assert not Room.objects.exists()
    assert messages() == []


def test_an_admin_create_writes_one_message(staff_client, cast, pushed):
    data = room_admin_form(cast.workspace.pk, title="From the admin", cover_title="Hello")

    response = staff_client.post(f"{ADMIN_ROOMS}add/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    room = Room.objects.get(title="From the admin")
    (message,) = messages()
    assert (message.kind, message.object_id) == (CREATE, str(room.pk))
    assert message.payload["coverTitle"] == "Hello"


def test_an_admin_edit_pushes_only_what_changed(staff_client, cast, pushed, rooms_fake):
    room = room_create(workspace=cast.workspace, title="Edited", cover_title="Before")
    deliver_until_settled()
    data = room_admin_form(cast.workspace.pk, title="Edited", cover_title="After")

    response = staff_client.post(f"{ADMIN_ROOMS}{room.pk}/change/", data)

    assert response.status_code == 302
    (update,) = messages(UPDATE)
    assert update.payload == {"coverTitle": "After"}
    deliver_until_settled()
    assert upstream_room(rooms_fake, room)["coverTitle"] == "After"

    # Saving again without a change sends nothing.
    staff_client.post(f"{ADMIN_ROOMS}{room.pk}/change/", data)
    assert len(messages(UPDATE)) == 1


def test_templates_are_not_pushed(staff_client, cast, pushed):
    data = room_admin_form(cast.workspace.pk, title="Template", is_template="on")

    assert staff_client.post(f"{ADMIN_ROOMS}add/", data).status_code == 302

    assert Room.objects.get(title="Template").is_template
    assert messages() == []


def test_duplicates_and_rooms_from_templates_are_pushed(cast, pushed):
    template = RoomFactory(workspace=cast.workspace, title="Playbook", is_template=True)
    source = RoomFactory(workspace=cast.workspace, title="Source")
    client = cast.owner.client()

    from_template = client.post(ROOMS, {"title": "A", "templateId": str(template.pk)}, "json")
    duplicate = client.post(ROOMS, {"title": "B", "duplicateFromId": str(source.pk)}, "json")

    assert (from_template.status_code, duplicate.status_code) == (201, 201)
    assert [(m.kind, m.object_id) for m in messages()] == [
        (CREATE, from_template.json()["id"]),
        (CREATE, duplicate.json()["id"]),
    ]


def test_the_admin_room_actions_are_pushed(staff_client, cast, pushed):
    template = RoomFactory(workspace=cast.workspace, title="Playbook", is_template=True)
    room = RoomFactory(workspace=cast.workspace, title="Source")

    for action, selected in (("duplicate_rooms", room), ("create_from_templates", template)):
        data = {"action": action, "_selected_action": [selected.pk]}
        assert staff_client.post(ADMIN_ROOMS, data).status_code == 302

    copies = Room.objects.exclude(pk__in=[template.pk, room.pk]).order_by("title")
    assert [copy.title for copy in copies] == ["Copy of Source", "Playbook"]
    assert sorted((m.kind, m.object_id) for m in messages()) == sorted(
        (CREATE, str(copy.pk)) for copy in copies
    )


def test_related_rows_are_sent_by_their_upstream_ids(cast, pushed, rooms_fake):
    status = RoomStatusFactory(workspace=cast.workspace, upstream_id="st-won")
    local_label = LabelFactory(workspace=cast.workspace)
    body = {"title": "Linked", "statusId": str(status.pk), "labelId": str(local_label.pk)}

    response = cast.owner.client().post(ROOMS, body, format="json")
    deliver_until_settled()

    (message,) = messages()
    assert message.payload["statusId"] == "st-won"
    assert "labelId" not in message.payload, "a label known only locally has no upstream id"
    assert message.payload["companyId"] is None
    room = Room.objects.get(pk=response.json()["id"])
    assert upstream_room(rooms_fake, room)["statusId"] == "st-won"


# --- delivery -----------------------------------------------------------------------------------


def test_delivery_creates_the_room_upstream_and_keeps_its_id(cast, pushed, rooms_fake):
    response = cast.owner.client().post(
        ROOMS, {"title": "Q3 renewal", "themeColor": "#FF5500"}, format="json"
    )
    (message,) = messages()

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT

    (created,) = rooms_fake.rooms.values()
    assert (created["title"], created["themeColor"]) == ("Q3 renewal", "#FF5500")
    room = Room.objects.get(pk=response.json()["id"])
    assert room.upstream_id == created["id"]
    message.refresh_from_db()
    assert message.upstream_id == created["id"]


def test_a_patch_is_delivered_after_the_create_in_order(cast, pushed, rooms_fake):
    client = cast.owner.client()
    room_id = client.post(ROOMS, {"title": "Draft"}, format="json").json()["id"]
    client.patch(f"{ROOMS}/{room_id}", {"title": "Final", "coverTitle": "Hi"}, format="json")
    _create, update = messages()

    # The update may not overtake the create.
    assert outbox_message_deliver(message_id=update.pk) is None
    deliver_until_settled()

    assert [(m.kind, m.status) for m in messages()] == [(CREATE, "sent"), (UPDATE, "sent")]
    assert update.payload == {"title": "Final", "coverTitle": "Hi"}
    (upstream,) = rooms_fake.rooms.values()
    assert (upstream["title"], upstream["coverTitle"]) == ("Final", "Hi")
    writes = [(m, p) for m, p in rooms_fake.requests if m in ("POST", "PATCH")]
    assert writes == [("POST", ROOMS), ("PATCH", f"{ROOMS}/{upstream['id']}")]


def test_a_pulled_room_is_patched_directly(cast, pushed, rooms_fake):
    upstream = rooms_fake.add_room(title="Pulled")
    room = RoomFactory(workspace=cast.workspace, title="Pulled", upstream_id=upstream["id"])

    response = cast.owner.client().patch(
        f"{ROOMS}/{room.pk}", {"description": "Notes"}, format="json"
    )
    deliver_until_settled()

    assert response.status_code == 200
    (update,) = messages()
    assert (update.kind, update.status) == (UPDATE, "sent")
    assert rooms_fake.rooms[upstream["id"]]["description"] == "Notes"
    assert rooms_fake.count("POST") == 0


def test_a_room_that_never_went_upstream_is_not_patched(cast, pushed):
    room = RoomFactory(workspace=cast.workspace, title="Made before the connection")

    response = cast.owner.client().patch(f"{ROOMS}/{room.pk}", {"title": "Still local"}, "json")

    assert response.status_code == 200
    assert messages() == []


def test_an_update_behind_a_failed_create_fails_with_a_reason(cast, pushed, rooms_fake):
    client = cast.owner.client()
    room_id = client.post(ROOMS, {"title": "Doomed"}, format="json").json()["id"]
    client.patch(f"{ROOMS}/{room_id}", {"title": "Later"}, format="json")
    create, update = messages()
    OutboxMessage.objects.filter(pk=create.pk).update(status=OutboxMessage.Status.FAILED)

    assert outbox_message_deliver(message_id=update.pk) == OutboxMessage.Status.FAILED

    update.refresh_from_db()
    assert "retry its failed create first" in update.last_error
    assert rooms_fake.count("PATCH") == 0


# --- retried creates ----------------------------------------------------------------------------


def test_a_lost_create_adopts_the_room_a_pull_already_stored(cast, pushed, rooms_fake):
    room = room_create(workspace=cast.workspace, title="Raced")
    (message,) = messages()
    rooms_fake.inject("lost", method="POST")
    assert outbox_message_deliver(message_id=message.pk) == "pending"
    (upstream,) = rooms_fake.rooms.values()
    # The pull stream ran meanwhile and stored the new upstream room as a room of its own.
    twin = RoomFactory(workspace=cast.workspace, title="Raced", upstream_id=upstream["id"])

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    assert len(rooms_fake.rooms) == 1
    room.refresh_from_db()
    assert room.upstream_id == upstream["id"]
    assert not Room.objects.filter(pk=twin.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_twin_a_pull_commits_while_the_id_is_stored_is_released(cast, pushed, rooms_fake):
    room = room_create(workspace=cast.workspace, title="Raced")
    (message,) = messages()
    rooms_fake.inject("lost", method="POST")
    assert outbox_message_deliver(message_id=message.pk) == "pending"
    (upstream,) = rooms_fake.rooms.values()

    def pull_stores_the_twin():
        RoomFactory(workspace=cast.workspace, title="Raced", upstream_id=upstream["id"])

    with insert_committed_while_waited_for(pull_stores_the_twin):
        assert outbox_message_deliver(message_id=message.pk) == "sent"

    room.refresh_from_db()
    assert room.upstream_id == upstream["id"]
    assert list(Room.objects.filter(workspace=cast.workspace)) == [room]


def test_a_pulled_twin_with_local_activity_is_kept_without_the_upstream_id(
    cast, pushed, rooms_fake
):
    room = room_create(workspace=cast.workspace, title="Raced")
    (message,) = messages()
    rooms_fake.inject("lost", method="POST")
    outbox_message_deliver(message_id=message.pk)
    (upstream,) = rooms_fake.rooms.values()
    twin = RoomFactory(workspace=cast.workspace, title="Raced", upstream_id=upstream["id"])
    VisitFactory(room=twin, client_id="evt-1")

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    twin.refresh_from_db()
    room.refresh_from_db()
    assert (twin.upstream_id, twin.archived) == ("", True)
    assert twin.visits.count() == 1
    assert room.upstream_id == upstream["id"]


def test_a_retried_create_never_adopts_a_room_another_create_made(cast, pushed, rooms_fake):
    with transaction.atomic():
        first = room_create(workspace=cast.workspace, title="Same title")
        second = room_create(workspace=cast.workspace, title="Same title")
    first_message, second_message = messages()
    assert outbox_message_deliver(message_id=first_message.pk) == "sent"
    rooms_fake.inject("503", method="POST")  # the second create never reached the platform
    assert outbox_message_deliver(message_id=second_message.pk) == "pending"

    assert outbox_message_deliver(message_id=second_message.pk) == "sent"

    first.refresh_from_db()
    second.refresh_from_db()
    assert len(rooms_fake.rooms) == 2
    assert {first.upstream_id, second.upstream_id} == set(rooms_fake.rooms)


def test_a_retried_create_ignores_rooms_older_than_the_message(cast, pushed, rooms_fake):
    from datetime import UTC, datetime, timedelta

    rooms_fake.add_room(title="Same title", at=datetime.now(UTC) - timedelta(hours=2))
    room_create(workspace=cast.workspace, title="Same title")
    (message,) = messages()
    rooms_fake.inject("503", method="POST")
    outbox_message_deliver(message_id=message.pk)

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    assert len(rooms_fake.rooms) == 2
    assert rooms_fake.count("POST") == 2


def test_200_creations_through_faults_make_exactly_200_rooms(rooms_connection, rooms_fake):
    workspace = rooms_connection.workspace
    with transaction.atomic():
        rooms = [room_create(workspace=workspace, title=f"Room {i}") for i in range(200)]
    rooms_fake.fault_rate = 0.2
    rooms_fake.fault_kinds = ("503", "lost", "lost", "429", "500")
    rooms_fake.retry_after = 0

    deliver_until_settled()

    assert rooms_fake.faults_served.count("lost") >= 10, "the fault mix did not happen"
    assert {m.status for m in messages()} == {OutboxMessage.Status.SENT}
    assert any(m.attempts > 1 for m in messages())
    assert len(rooms_fake.rooms) == 200
    upstream_by_title = {room["title"]: room["id"] for room in rooms_fake.rooms.values()}
    local_by_title = dict(
        Room.objects.filter(pk__in=[room.pk for room in rooms]).values_list("title", "upstream_id")
    )
    assert local_by_title == upstream_by_title
    assert Room.objects.filter(workspace=workspace).count() == 200


# --- a real worker ------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_a_room_created_through_the_api(
    celery_worker_process, cast, pushed, rooms_fake
):
    response = cast.owner.client().post(ROOMS, {"title": "Worker-made"}, format="json")
    assert response.status_code == 201
    room = Room.objects.get(pk=response.json()["id"])

    # Nothing but the task sent on commit and the worker process delivers it.
    wait_until(lambda: Room.objects.filter(pk=room.pk).exclude(upstream_id="").exists(), timeout=90)

    assert celery_worker_process.poll() is None, "the worker died"
    (upstream,) = rooms_fake.rooms.values()
    room.refresh_from_db()
    assert (upstream["title"], upstream["id"]) == ("Worker-made", room.upstream_id)
    (message,) = messages()
    assert (message.status, message.attempts) == (OutboxMessage.Status.SENT, 1)
