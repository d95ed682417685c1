"""What workers share through Redis: request budgets (token buckets) and run locks.

Both are single Lua scripts, so each check-and-change is atomic across every worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import redis

from syncing import conf
from syncing.errors import TransientError


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    return _client(conf.redis_url())


@lru_cache(maxsize=16)
def _script(client: redis.Redis, source: str):
    return client.register_script(source)


def _run(source: str, keys: list[str], args: list) -> int:
    """Run a Lua script by its SHA (loading it once per Redis client)."""
    return _script(redis_client(), source)(keys=keys, args=args)


# KEYS[1] bucket; ARGV rate (tokens/s), capacity, requested. Uses the Redis clock so workers
# on machines with skewed clocks agree. Returns 0 when granted, else milliseconds to wait.
_TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (math.max(0, now - ts) * rate / 1000))
local wait = 0
if tokens >= requested then
  tokens = tokens - requested
else
  wait = math.ceil((requested - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return wait
"""


@dataclass(frozen=True)
class TokenBucket:
    """A request budget: ``rate`` requests per second with bursts up to ``capacity``, shared
    by everyone using the same ``key`` (one upstream account)."""

    key: str
    rate: float
    capacity: int

    def try_take(self) -> float:
        """Take one token if there is one; return 0, else the seconds until there is."""
        wait_ms = _run(_TAKE_TOKEN, [f"sync:budget:{self.key}"], [self.rate, self.capacity, 1])
        return int(wait_ms) / 1000

    def take(self, *, max_wait: float) -> None:
        """Block until a token is taken; TransientError if that would take over ``max_wait``."""
        deadline = time.monotonic() + max_wait
        while (wait := self.try_take()) > 0:
            if time.monotonic() + wait > deadline:
                raise TransientError(f"request budget of {self.key} exhausted")
            time.sleep(wait)


# Release or extend only a lock we still own (a lock that expired and was taken by another
# worker has another token).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class LockHeld(Exception):
    """Someone else holds the lock."""


@dataclass
class Lock:
    key: str
    token: str
    ttl_ms: int

    def extend(self) -> bool:
        """Push the expiry ``ttl`` into the future again; False if the lock was lost."""
        return bool(_run(_EXTEND, [self.key], [self.token, self.ttl_ms]))

    def release(self) -> bool:
        return bool(_run(_RELEASE, [self.key], [self.token]))


@contextmanager
def exclusive(name: str, *, ttl: float) -> Iterator[Lock]:
    """Hold ``name`` for the block, or raise LockHeld. The lock expires after ``ttl`` seconds
    unless extended, so a worker killed inside the block cannot hold it forever."""
    lock = Lock(key=f"sync:lock:{name}", token=uuid.uuid4().hex, ttl_ms=int(ttl * 1000))
    if not redis_client().set(lock.key, lock.token, nx=True, px=lock.ttl_ms):
        raise LockHeld(name)
    try:
        yield lock
    finally:
        lock.release()
