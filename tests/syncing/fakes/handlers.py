"""Outbox handlers used only by the tests: create and update rooms on the fake platform.

A created room carries ``flowsync:<idempotency key>`` in its description, the reference a
retried create looks for before creating again.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.dateparse import parse_datetime

from syncing.models import OutboxMessage
from syncing.outbox import outbox_handler_register, outbox_handler_unregister

CREATE = "test.room_create"
UPDATE = "test.room_update"
# Upstream clocks and ours differ a little; older rooms cannot be ours.
CLOCK_SKEW = timedelta(minutes=5)


def reference(message: OutboxMessage) -> str:
    return f"flowsync:{message.idempotency_key}"


class RoomCreate:
    kind = CREATE

    def deliver(self, message, client) -> str:
        return client.room_create({**message.payload, "description": reference(message)})["id"]

    def find_existing(self, message, client) -> str | None:
        oldest = message.created_at - CLOCK_SKEW
        for page in client.room_pages(sort_by="createdAt", direction="DESC"):
            for room in page:
                if room.get("description") == reference(message):
                    return room["id"]
                if parse_datetime(room["createdAt"]) < oldest:
                    return None
        return None

    def on_delivered(self, message) -> None:
        pass


class RoomUpdate:
    kind = UPDATE

    def deliver(self, message, client) -> str:
        created = OutboxMessage.objects.get(
            connection_id=message.connection_id,
            object_key=message.object_key,
            kind=CREATE,
            status=OutboxMessage.Status.SENT,
        )
        return client.room_update(created.upstream_id, message.payload)["id"]

    def find_existing(self, message, client) -> None:
        return None

    def on_delivered(self, message) -> None:
        pass


HANDLERS = (RoomCreate(), RoomUpdate())


def register() -> None:
    for handler in HANDLERS:
        outbox_handler_register(handler)


def unregister() -> None:
    for handler in HANDLERS:
        outbox_handler_unregister(handler.kind)
