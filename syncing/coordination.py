"""What workers share: request budgets (token buckets) and run locks.

With Redis (SYNC_REDIS_URL or a redis:// broker) both are single Lua scripts, so each
check-and-change is atomic across every worker on every machine. Without Redis (the embedded
default: SQLite and a filesystem broker, so one machine) they are files under
DATA_DIR/sync-coordination guarded by flock; the kernel drops a killed worker's lock at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Protocol

import redis
from django.conf import settings

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
# on machines with skewed clocks agree. Grants what is there up to ``requested`` (at least
# one token): returns {granted, 0}, or {0, milliseconds until one token} when there is none.
_TAKE_TOKENS = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (math.max(0, now - ts) * rate / 1000))
local granted = math.min(requested, math.floor(tokens))
local wait = 0
if granted >= 1 then
  tokens = tokens - granted
else
  granted = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return {granted, wait}
"""

# KEYS[1] bucket; ARGV rate, seconds. Empties the bucket so that its next token comes only
# after ``seconds`` (an upstream's Retry-After), for every worker of the account.
_PAUSE = """
local rate = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens = 1 - rate * tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if current == nil or current > tokens then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((1 - tokens) * 1000 / rate) + 1000)
end
return 0
"""

# Tokens taken from the shared bucket at once, and how long this process may hold them: a
# round trip to Redis then serves up to BLOCK calls, and tokens held but unused lapse after
# HOLD seconds so that at any moment a worker is at most one block ahead of the shared pace.
BLOCK = 8
HOLD = 1.0


@dataclass
class _Held:
    """Tokens this process took from the shared bucket and has not used yet."""

    tokens: int = 0
    until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class TokenBucket:
    """A request budget: ``rate`` requests per second with bursts up to ``capacity``, shared
    by everyone using the same ``key`` (one upstream account).

    Tokens are taken from the shared bucket in blocks (up to BLOCK, at most half the burst,
    so a small burst is still shared fairly), kept in this object and spent locally; a 429's
    Retry-After (``pause``) empties the shared bucket and what this object holds."""

    key: str
    rate: float
    capacity: int
    _held: _Held = field(default_factory=_Held, compare=False, repr=False)

    @property
    def block(self) -> int:
        return max(1, min(BLOCK, self.capacity // 2))

    def try_take(self) -> float:
        """Take one token if there is one; return 0, else the seconds until there is."""
        held = self._held
        with held.lock:
            now = time.monotonic()
            if held.tokens and now < held.until:
                held.tokens -= 1
                return 0
            granted, wait = self._grant(self.block)
            if granted:
                held.tokens, held.until = granted - 1, now + HOLD
            return wait

    def _grant(self, requested: int) -> tuple[int, float]:
        """Up to ``requested`` tokens from the shared bucket: (granted, 0), or (0, seconds
        until one token)."""
        if not conf.redis_url():
            return self._grant_from_file(requested)
        key = [f"sync:budget:{self.key}"]
        granted, wait_ms = _run(_TAKE_TOKENS, key, [self.rate, self.capacity, requested])
        return int(granted), int(wait_ms) / 1000

    def _grant_from_file(self, requested: int) -> tuple[int, float]:
        with _flocked(_coordination_file("budget", self.key)) as handle:
            handle.seek(0)
            state = json.loads(handle.read() or "{}")
            now = time.time()
            elapsed = max(0.0, now - state.get("ts", now))
            tokens = min(self.capacity, state.get("tokens", self.capacity) + elapsed * self.rate)
            granted = min(requested, math.floor(tokens))
            wait = 0.0 if granted >= 1 else (1 - tokens) / self.rate
            granted = max(granted, 0)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"tokens": tokens - granted, "ts": now}))
        return granted, wait

    def pause(self, seconds: float) -> None:
        """No token for anyone on this account for ``seconds`` (an upstream's Retry-After)."""
        with self._held.lock:
            self._held.tokens = 0
        if conf.redis_url():
            _run(_PAUSE, [f"sync:budget:{self.key}"], [self.rate, seconds])
            return
        with _flocked(_coordination_file("budget", self.key)) as handle:
            handle.seek(0)
            state = json.loads(handle.read() or "{}")
            tokens = min(state.get("tokens", self.capacity), 1 - self.rate * seconds)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"tokens": tokens, "ts": time.time()}))

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


class Lock(Protocol):
    key: str

    def extend(self) -> bool: ...

    def release(self) -> bool: ...


@dataclass
class RedisLock:
    key: str
    token: str
    ttl_ms: int

    def extend(self) -> bool:
        """Push the expiry ``ttl`` into the future again; False if the lock was lost."""
        return bool(_run(_EXTEND, [self.key], [self.token, self.ttl_ms]))

    def release(self) -> bool:
        return bool(_run(_RELEASE, [self.key], [self.token]))


@dataclass
class FileLock:
    """Held while its file is flock-ed by this process; the kernel releases it on death."""

    key: str
    handle: IO

    def extend(self) -> bool:
        return not self.handle.closed

    def release(self) -> bool:
        if self.handle.closed:
            return False
        self.handle.close()  # closing the file drops the flock
        return True


def _coordination_file(kind: str, name: str) -> Path:
    directory = Path(settings.DATA_DIR) / "sync-coordination"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:32]}"


@contextmanager
def _flocked(path: Path) -> Iterator[IO]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


def _acquire(name: str, ttl: float) -> Lock:
    if conf.redis_url():
        lock = RedisLock(key=f"sync:lock:{name}", token=uuid.uuid4().hex, ttl_ms=int(ttl * 1000))
        if not redis_client().set(lock.key, lock.token, nx=True, px=lock.ttl_ms):
            raise LockHeld(name)
        return lock
    path = _coordination_file("lock", name)
    handle = open(path, "a")  # noqa: SIM115 - held open for as long as the lock is
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LockHeld(name) from None
    return FileLock(key=str(path), handle=handle)


@contextmanager
def exclusive(name: str, *, ttl: float) -> Iterator[Lock]:
    """Hold ``name`` for the block, or raise LockHeld. A Redis lock expires after ``ttl``
    seconds unless extended, and a file lock ends with its process, so a worker killed inside
    the block cannot hold it forever."""
    lock = _acquire(name, ttl)
    try:
        yield lock
    finally:
        lock.release()
