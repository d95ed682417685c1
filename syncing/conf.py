"""Settings of the syncing app, each read with a default so config/settings.py needs no entry.

Override any of them in settings (or, for SYNC_REDIS_URL, in the environment).
"""

from __future__ import annotations

import ipaddress
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, object] = {
    # Upstream HTTP. Connect fails fast; reads allow for slow report endpoints.
    "SYNC_HTTP_CONNECT_TIMEOUT": 5.0,
    "SYNC_HTTP_READ_TIMEOUT": 30.0,
    # Retries inside one call: connection errors, read timeouts (reads only), 429/502/503/504.
    "SYNC_HTTP_RETRIES": 4,
    # Exponential backoff between those retries: factor * 2**(n-1) seconds, plus up to
    # SYNC_HTTP_BACKOFF_JITTER seconds of random jitter, at most SYNC_HTTP_BACKOFF_MAX.
    "SYNC_HTTP_BACKOFF_FACTOR": 0.5,
    "SYNC_HTTP_BACKOFF_JITTER": 0.5,
    "SYNC_HTTP_BACKOFF_MAX": 30.0,
    # A Retry-After longer than this is not slept in full inside a call; the call ends with a
    # RateLimitedError carrying the wait, and the caller (outbox, next run) schedules it.
    "SYNC_HTTP_RETRY_AFTER_MAX": 60,
    # Request budget per upstream account (token bucket in Redis, shared by every worker):
    # requests per second and burst. A connection's options may set "requests_per_second"
    # and "burst" to match its plan.
    "SYNC_REQUEST_BUDGETS": {
        "rooms_platform": (5.0, 10),
        "webinar_platform": (5.0, 10),
        # Flow XO publishes no rate limit; the same gentle pace as the other platforms.
        "chatbot_platform": (5.0, 10),
        # Livestorm Nexus publishes no rate limit either.
        "video_platform": (5.0, 10),
        # HubSpot private apps: 100 requests per 10 s (burst) on the lowest tier.
        "hubspot": (9.0, 90),
        # Salesforce counts a daily quota rather than a rate; stay gentle.
        "salesforce": (5.0, 25),
        # Attio: 100 reads and 25 writes per second.
        "attio": (20.0, 25),
    },
    # Per-item detail reads (a room's analytics) a pull keeps in flight at once: with an
    # upstream answering in 100-300 ms, one at a time caps a pull at a few rooms per second
    # whatever the CPU; 4 overlaps the waits while staying well inside the budgets above.
    # A connection's options may set "pool_size".
    "SYNC_FETCH_POOL_SIZE": 4,
    # Longest a call waits for a token before giving up with a TransientError.
    "SYNC_BUDGET_MAX_WAIT": 60.0,
    # Outbox: attempts before a message is parked as failed, and the retry backoff
    # (base * 2**(attempt-1) seconds with jitter, at most max).
    "SYNC_OUTBOX_MAX_ATTEMPTS": 8,
    "SYNC_OUTBOX_BACKOFF_BASE": 30.0,
    "SYNC_OUTBOX_BACKOFF_MAX": 3600.0,
    # A message "sending" for longer than this belongs to a dead worker: the sweeper puts it
    # back to pending (its next attempt looks the object up upstream before re-creating it).
    # Longer than the Celery hard time limit, so a live delivery is never taken over.
    "SYNC_OUTBOX_SENDING_TIMEOUT": 45 * 60,
    # Messages the sweeper enqueues per pass.
    "SYNC_OUTBOX_SWEEP_BATCH": 500,
    # Once the broker's queue is empty, a due message still unclaimed this long after its
    # time has lost its task (a retry held by a killed worker, say) and the sweeper sends
    # another. Long enough that a task just handed to a worker, or a retry a busy worker
    # holds for its time, is not doubled (a double delivers nothing twice, but costs a claim).
    "SYNC_OUTBOX_REQUEUE_AFTER": 120,
    # Extra modules that register outbox handlers at start-up (besides each installed app's
    # ``outbox_handlers`` module). Also read from the environment, comma-separated.
    "SYNC_OUTBOX_HANDLER_MODULES": [],
    # No-overlap lock of a (connection, stream) run; a killed worker's lock expires after this.
    "SYNC_LOCK_TTL": 30 * 60,
    # Seconds each Salesforce pull reads again before the last window's end, for saves whose
    # transaction committed after later-stamped records were read. Salesforce ends a
    # synchronous request after 10 minutes, so no save commits later than that after its
    # stamp. A connection's options["lookback_seconds"] overrides it.
    "SYNC_SALESFORCE_LOOKBACK": 10 * 60,
    # HubSpot's OAuth consent page ("Connect with HubSpot"); it is on HubSpot's app host, not
    # the API origin a connection names. Salesforce's is the connection's login host.
    "SYNC_OAUTH_HUBSPOT_AUTHORIZE_URL": "https://app.hubspot.com/oauth/authorize",
    # Errors kept in full on a SyncRun (the rest are only counted).
    "SYNC_RUN_MAX_ERRORS": 50,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def handler_modules() -> list[str]:
    configured = getattr(settings, "SYNC_OUTBOX_HANDLER_MODULES", None)
    if configured is not None:
        return list(configured)
    raw = os.environ.get("SYNC_OUTBOX_HANDLER_MODULES", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def upstream_allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Networks whose private addresses upstream calls may reach (syncing.urlguard):
    SYNC_UPSTREAM_ALLOWED_NETWORKS from settings, else the environment (comma-separated
    CIDRs such as ``10.20.0.0/16,127.0.0.1/32``). Empty by default: only public addresses."""
    configured = getattr(settings, "SYNC_UPSTREAM_ALLOWED_NETWORKS", None)
    if configured is None:
        raw = os.environ.get("SYNC_UPSTREAM_ALLOWED_NETWORKS", "")
        configured = [item.strip() for item in raw.split(",") if item.strip()]
    try:
        return [ipaddress.ip_network(item, strict=False) for item in configured]
    except ValueError as exc:
        raise ImproperlyConfigured(f"SYNC_UPSTREAM_ALLOWED_NETWORKS: {exc}") from None


def redis_url() -> str:
    """Redis for locks and request budgets: SYNC_REDIS_URL (settings, then environment), else
    the Celery broker when it is Redis; "" when there is none (the embedded default), and
    syncing.coordination falls back to files on this machine."""
    url = getattr(settings, "SYNC_REDIS_URL", None) or os.environ.get("SYNC_REDIS_URL", "")
    if url:
        return url
    broker = settings.CELERY_BROKER_URL
    return broker if broker.startswith(("redis://", "rediss://")) else ""
