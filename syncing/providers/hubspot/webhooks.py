"""HubSpot webhook deliveries: signature v3 check and the deals they name.

HubSpot signs ``method + URI + body + timestamp`` with the app's client secret (HMAC-SHA256,
base64) in ``X-HubSpot-Signature-v3``, the timestamp (epoch milliseconds) in
``X-HubSpot-Request-Timestamp``. The URI is the full URL HubSpot called: flowsync rebuilds it
as ``settings.PUBLIC_BASE_URL + request.get_full_path()``, so PUBLIC_BASE_URL must be the
public origin the app's webhook URL is registered with (scheme, host, port, no path).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings

from syncing.crm.types import WebhookNotice, WebhookRejected

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
# Deliveries signed longer ago (or, with a skewed clock, further ahead) are replays.
MAX_AGE_MS = 5 * 60 * 1000
# HubSpot signs the URI with these escapes decoded (its "validating requests" guide).
URI_DECODES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
DEALS_TYPE_ID = "0-3"


def signature(secret: str, *, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature of a request (also what the tests sign with)."""
    for escaped, char in URI_DECODES.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(connection, request) -> WebhookNotice:
    """The delivery's event ids and deal ids, once its signature holds; WebhookRejected
    otherwise (no client secret, missing or bad signature, stale or bad timestamp)."""
    # HubSpot signs with the app's client secret, the one OAuth uses too (entered once);
    # "app_secret" is where connections made before the per-field form keep it.
    credentials = connection.credentials
    secret = credentials.get("client_secret") or credentials.get("app_secret", "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not secret:
        raise WebhookRejected("The connection has no client secret to check signatures with.")
    if not given or not timestamp:
        raise WebhookRejected("Missing HubSpot signature or timestamp.")
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > MAX_AGE_MS:
        raise WebhookRejected("Stale or invalid HubSpot request timestamp.")
    expected = signature(
        secret,
        method=request.method,
        uri=settings.PUBLIC_BASE_URL + request.get_full_path(),
        body=request.body,
        timestamp=timestamp,
    )
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected("Bad HubSpot signature.")
    return notice(request.body)


def notice(body: bytes) -> WebhookNotice:
    """Event ids (``eventId``) of every event and the deal ids (``objectId``, plus the
    ``mergedObjectIds`` a merge removed) of deal events. Events without ids are skipped."""
    try:
        events = json.loads(body)
    except ValueError:
        events = None
    if not isinstance(events, list):
        return WebhookNotice(event_ids=(), deal_ids=())
    event_ids: list[str] = []
    deal_ids: list[str] = []
    for event in events:
        if not isinstance(event, dict) or event.get("eventId") in (None, ""):
            continue
        event_ids.append(str(event["eventId"]))
        if _is_deal_event(event):
            named = [event.get("objectId"), *(event.get("mergedObjectIds") or [])]
            deal_ids += [str(i) for i in named if isinstance(i, int | str) and str(i).isdigit()]
    return WebhookNotice(
        event_ids=tuple(dict.fromkeys(event_ids)), deal_ids=tuple(dict.fromkeys(deal_ids))
    )


def _is_deal_event(event: dict) -> bool:
    kind = str(event.get("subscriptionType") or "")
    return kind.startswith("deal.") or (
        kind.startswith("object.") and str(event.get("objectTypeId")) == DEALS_TYPE_ID
    )
