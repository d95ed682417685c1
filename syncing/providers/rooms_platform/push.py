"""Rooms pushed to the rooms platform (Flowla API v2) through the outbox, and the outbox
handlers that deliver them.

The services call these in the transaction of the change: a room created locally is created
upstream; a change of a room that is upstream (created through the outbox, or pulled) is sent
as a PATCH of the fields that changed. Templates are not pushed, nor is a room's content
(sections, pages, action items), its people or its activity.

Finding a create that may have reached the platform: the platform has no field for an
external id or reference, and every field a room has is shown to its users, so flowsync puts
no marker in it. A retried create instead looks for a room that (1) was created upstream no
earlier than the message (less a clock skew), (2) has every value the create sent (fields the
list record leaves out are not compared; null and empty are equal), and (3) no other create
message of this connection has already claimed. Identical bodies sent
around the same time are interchangeable, so adopting either is correct; the room's unique
upstream id settles the one race left (two identical creates adopting the same room at the
same instant): the second one's local store fails, the outbox puts the message back to pending
as a transient failure, and its next look-up skips the room the first one claimed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType

from rooms.models import Engagement, Room, Visit
from syncing.adoption import upstream_id_claim
from syncing.errors import PermanentError, RecordError
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_enqueue, outbox_handler_register
from syncing.providers.rooms_platform import schemas
from syncing.selectors import connection_for_push
from syncing.validation import validate_records

CREATE = "rooms.room_create"
UPDATE = "rooms.room_update"

# Local field -> upstream body field, for the plain values.
PLAIN_FIELDS = {
    "title": "title",
    "description": "description",
    "hs_deal_id": "hsDealId",
    "sf_opportunity_id": "sfOpportunityId",
    "attio_deal_id": "attioDealId",
    "cover_title": "coverTitle",
    "cover_description": "coverDescription",
    "cover_disabled": "coverDisabled",
    "theme_color": "themeColor",
    "nav_color": "navColor",
}
# Local relation -> upstream body field; sent only when the related row is upstream.
RELATED_FIELDS = {"status": "statusId", "label": "labelId", "company": "companyId"}


def room_upstream_body(room: Room) -> dict[str, Any]:
    """The room as the platform's create/PATCH body. Empty local text is sent as null (the
    platform's "unset"). A status, label or company that exists only locally has no upstream
    id to send: the field is left out (and so left alone upstream)."""
    body: dict[str, Any] = {
        upstream: getattr(room, local) if getattr(room, local) != "" else None
        for local, upstream in PLAIN_FIELDS.items()
    }
    body["title"] = room.title
    for local, upstream in RELATED_FIELDS.items():
        related = getattr(room, local)
        if related is None:
            body[upstream] = None
        elif related.upstream_id:
            body[upstream] = related.upstream_id
    return body


def room_create_enqueued(room_id) -> bool:
    """Whether the room was created locally and pushed (its create message, in any state)."""
    return OutboxMessage.objects.filter(
        content_type=ContentType.objects.get_for_model(Room), object_id=str(room_id), kind=CREATE
    ).exists()


def _connection(room: Room) -> Connection | None:
    if room.is_template:
        return None
    return connection_for_push(
        workspace=room.workspace_id, provider=Connection.Provider.ROOMS_PLATFORM
    )


def room_push_create(*, room: Room) -> OutboxMessage | None:
    """Enqueue the upstream creation of a room just created locally (not a template)."""
    connection = _connection(room)
    if connection is None:
        return None
    return outbox_enqueue(
        connection=connection, kind=CREATE, payload=room_upstream_body(room), target=room
    )


def room_push_snapshot(room: Room) -> dict[str, Any] | None:
    """Taken before a change: the room's upstream body when its changes are pushed (not a
    template; a rooms-platform connection), else None."""
    return room_upstream_body(room) if _connection(room) is not None else None


def room_push_update(*, room: Room, before: dict[str, Any] | None) -> OutboxMessage | None:
    """Enqueue a PATCH of the upstream fields that differ from ``before`` (the snapshot taken
    before the change). Only for a room that is upstream or on its way there; the PATCH then
    waits behind the create (same object, so delivered in order)."""
    connection = _connection(room) if before is not None else None
    if connection is None:
        return None
    after = room_upstream_body(room)
    changes = {key: value for key, value in after.items() if before.get(key, ...) != value}
    if not changes or not (room.upstream_id or room_create_enqueued(room.pk)):
        return None
    return outbox_enqueue(connection=connection, kind=UPDATE, payload=changes, target=room)


# Upstream clocks and ours differ a little; rooms created earlier than this cannot be ours.
CLOCK_SKEW = timedelta(minutes=5)


def _same(sent, found) -> bool:
    # The platform answers null for what was sent empty (and false may come back as null).
    return (sent or None) == (found or None)


def _matches(body: dict, room: dict) -> bool:
    """Every value sent that the record shows (a list record may leave fields out)."""
    return all(_same(value, room[key]) for key, value in body.items() if key in room)


def _claimed(connection_id: int, upstream_ids: list[str], message: OutboxMessage) -> set[str]:
    return set(
        OutboxMessage.objects.filter(
            connection_id=connection_id, kind=CREATE, upstream_id__in=upstream_ids
        )
        .exclude(pk=message.pk)
        .values_list("upstream_id", flat=True)
    )


def _has_local_data(room_id) -> bool:
    """Anything recorded on a room that a pull would not bring back: outbox messages about
    it, or activity ingested through flowsync's API (which carries the sender's event id)."""
    content_type = ContentType.objects.get_for_model(Room)
    return (
        OutboxMessage.objects.filter(content_type=content_type, object_id=str(room_id)).exists()
        or Visit.objects.filter(room_id=room_id, client_id__isnull=False).exists()
        or Engagement.objects.filter(room_id=room_id, client_id__isnull=False).exists()
    )


def _release_pulled_twin(room_id, workspace_id: int, upstream_id: str) -> None:
    """A pull that ran between the upstream create and now stored the new upstream room as a
    second local room (a twin). The room that was created locally takes the upstream id: the
    twin is deleted (the next pull brings its upstream content to the adopting room), or,
    when something local was recorded on it, kept archived without the upstream id.
    A room that has a create message of its own is no twin and keeps its id: the unique
    upstream id then refuses the adoption."""
    twin = (
        Room.objects.filter(workspace_id=workspace_id, upstream_id=upstream_id)
        .exclude(pk=room_id)
        .first()
    )
    if twin is None or room_create_enqueued(twin.pk):
        return
    if _has_local_data(twin.pk):
        Room.objects.filter(pk=twin.pk).update(upstream_id="", archived=True)
    else:
        twin.delete()


class RoomCreate:
    kind = CREATE

    def deliver(self, message: OutboxMessage, client) -> str:
        return client.room_create(message.payload)["id"]

    def find_existing(self, message: OutboxMessage, client) -> str | None:
        oldest = message.created_at - CLOCK_SKEW
        for page in client.room_pages(sort_by="createdAt", direction="DESC"):
            rooms = [
                room
                for room in validate_records(schemas.Room, page)
                if not isinstance(room, RecordError)
            ]
            recent = [room for room in rooms if room["createdAt"] >= oldest]
            candidates = [room["id"] for room in recent if _matches(message.payload, room)]
            claimed = _claimed(message.connection_id, candidates, message)
            unclaimed = [room_id for room_id in candidates if room_id not in claimed]
            if unclaimed:
                return unclaimed[0]
            if len(recent) < len(rooms):
                return None  # the rest are older still
        return None

    def on_delivered(self, message: OutboxMessage) -> None:
        upstream_id_claim(
            target=Room.objects.filter(pk=message.object_id),
            upstream_id=message.upstream_id,
            release_twin=lambda: _release_pulled_twin(
                message.object_id, message.workspace_id, message.upstream_id
            ),
        )


class RoomUpdate:
    """A PATCH of the fields that changed. It waits behind the room's create (same object);
    a pulled room has its upstream id already and is patched at once."""

    kind = UPDATE

    def deliver(self, message: OutboxMessage, client) -> str:
        upstream_id = (
            Room.objects.filter(pk=message.object_id).values_list("upstream_id", flat=True).first()
        )
        if upstream_id is None:
            raise PermanentError("The room no longer exists locally; nothing to update.")
        if not upstream_id:
            raise PermanentError(
                "The room is not on the rooms platform yet: retry its failed create first."
            )
        return client.room_update(upstream_id, message.payload)["id"]

    def find_existing(self, message: OutboxMessage, client) -> None:
        return None  # a PATCH is safe to repeat

    def on_delivered(self, message: OutboxMessage) -> None:
        pass  # the room already holds its upstream id


outbox_handler_register(RoomCreate())
outbox_handler_register(RoomUpdate())
