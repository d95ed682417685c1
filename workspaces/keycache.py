"""API keys resolved without a database query on most requests (#14 item 4).

Each process keeps the keys it verified: prefix -> (key row, its workspace, when cached).
Every request reads one Redis counter, the *key generation*; revoking or deleting a key or
deleting a workspace increments it once the change commits, and a process that sees a new
generation drops everything it cached. So a revocation is refused by every process on its
next request. Changes made around the services (a shell, a cascade) are picked up after
``API_KEY_CACHE_SECONDS`` at most. Without Redis (the one-machine default) nothing is cached.
While Redis does not answer, nothing is served from the cache either (every key is read from
the database), so an outage can neither fail requests nor hide a revocation.

Callers get copies, so a request that changes its ``request.workspace`` changes nothing here.
"""

from __future__ import annotations

import copy
import logging
import threading
import time

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from syncing import conf as sync_conf
from syncing.coordination import redis_client

logger = logging.getLogger(__name__)

GENERATION_KEY = "apikeys:generation"
DEFAULT_MAX_AGE = 60.0

_lock = threading.Lock()
_entries: dict[str, tuple[object, float]] = {}
_generation: bytes | None = None


def enabled() -> bool:
    return bool(sync_conf.redis_url())


def get(prefix: str):
    """A copy of the cached key with this prefix (workspace included), or None."""
    if not _follow_generation():
        return None
    entry = _entries.get(prefix)
    if entry is None:
        return None
    api_key, cached_at = entry
    if time.monotonic() - cached_at > _max_age():
        _entries.pop(prefix, None)
        return None
    clone = copy.copy(api_key)
    clone.workspace = copy.copy(api_key.workspace)
    return clone


def put(api_key) -> None:
    with _lock:
        _entries[api_key.prefix] = (copy.copy(api_key), time.monotonic())


def note_used(prefix: str, when) -> None:
    """Keep the cached ``last_used_at`` current, so it is written once a minute, not per use."""
    entry = _entries.get(prefix)
    if entry is not None:
        entry[0].last_used_at = when


def forget(prefix: str) -> None:
    """Drop ``prefix`` here at once and, after commit, in every process."""
    with _lock:
        _entries.pop(prefix, None)
    generation_bump()


def generation_bump() -> None:
    if enabled():
        transaction.on_commit(_generation_incr)


def _generation_incr() -> None:
    try:
        redis_client().incr(GENERATION_KEY)
    except RedisError:  # other processes drop the key within API_KEY_CACHE_SECONDS
        logger.warning("API key cache: Redis unreachable, the key change is not broadcast")


def clear() -> None:
    global _generation
    with _lock:
        _entries.clear()
        _generation = None


def _follow_generation() -> bool:
    """Drop the cache when the generation moved; False when Redis cannot tell."""
    global _generation
    try:
        current = redis_client().get(GENERATION_KEY)
    except RedisError:
        logger.warning("API key cache: Redis unreachable, keys read from the database")
        clear()
        return False
    if current != _generation:
        with _lock:
            _entries.clear()
            _generation = current
    return True


def _max_age() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", DEFAULT_MAX_AGE))
