"""The video-rooms platform's webhook deliveries: checked, then stored as the pull stores the
same records (``store.VideoStore``), so a delivery and the next pull meet on the same rows.

Signature. The platform signs the raw body (``{event, timestamp, data}``) with HMAC-SHA256
keyed by the webhook's ``whsec_…`` secret, hex in ``X-Webhook-Signature``; the secret is the
connection's ``credentials["webhook_secret"]``. ``X-Webhook-Timestamp`` is not signed, so a
captured delivery could be replayed under a fresh header: freshness is judged on the header,
which must name the same second as the body's signed ``timestamp``, and both must lie within
``MAX_AGE`` of our clock. Timestamps are Unix seconds or ISO 8601.

Replays inside the window: the body's hash is recorded in ``WebhookDelivery`` in the same
transaction as the writes (and dropped after ``KEEP``, when the window has closed on it), so
the same delivery twice stores once; a retry signed anew (a new
body) carries the same upstream ids, which the writes key on, and a recording's status only
moves forward in its lifecycle.

What each event stores (``data`` as the platform's lists give the record):
``room.created`` a room; ``room.joined`` / ``room.left`` the contact event the platform
records (``room_join`` / ``room_leave`` unless ``data.event_type`` says), with the contact in
``data.contact``; ``recording.started`` / ``recording.completed`` the recording (status
``started`` / ``available`` and duration 0 unless ``data`` says). ``member.joined`` /
``member.left`` concern the workspace's team, which the analytics do not count: acknowledged,
nothing stored; so is an event this list does not know.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from config.errors import InvalidInput
from insights.services import workspace_activity_ingest
from syncing.crm.types import WebhookRejected
from syncing.crm.webhooks import webhook_events_new
from syncing.errors import RecordError
from syncing.models import Connection, WebhookDelivery
from syncing.providers.video_platform import schemas
from syncing.providers.video_platform.store import VideoStore, limits_problem, problem_text

DELIVERY_PREFIX = "video:"
SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
# Deliveries signed longer ago (or, with a skewed clock, further ahead) are replays: long
# enough for a slow queue upstream, short enough that a captured delivery soon stops working.
MAX_AGE = timedelta(minutes=5)
# How long a delivery's hash is kept: past MAX_AGE after its signed time (which may itself be
# MAX_AGE ahead of our clock) the delivery is refused anyway, so it need not be remembered.
KEEP = 2 * MAX_AGE + timedelta(minutes=5)
PRESENCE_TYPES = {"room.joined": "room_join", "room.left": "room_leave"}
RECORDING_STATUSES = {"recording.started": "started", "recording.completed": "available"}


@dataclass(frozen=True)
class Delivery:
    id: str  # the body's hash: the same delivery twice is one
    event: str
    data: dict


@dataclass(frozen=True)
class Receipt:
    received: int
    duplicates: int


def verify(connection: Connection | None, body: bytes, headers: Mapping[str, str]) -> Delivery:
    """The delivery, once signed with the connection's secret and fresh; WebhookRejected when
    not (also for no connection, or one not set up for webhooks), InvalidInput when the signed
    body is not ``{event, timestamp, data}``."""
    secret = connection.credentials.get("webhook_secret", "") if connection else ""
    if not secret or not connection.options.get("workspace_id"):
        raise WebhookRejected("No such connection, or it has no webhook secret or workspace_id.")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = headers.get(SIGNATURE_HEADER, "").strip().lower()
    # Bytes: compare_digest refuses a str with non-ASCII characters (a header is hostile input).
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected(f"Missing or invalid {SIGNATURE_HEADER}.")
    sent = _unix(headers.get(TIMESTAMP_HEADER, ""))
    if sent is None or abs(time.time() - sent) > MAX_AGE.total_seconds():
        raise WebhookRejected(f"Missing, stale or invalid {TIMESTAMP_HEADER}.")
    payload = _payload(body)
    if _unix(payload["timestamp"]) != sent:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} is not the signed timestamp.")
    return Delivery(
        id=DELIVERY_PREFIX + hashlib.sha256(body).hexdigest(),
        event=payload["event"],
        data=payload["data"],
    )


def _unix(value: object) -> int | None:
    """Unix seconds of a timestamp in Unix seconds (a number or digits) or ISO 8601 with a
    zone; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo else None


def _payload(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The body is not a JSON object {event, timestamp, data}.")
    problem = limits_problem(payload)
    if problem:
        raise InvalidInput(problem_text(problem), fields={problem[0] or "body": [problem[1]]})
    fields = {}
    if not isinstance(payload.get("event"), str) or not payload["event"]:
        fields["event"] = ["The event's name is required."]
    if _unix(payload.get("timestamp")) is None:
        fields["timestamp"] = ["Unix seconds or ISO 8601 with a zone is required."]
    if not isinstance(payload.get("data"), dict):
        fields["data"] = ["An object is required."]
    if fields:
        name = next(iter(fields))
        raise InvalidInput(f"{name}: {fields[name][0]}", fields=fields)
    return payload


def delivery_store(*, connection: Connection, delivery: Delivery) -> Receipt:
    """Store what the delivery says, unless it was stored before. Raises InvalidInput (and
    stores nothing) when its data cannot be stored."""
    store = VideoStore(
        connection, upstream_workspace=str(connection.options["workspace_id"]), failed=_refuse
    )
    with transaction.atomic():
        if not webhook_events_new(connection, (delivery.id,)):
            return Receipt(received=0, duplicates=1)
        WebhookDelivery.objects.filter(
            connection=connection,
            event_id__startswith=DELIVERY_PREFIX,
            received_at__lt=timezone.now() - KEEP,
        ).delete()
        handler = HANDLERS.get(delivery.event)
        if handler is not None:
            handler(store, delivery)
    return Receipt(received=1, duplicates=0)


def _refuse(error: RecordError) -> None:
    raise InvalidInput(f"data: {error.message}", fields={"data": [error.message]})


def _room_created(store: VideoStore, delivery: Delivery) -> None:
    store.rooms_write(store.valid(schemas.Room, [delivery.data]))


def _presence(store: VideoStore, delivery: Delivery) -> None:
    data = {"event_type": PRESENCE_TYPES[delivery.event], **delivery.data}
    [event] = store.valid(schemas.Presence, [data])
    contact = event.pop("contact")
    contact.update(id=str(contact["id"]), created_at=contact["created_at"] or event["created_at"])
    store.contacts_write([contact])
    items = store.event_items([contact], {contact["email"]: [event]})
    workspace_activity_ingest(workspace=store.workspace, items=list(items.values()))


def _recording(store: VideoStore, delivery: Delivery) -> None:
    data = {"status": RECORDING_STATUSES[delivery.event], "duration": 0, **delivery.data}
    store.recordings_write(store.valid(schemas.Recording, [data]), forward_only=True)


HANDLERS: dict[str, Callable[[VideoStore, Delivery], None]] = {
    "room.created": _room_created,
    "room.joined": _presence,
    "room.left": _presence,
    "recording.started": _recording,
    "recording.completed": _recording,
}
