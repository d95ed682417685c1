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
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        if not conf.redis_url():
            return self._try_take_from_file()
        wait_ms = _run(_TAKE_TOKEN, [f"sync:budget:{self.key}"], [self.rate, self.capacity, 1])
        return int(wait_ms) / 1000

    def _try_take_from_file(self) -> float:
        with _flocked(_coordination_file("budget", self.key)) as handle:
            handle.seek(0)
            state = json.loads(handle.read() or "{}")
            now = time.time()
            elapsed = max(0.0, now - state.get("ts", now))
            tokens = min(self.capacity, state.get("tokens", self.capacity) + elapsed * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            tokens = tokens - 1 if tokens >= 1 else tokens
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"tokens": tokens, "ts": now}))
        return wait

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
