"""Request throttles: one atomic Redis call per request (#15 finding 7, #14 item 4).

A sliding window over two fixed windows (the current count plus the previous window's count
weighted by how much of it still overlaps the last ``duration`` seconds), checked and
counted by one Lua script, so concurrent requests cannot all read "under the limit" before
any of them writes, and a burst across a window boundary cannot admit twice the rate.
Refused requests are not counted. Without Redis (the one-machine default), DRF's cache-based
throttle is used. While a configured Redis does not answer, requests are admitted uncounted
(and logged): the API stays up through a Redis restart.

The client address of anonymous callers is REMOTE_ADDR, or the address the trusted proxies
put in X-Forwarded-For (REST_FRAMEWORK["NUM_PROXIES"], from TRUSTED_PROXY_COUNT); a client
cannot choose its own address by sending the header.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from syncing import conf as sync_conf
from syncing.coordination import redis_client

logger = logging.getLogger(__name__)

# KEYS[1] current window, KEYS[2] previous window; ARGV limit, weight of the previous window,
# expiry in seconds. Returns {admitted (1/0), current count, previous count}.
_SLIDING_WINDOW = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if math.ceil(previous * tonumber(ARGV[2])) + current >= tonumber(ARGV[1]) then
  return {0, current, previous}
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, current + 1, previous}
"""


@lru_cache(maxsize=4)
def _script(client):
    return client.register_script(_SLIDING_WINDOW)


def sliding_window_hit(key: str, *, limit: int, duration: int, now: float) -> float | None:
    """Count one request for ``key``; None when admitted, else seconds to wait."""
    window, into = divmod(now, duration)
    weight = 1 - into / duration
    prefix = f"{settings.THROTTLE_KEY_PREFIX}:{key}"
    client = redis_client()
    admitted, current, previous = _script(client)(
        keys=[f"{prefix}:{int(window)}", f"{prefix}:{int(window) - 1}"],
        args=[limit, weight, 2 * duration + 1],
    )
    if admitted:
        return None
    if current >= limit:
        return duration - into  # nothing frees up before the next window
    # The previous window's weight falls until previous * weight + current < limit.
    return max(1.0, duration * (1 - (limit - current) / previous) - into)


class WorkspaceRateThrottle(SimpleRateThrottle):
    """Per API key (or per logged-in user, or per client address when anonymous).

    The rate is read from settings on every request so it can be changed per deployment
    (API_THROTTLE_RATE) and per test."""

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if request.auth is not None and hasattr(request.auth, "prefix"):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request, view) -> bool:
        if not sync_conf.redis_url():
            return super().allow_request(request, view)
        try:
            self._wait = sliding_window_hit(
                self.get_cache_key(request, view),
                limit=self.num_requests,
                duration=self.duration,
                now=time.time(),
            )
        except RedisError:
            # A rate limit must not take the API down with Redis: admit, and say so.
            logger.warning("throttle: Redis unreachable, request admitted uncounted")
            self._wait = None
        return self._wait is None

    def wait(self) -> float | None:
        if hasattr(self, "_wait"):
            return math.ceil(self._wait) if self._wait is not None else None
        return super().wait()


class PublicRateThrottle(WorkspaceRateThrottle):
    """Per client address, for the public webinar endpoints."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return f"throttle:{self.scope}:ip:{self.get_ident(request)}"


class AuthFailureThrottle(PublicRateThrottle):
    """Failed API authentications per client address (counted only when one fails)."""

    scope = "authfail"

    def get_rate(self) -> str:
        return settings.API_AUTH_FAILURE_RATE


def client_address(request) -> str:
    """The client's address as the throttles see it (trusted proxies only); django-axes
    uses it too (AXES_CLIENT_IP_CALLABLE)."""
    return BaseThrottle().get_ident(request)
