"""The ``workspace`` stream: rooms, booking pages, recordings, then contacts and their events,
stored through ``insights.services`` exactly as an ingested batch (upstream ids, prefixed by
the upstream workspace, as client ids), so the workspace analytics answer the same either way.

Rooms. A video room is a ``rooms.Room`` (the analytics count and rank rooms) linked by a
``syncing.VideoRoom`` row; the room itself keeps no upstream id, so the rooms platform's pull
never sees it. Events and recordings naming a room the room list did not show create it from
the names they carry; an event's ``room_display_name`` is the room's title.

Contacts and events. The contacts list is read page by page (``updated_since`` = the cursor
less ``LOOKBACK`` on an incremental run, nothing on a full refresh). A contact's events are
read only when the number of its pulled events stored here differs from its ``event_count``;
then the contact's events are ingested (known ids are skipped by the service) and pulled
events upstream no longer lists are deleted. So a second run with nothing new makes no event
call, and an upstream that ignores ``updated_since`` costs list pages, not correctness.

Paging. The list is oldest first; a contact updated during the run can enter the filtered
list before the page being read and push one contact across a page boundary. That shows as a
different ``total`` on a later page: the cursor then stays where it was, so the next run reads
the same window again (its unchanged contacts cost no event call).

Contacts without an email (the platform allows them) get a placeholder address
``<upstream id>@<NO_EMAIL_DOMAIN>``: contacts here are unique by email, and the analytics
count them.
"""

from __future__ import annotations

import json
from datetime import timedelta

from insights.services import booking_pages_name, workspace_activity_ingest
from syncing.errors import RecordError
from syncing.providers.video_platform import schemas, writes
from syncing.providers.video_platform.client import VideoPlatformClient
from syncing.runs import RunRecorder
from syncing.validation import validate_records

# Events stored upstream a little before a contact's updated_at moved (clock skew, slow
# writes) are still read by the next incremental run.
LOOKBACK = timedelta(minutes=5)
NO_EMAIL_DOMAIN = "no-email.invalid"
# Items per ingestion call: PostgreSQL takes at most 65,535 parameters in one INSERT.
BATCH = 1000
RECORDING_STATUSES = {"started", "uploaded", "available", "failed"}


class _Pull:
    def __init__(self, run: RunRecorder):
        self.run = run
        self.client: VideoPlatformClient = run.client()  # type: ignore[assignment]
        self.connection = run.connection
        self.workspace = run.connection.workspace
        self.prefix = f"nexus:{self.client.workspace_id}:"
        self.pages_by_id: dict[str, dict] = {}

    def valid(self, schema, records) -> list[dict]:
        good = []
        for record in validate_records(schema, records):
            if isinstance(record, RecordError):
                self.run.record_failure(record)
            else:
                good.append({**record, "id": str(record["id"])})
        return good

    # --- rooms, booking pages, recordings --------------------------------------------------

    def rooms(self) -> None:
        rooms = [
            {
                "id": room["id"],
                "name": room["name"],
                "created_at": writes.unix(room["created_at"]),
                "properties": {k: v for k, v in room.items() if k != "id"},
            }
            for room in self.valid(schemas.Room, self.client.rooms())
        ]
        _, counts = writes.video_rooms_write(connection=self.connection, rooms=rooms)
        self.run.count(**counts)

    def booking_pages(self) -> None:
        pages = self.valid(schemas.BookingPage, self.client.booking_pages())
        self.pages_by_id = {page["id"]: page for page in pages}
        booking_pages_name(
            workspace=self.workspace, titles={page["slug"]: page["title"] for page in pages}
        )

    def recordings(self) -> None:
        for page in self.client.recording_pages():
            records = []
            for record in self.valid(schemas.Recording, page):
                if record["status"] in RECORDING_STATUSES:
                    records.append(record)
                else:
                    self.run.record_failure(
                        RecordError(
                            f"unknown recording status {record['status']!r}",
                            upstream_id=record["id"],
                        )
                    )
            rooms = self.room_ids(
                [
                    {"id": str(r["room_id"]), "name": r.get("room_name"), "at": r["created_at"]}
                    for r in records
                ]
            )
            items = {
                f"{self.prefix}recording:{r['id']}": {
                    "id": f"{self.prefix}recording:{r['id']}",
                    "kind": "recording",
                    "room_id": rooms[str(r["room_id"])],
                    "duration_seconds": r["duration"],
                    "status": r["status"],
                    "at": writes.unix(r["created_at"]),
                }
                for r in records
                if str(r["room_id"]) in rooms
            }
            updated = writes.recordings_update(workspace_id=self.workspace.pk, recordings=items)
            accepted = workspace_activity_ingest(
                workspace=self.workspace, items=list(items.values())
            )
            self.run.count(
                created=accepted.accepted,
                updated=len(updated),
                unchanged=len(items) - accepted.accepted - len(updated),
            )
            self.run.checkpoint()

    def room_ids(self, refs: list[dict]) -> dict[str, object]:
        """Local room ids of ``{id, name, display_name?, at}`` references; rooms not seen
        before are created from the reference's names (one without a name is a failure)."""
        known = writes.video_room_ids(
            connection=self.connection, upstream_ids={ref["id"] for ref in refs}
        )
        rooms = {}
        for ref in refs:
            if ref["id"] in known and not ref.get("display_name"):
                continue
            if ref.get("name"):
                rooms[ref["id"]] = {
                    "id": ref["id"],
                    "name": ref["name"],
                    "display_name": ref.get("display_name"),
                    "created_at": writes.unix(ref["at"]),
                }
            elif ref["id"] not in known:
                self.run.record_failure(
                    RecordError("an unknown room without a name", upstream_id=ref["id"])
                )
        if rooms:
            known.update(
                writes.video_rooms_write(connection=self.connection, rooms=list(rooms.values()))[0]
            )
        return known

    # --- contacts and events ---------------------------------------------------------------

    def contacts(self) -> None:
        started = int(self.run.run.started_at.timestamp())
        until = _cursor_until(self.run.run.cursor_before)
        since = None
        if until is not None and not self.run.run.full_refresh:
            since = until - int(LOOKBACK.total_seconds())
        totals = set()
        for page, total in self.client.contact_pages(since=since):
            totals.add(total)
            self.contact_page(self.valid(schemas.Contact, page))
            self.run.checkpoint()
        # A list that changed size under the run may have hidden a contact: read it again.
        self.run.cursor_after = (
            {"until": started} if len(totals) <= 1 else self.run.run.cursor_before
        )

    def contact_page(self, contacts: list[dict]) -> None:
        for contact in contacts:
            contact["email"] = (contact["email"] or f"{contact['id']}@{NO_EMAIL_DOMAIN}").lower()
            contact["created_at"] = writes.unix(contact["created_at"])
        stored = writes.contacts_write(workspace_id=self.workspace.pk, contacts=contacts)
        prefix = self.prefix + "event:"
        counts = writes.pulled_event_counts(
            contact_ids=[pk for pk, _ in stored.values()], prefix=prefix
        )
        changed = [c for c in contacts if counts.get(stored[c["email"]][0], 0) != c["event_count"]]
        events = {
            c["email"]: self.valid(schemas.ContactEvent, self.client.events(c["id"]))
            for c in changed
        }
        items = self.event_items(changed, events)
        writes.pulled_events_prune(
            contact_ids=[stored[c["email"]][0] for c in changed], prefix=prefix, keep=set(items)
        )
        batch = list(items.values())
        for start in range(0, len(batch), BATCH):
            workspace_activity_ingest(workspace=self.workspace, items=batch[start : start + BATCH])
        read = {contact["email"] for contact in changed}
        for contact in contacts:
            outcome = stored[contact["email"]][1]
            if outcome == "unchanged" and contact["email"] in read:
                outcome = "updated"  # its events changed
            self.run.count(**{outcome: 1})

    def event_items(self, contacts: list[dict], events: dict[str, list[dict]]) -> dict[str, dict]:
        """The contacts' events as ingestion items by client id."""
        rooms = self.room_ids(
            [
                {
                    "id": str(e["room_id"]),
                    "name": e.get("room_name"),
                    "display_name": e.get("room_display_name"),
                    "at": e["created_at"],
                }
                for contact_events in events.values()
                for e in contact_events
                if e.get("room_id") is not None
            ]
        )
        items = {}
        for contact in contacts:
            for event in events[contact["email"]]:
                room = str(event["room_id"]) if event.get("room_id") is not None else None
                if room is not None and room not in rooms:
                    continue  # recorded by room_ids
                client_id = f"{self.prefix}event:{event['id']}"
                items[client_id] = {
                    "id": client_id,
                    "kind": "contact_event",
                    "type": event["event_type"],
                    "contact": {
                        "email": contact["email"],
                        "name": contact["name"] or "",
                        "created_at": contact["created_at"],
                    },
                    "room_id": rooms[room] if room else None,
                    "booking_page": self.booking_page(event),
                    "metadata": _metadata(event.get("metadata")),
                    "at": writes.unix(event["created_at"]),
                }
        return items

    def booking_page(self, event: dict) -> dict | None:
        listed = self.pages_by_id.get(str(event.get("booking_page_id")), {})
        slug = event.get("booking_page_slug") or listed.get("slug")
        if not slug:
            return None
        return {"slug": slug, "title": event.get("booking_page_title") or listed.get("title")}


def workspace_pull(run: RunRecorder) -> None:
    pull = _Pull(run)
    pull.rooms()
    pull.booking_pages()
    pull.recordings()
    pull.contacts()


def _metadata(raw: str | None) -> dict:
    """The event's metadata JSON string as an object; anything else is kept under ``value``
    (the ingestion API stores objects only)."""
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"value": raw}
    return value if isinstance(value, dict) else {"value": value}


def _cursor_until(cursor) -> int | None:
    if isinstance(cursor, dict) and isinstance(cursor.get("until"), int):
        return cursor["until"]
    return None
