"""The ``workspace`` stream: rooms, booking pages, recordings, then contacts and their events,
stored through ``insights.services`` exactly as an ingested batch (upstream ids, prefixed by
the upstream workspace, as client ids), so the workspace analytics answer the same either way.
The mapping and the writes are ``store.VideoStore``'s, shared with the webhooks.

Rooms. A video room is a ``rooms.Room`` (the analytics count and rank rooms) linked by a
``syncing.VideoRoom`` row; the room itself keeps no upstream id, so the rooms platform's pull
never sees it. Events and recordings naming a room the room list did not show create it from
the names they carry; an event's ``room_display_name`` is the room's title.

Contacts and events. The contacts list is read page by page (``updated_since`` = the cursor
less ``LOOKBACK`` on an incremental run, nothing on a full refresh). A contact's events are
read only when the number of its pulled events stored here differs from its
``event_count``: a page's contacts are written, then their event lists read through
``syncing.fetching.FetchPool`` while the page before is stored. The events are ingested
(known ids are skipped by the service) and pulled events upstream no longer lists are
deleted. So a second run with nothing new makes no event call, and an upstream that ignores
``updated_since`` costs list pages, not correctness.

Paging. The list is oldest first; a contact updated during the run can enter the filtered
list before the page being read and push one contact across a page boundary. That shows as a
different ``total`` on a later page: the cursor then stays where it was, so the next run reads
the same window again (its unchanged contacts cost no event call).

Contacts without an email (the platform allows them) get a placeholder address
``<upstream id>@<store.NO_EMAIL_DOMAIN>``: contacts here are unique by email, and the analytics
count them.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta

from insights.services import booking_pages_name, workspace_activity_ingest
from syncing.fetching import FetchPool
from syncing.providers.video_platform import schemas, writes
from syncing.providers.video_platform.client import VideoPlatformClient
from syncing.providers.video_platform.store import VideoStore
from syncing.runs import RunRecorder

# Events stored upstream a little before a contact's updated_at moved (clock skew, slow
# writes) are still read by the next incremental run.
LOOKBACK = timedelta(minutes=5)
# Items per ingestion call: PostgreSQL takes at most 65,535 parameters in one INSERT.
BATCH = 1000


class _Pull:
    def __init__(self, run: RunRecorder, pool: FetchPool):
        self.run = run
        self.pool = pool
        self.client: VideoPlatformClient = run.client()  # type: ignore[assignment]
        self.store = VideoStore(
            run.connection, upstream_workspace=self.client.workspace_id, failed=run.record_failure
        )
        self.workspace = run.connection.workspace
        self.events_prefix = self.store.prefix + "event:"

    def rooms(self) -> None:
        self.run.count(
            **self.store.rooms_write(self.store.valid(schemas.Room, self.client.rooms()))
        )

    def booking_pages(self) -> None:
        pages = self.store.valid(schemas.BookingPage, self.client.booking_pages())
        self.store.pages_by_id = {page["id"]: page for page in pages}
        booking_pages_name(
            workspace=self.workspace, titles={page["slug"]: page["title"] for page in pages}
        )

    def recordings(self) -> None:
        for page in self.client.recording_pages():
            self.run.count(**self.store.recordings_write(self.store.valid(schemas.Recording, page)))
            self.run.checkpoint()

    def contacts(self) -> None:
        started = int(self.run.run.started_at.timestamp())
        until = _cursor_until(self.run.run.cursor_before)
        since = None
        if until is not None and not self.run.run.full_refresh:
            since = until - int(LOOKBACK.total_seconds())
        totals, reading = set(), None
        for page, total in self.client.contact_pages(since=since):
            totals.add(total)
            # This page's events are read while the page before is stored.
            page_read = self.contact_page_read(self.store.valid(schemas.Contact, page))
            if reading is not None:
                self.contact_page_store(reading)
            reading = page_read
        if reading is not None:
            self.contact_page_store(reading)
        # A list that changed size under the run may have hidden a contact: read it again.
        self.run.cursor_after = (
            {"until": started} if len(totals) <= 1 else self.run.run.cursor_before
        )

    def contact_page_read(self, contacts: list[dict]) -> _PageRead:
        """Store the page's contacts and start reading the events of those whose stored
        events do not add up to their ``event_count``."""
        stored = self.store.contacts_write(contacts)
        counts = writes.pulled_event_counts(
            contact_ids=[pk for pk, _ in stored.values()], prefix=self.events_prefix
        )
        changed = [c for c in contacts if counts.get(stored[c["email"]][0], 0) != c["event_count"]]
        futures = self.pool.start(lambda client, contact: client.events(contact["id"]), changed)
        holding = [stored[c["email"]][0] for c in changed if counts.get(stored[c["email"]][0])]
        return _PageRead(
            contacts=contacts, stored=stored, changed=changed, holding=holding, events=futures
        )

    def contact_page_store(self, page: _PageRead) -> None:
        fetched = FetchPool.results(page.events)
        events = {
            contact["email"]: self.store.valid(schemas.ContactEvent, raw)
            for contact, raw in zip(page.changed, fetched, strict=True)
        }
        items = self.store.event_items(page.changed, events)
        writes.pulled_events_prune(
            contact_ids=page.holding, prefix=self.events_prefix, keep=set(items)
        )
        batch = list(items.values())
        for start in range(0, len(batch), BATCH):
            workspace_activity_ingest(workspace=self.workspace, items=batch[start : start + BATCH])
        read = {contact["email"] for contact in page.changed}
        for contact in page.contacts:
            outcome = page.stored[contact["email"]][1]
            if outcome == "unchanged" and contact["email"] in read:
                outcome = "updated"  # its events changed
            self.run.count(**{outcome: 1})
        self.run.checkpoint()


@dataclass
class _PageRead:
    contacts: list[dict]
    stored: dict[str, tuple]  # by email: (contact id, outcome)
    changed: list[dict]  # the contacts whose events are read
    holding: list  # the ids of those with pulled events stored (which may have to go)
    events: list[Future]  # their raw events, in the same order


def workspace_pull(run: RunRecorder) -> None:
    with FetchPool(run, name="video-events") as pool:
        pull = _Pull(run, pool)
        pull.rooms()
        pull.booking_pages()
        pull.recordings()
        pull.contacts()


def _cursor_until(cursor) -> int | None:
    if isinstance(cursor, dict) and isinstance(cursor.get("until"), int):
        return cursor["until"]
    return None
