"""Request budgets and run locks shared through Redis."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

import pytest

from syncing.coordination import (
    BLOCK,
    HOLD,
    LockHeld,
    TokenBucket,
    exclusive,
    redis_client,
)
from syncing.errors import TransientError
from syncing.models import Connection
from syncing.services import connection_client, connection_create

pytestmark = pytest.mark.django_db


def test_a_bucket_grants_its_burst_then_asks_to_wait():
    bucket = TokenBucket(key="test:burst", rate=2.0, capacity=3)

    waits = [bucket.try_take() for _ in range(4)]

    # Three tokens at once; the fourth needs 1 token at 2/s, so about 0.5 s.
    assert waits[:3] == [0, 0, 0]
    assert 0.4 <= waits[3] <= 0.5


def test_two_clients_of_one_account_share_one_budget(workspace, rooms_fake):
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 5, "burst": 2},
    )
    first, second = connection_client(connection), connection_client(connection)

    started = time.monotonic()
    for _ in range(3):
        first.statuses()
        second.statuses()
    elapsed = time.monotonic() - started

    # 6 calls, burst 2, then 4 more at 5/s: at least 0.8 s in total (each alone would have
    # made its 3 calls in 0.2 s).
    assert elapsed >= 0.75
    assert first.calls + second.calls == 6


def test_different_accounts_do_not_share(workspace, rooms_fake):
    options = {"requests_per_second": 1, "burst": 1}
    connections = [
        connection_create(
            workspace=workspace,
            provider=Connection.Provider.ROOMS_PLATFORM,
            name=f"Flowla {n}",
            base_url=rooms_fake.url,
            api_key=f"key-{n}",
            options=options,
        )
        for n in range(2)
    ]
    buckets = {connection_client(c)._budget.key for c in connections}

    assert len(buckets) == 2


def test_a_budget_that_cannot_be_had_in_time_is_a_transient_error():
    bucket = TokenBucket(key="test:slow", rate=0.5, capacity=1)
    bucket.take(max_wait=0.1)

    with pytest.raises(TransientError, match="budget"):
        bucket.take(max_wait=0.1)


def test_a_lock_is_exclusive_and_released():
    with exclusive("test:lock", ttl=30), pytest.raises(LockHeld), exclusive("test:lock", ttl=30):
        pass

    with exclusive("test:lock", ttl=30):
        pass


def test_a_lock_left_by_a_killed_holder_expires_after_its_ttl():
    with ExitStack() as killed_worker:
        stale = killed_worker.enter_context(exclusive("test:ttl", ttl=0.3))
        with pytest.raises(LockHeld):
            killed_worker.enter_context(exclusive("test:ttl", ttl=0.3))
        time.sleep(0.4)

        with exclusive("test:ttl", ttl=30) as fresh:
            # The dead holder's late release must not free the new holder's lock.
            assert stale.release() is False
            assert stale.extend() is False
            assert redis_client().get(fresh.key).decode() == fresh.token


def test_extend_keeps_a_live_lock():
    with exclusive("test:extend", ttl=0.3) as lock:
        time.sleep(0.2)
        assert lock.extend() is True
        time.sleep(0.2)
        with pytest.raises(LockHeld):
            exclusive("test:extend", ttl=0.3).__enter__()


def _shared_state(key: str) -> dict:
    return {k.decode(): float(v) for k, v in redis_client().hgetall(f"sync:budget:{key}").items()}


def test_tokens_are_taken_from_redis_in_blocks():
    bucket = TokenBucket(key="test:block", rate=0.01, capacity=20)

    assert bucket.try_take() == 0
    first = _shared_state("test:block")
    waits = [bucket.try_take() for _ in range(BLOCK - 1)]
    after_the_block = _shared_state("test:block")
    assert bucket.try_take() == 0

    # One script run served BLOCK calls (its timestamp and count unchanged meanwhile); the
    # next call took the next block.
    assert waits == [0] * (BLOCK - 1)
    assert round(first["tokens"]) == 20 - BLOCK
    assert after_the_block == first
    assert round(_shared_state("test:block")["tokens"]) == 20 - 2 * BLOCK


def test_blocks_never_grant_more_than_the_shared_burst():
    buckets = [TokenBucket(key="test:blocks", rate=0.01, capacity=5) for _ in range(3)]

    granted = sum(bucket.try_take() == 0 for _ in range(4) for bucket in buckets)

    assert granted == 5


def test_held_tokens_lapse():
    bucket = TokenBucket(key="test:lapse", rate=0.01, capacity=20)
    bucket.try_take()
    time.sleep(HOLD + 0.05)

    bucket.try_take()

    # The unused rest of the first block was not spent: a second block was taken.
    assert round(_shared_state("test:lapse")["tokens"]) == 20 - 2 * BLOCK


def test_a_retry_after_makes_every_worker_of_the_account_wait(rooms_connection, rooms_fake):
    rooms_fake.retry_after = 2
    rooms_fake.inject("429", method="GET")
    first, second = connection_client(rooms_connection), connection_client(rooms_connection)
    worker = threading.Thread(target=first.statuses)
    worker.start()
    while rooms_fake.count("GET", "/api/v2/statuses") == 0:
        time.sleep(0.01)
    time.sleep(0.2)

    started = time.monotonic()
    second.statuses()
    waited = time.monotonic() - started
    worker.join()

    # The other client answered the 429 by pausing the account: this one waited it out too.
    assert waited >= 1.4
    assert rooms_fake.count("GET", "/api/v2/statuses") == 3
