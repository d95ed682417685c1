"""The rooms stream: rooms page by page (``updatedAt`` ascending), each room's analytics, written
into the rooms app's tables with set-based upserts. A page's analytics are fetched through a
bounded pool of threads while the page before is written (``_AnalyticsFetcher``).

Per page: one query finds the page's rooms by upstream id; a room whose digest (of the raw
record and analytics) equals the stored ``Room.upstream_hash`` is counted unchanged and not
touched (nor is its analytics validated). The changed rooms are written in one transaction with
a fixed number of queries, whatever the number of rooms, sections, viewers or engagements
(``writes.rooms_write``).

Incremental runs read rooms whose ``updatedAt`` is at or after the cursor minus ``LOOKBACK``.
The list has no filter, so every page is read (older rooms are skipped without their
analytics); reading to the end also shows rooms updated during the run, which re-appear there.
Such a move shifts later rooms one place towards the start, past a page already read, so the
cursor then stays at the moved room's old ``updatedAt`` and the next run reads that stretch
again. The cursor never passes the run's start, nor a room whose analytics could not be read
(recorded as a failure of that room; the run goes on). A run that fails keeps what it wrote
and the cursor of its last finished page, so the next run resumes there. A full refresh
ignores the cursor and archives the upstream rooms it did not see, after asking for each one
by id (a room missed through such a shift is found that way and written, not archived).

Pulled writes never go through rooms.services (whose writes enqueue outbox pushes): a pulled
room must not be pushed back upstream.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from queue import SimpleQueue

import msgspec
from django.db import connections
from django.utils.dateparse import parse_datetime

from config.formats import iso_utc
from syncing import conf
from syncing.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    UpstreamError,
)
from syncing.providers.rooms_platform import schemas
from syncing.providers.rooms_platform.client import API, RoomsPlatformClient
from syncing.providers.rooms_platform.mapping import PulledRoom, room_parse
from syncing.providers.rooms_platform.writes import (
    room_statuses_write,
    rooms_archive,
    rooms_known,
    rooms_write,
    upstream_room_ids,
)
from syncing.runs import RunRecorder
from syncing.validation import validate_record, validate_records

# Rows committed upstream a little after a later updatedAt was already listed (clock skew,
# long transactions) are still read by the next incremental run.
LOOKBACK = timedelta(minutes=5)
# Part of every room's digest: bump it when the mapping changes so the next run rewrites all.
MAPPING_VERSION = 2


def rooms_pull(run: RunRecorder) -> None:
    client: RoomsPlatformClient = run.client()  # type: ignore[assignment]
    workspace = run.connection.workspace
    try:
        room_statuses_write(workspace=workspace, statuses=client.statuses())
    except RecordError as error:  # rooms then name statuses by upstream id only
        run.record_failure(error)
    since = None if run.run.full_refresh else _cursor_time(run.run.cursor_before)
    reading = _Reading(since=since - LOOKBACK if since else None)
    with _AnalyticsFetcher(run) as fetcher:
        # Page k's analytics are fetched while page k-1 is written; page k+1 is listed only
        # once they are in, so the listing sees upstream as the analytics left it.
        fetched: _Fetched | None = None
        try:
            for page in client.room_pages():
                fetching = fetcher.start(reading.take(run, page), newest=reading.newest)
                if fetched is not None:
                    writing, fetched = fetched, None
                    _finish_page(run, workspace, reading, writing, since)
                fetched = fetching.wait()
        except UpstreamError:
            if fetched is not None:  # listing the next page failed: keep the page fetched
                _finish_page(run, workspace, reading, fetched, since)
            raise
        if fetched is not None:
            _finish_page(run, workspace, reading, fetched, since)
        if run.run.full_refresh:
            _archive_vanished(run, client, fetcher, workspace, reading.listed)
    run.cursor_after = reading.cursor_after(started=run.run.started_at, before=since)


def _finish_page(run: RunRecorder, workspace, reading, fetched: _Fetched, since) -> None:
    """Write a fetched page; the run may resume after it if a later page fails."""
    reading.hold(_store_rooms(run, workspace, fetched))
    run.resume_from = reading.cursor_after(
        started=run.run.started_at, before=since, newest=fetched.newest
    )
    run.checkpoint()


@dataclass
class _Fetched:
    """A page's records (validated, raw) with what their analytics GETs answered (the JSON or
    the UpstreamError), and the newest updatedAt read up to this page."""

    records: list[tuple[dict, dict]]
    futures: list[Future]
    newest: datetime | None

    def wait(self) -> _Fetched:
        futures_wait(self.futures)
        return self


class _AnalyticsFetcher:
    """The per-room analytics GETs through a bounded pool: ``pool_size`` threads (a connection
    option, else SYNC_FETCH_POOL_SIZE), each with its own client (a requests Session is not
    shared between threads), all under the account's one request budget. The threads only
    speak HTTP; every database write stays on the run's thread."""

    def __init__(self, run: RunRecorder):
        size = int(run.connection.options.get("pool_size") or conf.get("SYNC_FETCH_POOL_SIZE"))
        self._clients: SimpleQueue = SimpleQueue()
        for _ in range(size):
            self._clients.put(run.client())
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="rooms-analytics")

    def __enter__(self) -> _AnalyticsFetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(cancel_futures=True)

    def start(self, records: list[tuple[dict, dict]], *, newest=None) -> _Fetched:
        futures = [self._pool.submit(self._fetch, record["id"]) for record, _ in records]
        return _Fetched(records=records, futures=futures, newest=newest)

    def _fetch(self, room_id: str):
        client = self._clients.get()
        try:
            return client.get_json(f"{API}/rooms/{room_id}/analytics")
        except UpstreamError as error:
            connections.close_all()  # a 401's callback may have used this thread's connection
            return error
        finally:
            self._clients.put(client)


class _Reading:
    """What the run has read so far: the ids listed, each room's first updatedAt, the newest
    updatedAt, the oldest updatedAt a room had before it moved to the end of the list during
    the run, and the oldest of a room that could not be read (held for the next run)."""

    def __init__(self, since: datetime | None):
        self.since = since
        self.listed: set[str] = set()
        self.first_updated: dict[str, datetime] = {}
        self.newest: datetime | None = None
        self.moved_from: datetime | None = None
        self.held: datetime | None = None

    def hold(self, updated: datetime | None) -> None:
        if updated is not None:
            self.held = min(updated, self.held or updated)

    def take(self, run: RunRecorder, page: list) -> list[tuple[dict, dict]]:
        """The page's valid records to pull, each with its raw JSON (malformed ones recorded,
        older ones skipped)."""
        wanted: dict[str, tuple[dict, dict]] = {}
        for raw, record in zip(page, validate_records(schemas.Room, page), strict=True):
            if isinstance(record, RecordError):
                run.record_failure(record)
                self.listed.add(record.upstream_id or "")
                continue
            self.listed.add(record["id"])
            updated = record["updatedAt"]
            first = self.first_updated.setdefault(record["id"], updated)
            if first != updated:
                self.moved_from = min(first, self.moved_from or first)
            if self.since is not None and updated < self.since:
                continue
            self.newest = max(updated, self.newest or updated)
            wanted[record["id"]] = (record, raw)
        return list(wanted.values())

    def cursor_after(
        self, *, started: datetime, before: datetime | None, newest: datetime | None = None
    ) -> dict | None:
        """The newest updatedAt read (or ``newest``, that of the pages written so far; never
        behind the cursor before, never past the run's start), or where a room moved from or
        a held room is if that is earlier."""
        newest = newest if newest is not None else self.newest
        newest = max((moment for moment in (newest, before) if moment), default=None)
        if newest is None:
            return None
        earliest = min(newest, started, self.moved_from or newest, self.held or newest)
        return {"updatedAt": iso_utc(earliest)}


def _cursor_time(cursor) -> datetime | None:
    if isinstance(cursor, dict) and isinstance(cursor.get("updatedAt"), str):
        return parse_datetime(cursor["updatedAt"])
    return None


def _store_rooms(run: RunRecorder, workspace, page: _Fetched) -> datetime | None:
    """Validate and write the page's rooms whose digest changed. A room whose analytics could
    not be read is a recorded failure, not the end of the run; returns the oldest updatedAt
    of such rooms (the cursor must not pass them)."""
    fetched, held = [], None
    for (record, raw), future in zip(page.records, page.futures, strict=True):
        analytics = future.result()
        if isinstance(analytics, NotFoundError):
            continue  # deleted upstream since it was listed; a full refresh archives it
        if isinstance(analytics, AuthError | RateLimitedError):
            raise analytics  # every other call would fail (or be refused) the same way
        if isinstance(analytics, UpstreamError):
            analytics.upstream_id = record["id"]
            run.record_failure(analytics)
            held = min(record["updatedAt"], held or record["updatedAt"])
            continue
        fetched.append((record, analytics, _digest(raw, analytics)))
    known = rooms_known(workspace=workspace, upstream_ids=[record["id"] for record, *_ in fetched])
    changed: list[PulledRoom] = []
    for record, analytics, digest in fetched:
        if known.get(record["id"], {}).get("upstream_hash") == digest:
            run.count(unchanged=1)
            continue
        try:
            valid = validate_record(schemas.RoomAnalytics, analytics, id_field="title")
            changed.append(room_parse(record, valid, digest=digest))
        except RecordError as error:
            error.upstream_id = record["id"]
            run.record_failure(error)
    run.count(**rooms_write(workspace=workspace, rooms=changed, known=known))
    return held


def _digest(raw_record: dict, raw_analytics) -> str:
    """Of the upstream's own JSON, so any change upstream (even in a field not stored) makes
    the room be written again."""
    payload = msgspec.json.encode([MAPPING_VERSION, raw_record, raw_analytics], order="sorted")
    return hashlib.sha256(payload).hexdigest()


def _archive_vanished(
    run: RunRecorder,
    client: RoomsPlatformClient,
    fetcher: _AnalyticsFetcher,
    workspace,
    listed: set[str],
) -> None:
    """Archive the workspace's upstream rooms the listing did not show, each confirmed gone by
    a 404 on ``GET /rooms/{id}``; one still there was missed by a shifting list: pull it."""
    gone, alive = [], []
    for upstream_id in sorted(upstream_room_ids(workspace=workspace) - listed):
        try:
            alive.append(client.get_json(f"{API}/rooms/{upstream_id}"))
        except NotFoundError:
            gone.append(upstream_id)
    if alive:  # one that fails to read is recorded; the next full refresh asks again
        _store_rooms(run, workspace, fetcher.start(_Reading(since=None).take(run, alive)))
    rooms_archive(workspace=workspace, upstream_ids=gone)
    run.checkpoint()
