"""Rooms pushed to the rooms platform (Flowla API v2) through the outbox.

The services call these in the transaction of the change: a room created locally is created
upstream; a change of a room that is upstream (created through the outbox, or pulled) is sent
as a PATCH of the fields that changed. Templates are not pushed, nor is a room's content
(sections, pages, action items), its people or its activity. The handlers that deliver the
messages are in ``rooms.outbox_handlers``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from rooms.models import Room
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_enqueue
from syncing.selectors import connection_for_push

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
