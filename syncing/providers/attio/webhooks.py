"""Attio webhook deliveries: signature check and the deals they name.

Attio signs the raw body with HMAC-SHA256 keyed by the webhook's secret and sends the hex
digest in ``Attio-Signature`` (duplicated as ``X-Attio-Signature`` for older middleware). The
secret is the connection's ``credentials["webhook_secret"]``. A delivery is
``{"webhook_id", "events": [{"event_type", "id": {"workspace_id", "object_id", "record_id",
...}, "actor"}]}``; only ``record.created``, ``record.updated`` and ``record.deleted`` name
deals (a record of another object, when the webhook is not filtered to deals, is looked up,
found missing and dropped by the deals stream).

Attio sends no timestamp, so there is no staleness check (a replayed delivery only makes us
read a deal again). Two edits of the same attribute by the same person arrive as
byte-identical bodies, so the body cannot tell a new message from a redelivery; the
``Idempotency-Key`` header can: Attio's webhook guide says it differs for each message and stays
the same across retries and redeliveries. An event's id is therefore the key and the event's
hash. Only when the header is absent (a proxy that drops it) is the id the event's hash and
the minute it arrived: a redelivery within that minute is ignored, a later one costs one read
of the deal, and a second identical edit within the minute waits for the hourly reconciliation.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest
from django.utils import timezone

from syncing.crm.types import WebhookNotice, WebhookRejected
from syncing.models import Connection

SIGNATURE_HEADERS = ("Attio-Signature", "X-Attio-Signature")
DEAL_EVENTS = frozenset({"record.created", "record.updated", "record.deleted"})


def verify(connection: Connection, request: HttpRequest) -> WebhookNotice:
    """The delivery's event ids and deal ids, or WebhookRejected when it is not signed with
    the connection's secret."""
    secret = connection.credentials.get("webhook_secret", "")
    if not secret:
        raise WebhookRejected("The connection has no Attio webhook secret.")
    signature = next((request.headers[h] for h in SIGNATURE_HEADERS if h in request.headers), "")
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    # Bytes: compare_digest refuses a str with non-ASCII characters (a header is hostile input).
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise WebhookRejected("Missing or invalid Attio-Signature.")
    return _notice(request.body, request.headers.get("Idempotency-Key", "").strip())


def _notice(body: bytes, idempotency_key: str) -> WebhookNotice:
    """Authentic but of a shape we do not know: acknowledged, nothing to do."""
    try:
        payload = json.loads(body)
    except ValueError:
        return WebhookNotice(event_ids=(), deal_ids=())
    events = payload.get("events") if isinstance(payload, dict) else None
    events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    # The key is not signed (only the body is), so a forged one can only make us read a
    # deal again; it is hashed with the event, so its length does not matter.
    message = (
        f"key:{idempotency_key}" if idempotency_key else timezone.now().strftime("%Y-%m-%dT%H:%M")
    )
    deal_ids = []
    for event in events:
        ids = event.get("id")
        record_id = ids.get("record_id") if isinstance(ids, dict) else None
        if event.get("event_type") in DEAL_EVENTS and isinstance(record_id, str) and record_id:
            deal_ids.append(record_id)
    return WebhookNotice(
        event_ids=tuple(_event_id(event, message) for event in events),
        deal_ids=tuple(dict.fromkeys(deal_ids)),
    )


def _event_id(event: dict, message: str) -> str:
    """``message`` names the delivery: its Idempotency-Key, else the minute it arrived."""
    canonical = json.dumps([message, event], sort_keys=True, separators=(",", ":"))
    return f"attio:{hashlib.sha256(canonical.encode()).hexdigest()}"
