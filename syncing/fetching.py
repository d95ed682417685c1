"""Per-item detail reads of a run through a bounded pool of threads: ``pool_size`` threads
(a connection option, else SYNC_FETCH_POOL_SIZE), each with its own client (a requests
Session is not shared between threads), all under the account's one request budget. The
threads only speak HTTP; every database write stays on the run's thread. (The rooms pull's
``_AnalyticsFetcher`` is the same idea with its page pipelining.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from queue import SimpleQueue
from typing import TypeVar

from django.db import connections

from syncing import conf
from syncing.errors import UpstreamError
from syncing.http import UpstreamClient
from syncing.runs import RunRecorder

Item = TypeVar("Item")
Result = TypeVar("Result")


class FetchPool:
    def __init__(self, run: RunRecorder, *, name: str):
        size = int(run.connection.options.get("pool_size") or conf.get("SYNC_FETCH_POOL_SIZE"))
        self._clients: SimpleQueue = SimpleQueue()
        for _ in range(size):
            self._clients.put(run.client())
        self._pool = ThreadPoolExecutor(size, thread_name_prefix=name)

    def __enter__(self) -> FetchPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(cancel_futures=True)

    def start(
        self, fetch: Callable[[UpstreamClient, Item], Result], items: Sequence[Item]
    ) -> list[Future[Result]]:
        """Start ``fetch(client, item)`` for every item; ``results`` waits for them."""
        return [self._pool.submit(self._call, fetch, item) for item in items]

    @staticmethod
    def results(futures: Sequence[Future[Result]]) -> list[Result]:
        """The results in order; raises the error of the first call (in that order) that
        failed (calls not started by then are cancelled when the pool closes)."""
        return [future.result() for future in futures]

    def _call(self, fetch, item):
        client = self._clients.get()
        try:
            return fetch(client, item)
        except UpstreamError:
            connections.close_all()  # a 401's callback may have used this thread's connection
            raise
        finally:
            self._clients.put(client)
