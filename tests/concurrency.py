"""Reproduce a race deterministically: another transaction inserts a row and holds it
uncommitted until the code under test blocks on it (a lock wait), then commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction


def _release_when_someone_waits(release: threading.Event) -> None:
    try:
        with connections["default"].cursor() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
    finally:
        release.set()
        connections.close_all()


@contextmanager
def insert_committed_while_waited_for(insert: Callable[[], object]) -> Iterator[None]:
    """Run ``insert`` in another transaction before the block; it commits once the block's
    own write waits for it. Needs PostgreSQL and ``transactional_db``."""
    inserted, release = threading.Event(), threading.Event()

    def hold_insert():
        try:
            with transaction.atomic():
                insert()
                inserted.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_insert)
    holder.start()
    assert inserted.wait(timeout=10), "the concurrent insert did not happen"
    watcher = threading.Thread(target=_release_when_someone_waits, args=(release,))
    watcher.start()
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=10)
        watcher.join(timeout=10)
