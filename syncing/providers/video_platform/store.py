"""What the pull and the webhooks of one video-rooms connection share: upstream records
(validated by ``schemas``) mapped to ours and stored, through ``insights.services`` for
events and recordings, so both paths write the same rows under the same client ids
(``nexus:<upstream workspace>:event:<id>``, ``…:recording:<id>``) and never store one twice.

A record that cannot be stored is handed to ``failed``: the pull records it and goes on, a
webhook refuses the delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from rest_framework.exceptions import ParseError, ValidationError

from config.parsers import json_limits_check
from insights.services import workspace_activity_ingest
from syncing.errors import RecordError
from syncing.models import Connection
from syncing.providers.video_platform import writes
from syncing.validation import validate_records

NO_EMAIL_DOMAIN = "no-email.invalid"
RECORDING_STATUSES = {"started", "uploaded", "available", "failed"}


class VideoStore:
    def __init__(
        self,
        connection: Connection,
        *,
        upstream_workspace: str,
        failed: Callable[[RecordError], None],
    ):
        self.connection = connection
        self.workspace = connection.workspace
        self.prefix = f"nexus:{upstream_workspace}:"
        self.failed = failed
        # Booking pages by upstream id (the pull's list), for events that name only the id.
        self.pages_by_id: dict[str, dict] = {}
        # Rooms known to be stored (local id, title) by upstream id: each is looked up once.
        self.rooms: dict[str, tuple[object, str]] = {}

    def valid(self, schema, records) -> list[dict]:
        good = []
        for record in validate_records(schema, records):
            if not isinstance(record, RecordError) and (problem := limits_problem(record)):
                record = RecordError(
                    f"invalid record: {problem_text(problem)}", upstream_id=str(record["id"])
                )
            if isinstance(record, RecordError):
                self.failed(record)
            else:
                good.append({**record, "id": str(record["id"])})
        return good

    # --- rooms and recordings --------------------------------------------------------------

    def rooms_write(self, rooms: list[dict]) -> dict[str, int]:
        """Valid room records (the room list's, or a ``room.created``'s); returns the counts."""
        records = [
            {
                "id": room["id"],
                "name": room["name"],
                "created_at": writes.unix(room["created_at"]),
                "properties": {k: v for k, v in room.items() if k != "id"},
            }
            for room in rooms
        ]
        known, counts = writes.video_rooms_write(connection=self.connection, rooms=records)
        self.rooms.update(known)
        return counts

    def recordings_write(self, records: list[dict], *, forward_only: bool = False) -> dict:
        """Valid recording records, created or brought to upstream's status and duration;
        ``forward_only``: a status earlier in the lifecycle than the stored one is ignored
        (a late webhook delivery). Returns the counts."""
        known = []
        for record in records:
            if record["status"] in RECORDING_STATUSES:
                known.append(record)
            else:
                self.failed(
                    RecordError(
                        f"unknown recording status {record['status']!r}", upstream_id=record["id"]
                    )
                )
        rooms = self.room_ids(
            [
                {"id": str(r["room_id"]), "name": r.get("room_name"), "at": r["created_at"]}
                for r in known
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
            for r in known
            if str(r["room_id"]) in rooms
        }
        updated = writes.recordings_update(
            workspace_id=self.workspace.pk, recordings=items, forward_only=forward_only
        )
        accepted = workspace_activity_ingest(workspace=self.workspace, items=list(items.values()))
        return {
            "created": accepted.accepted,
            "updated": len(updated),
            "unchanged": len(items) - accepted.accepted - len(updated),
        }

    def room_ids(self, refs: list[dict]) -> dict[str, object]:
        """Local room ids of ``{id, name, display_name?, at}`` references; rooms not seen
        before are created from the reference's names (one without a name is a failure)."""
        unseen = {ref["id"] for ref in refs} - self.rooms.keys()
        if unseen:
            self.rooms.update(
                writes.video_rooms_known(connection=self.connection, upstream_ids=unseen)
            )
        rooms = {}
        for ref in refs:
            named = ref.get("display_name")
            if ref["id"] in self.rooms and (not named or named == self.rooms[ref["id"]][1]):
                continue
            if ref.get("name"):
                rooms[ref["id"]] = {
                    "id": ref["id"],
                    "name": ref["name"],
                    "display_name": ref.get("display_name"),
                    "created_at": writes.unix(ref["at"]),
                }
            elif ref["id"] not in self.rooms:
                self.failed(RecordError("an unknown room without a name", upstream_id=ref["id"]))
        if rooms:
            self.rooms.update(
                writes.video_rooms_write(connection=self.connection, rooms=list(rooms.values()))[0]
            )
        return {ref["id"]: self.rooms[ref["id"]][0] for ref in refs if ref["id"] in self.rooms}

    # --- contacts and events ---------------------------------------------------------------

    def contacts_write(self, contacts: list[dict]) -> dict[str, tuple]:
        """Valid contact records (given ``email`` and ``created_at`` as stored here, in place);
        returns ``writes.contacts_write``'s answer by email."""
        for contact in contacts:
            contact["email"] = (contact["email"] or f"{contact['id']}@{NO_EMAIL_DOMAIN}").lower()
            contact["created_at"] = writes.unix(contact["created_at"])
        return writes.contacts_write(workspace_id=self.workspace.pk, contacts=contacts)

    def event_items(self, contacts: list[dict], events: dict[str, list[dict]]) -> dict[str, dict]:
        """The contacts' (stored) valid events, by contact email, as ingestion items by
        client id."""
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
                    continue  # handed to failed by room_ids
                metadata = _metadata(event.get("metadata"))
                problem = limits_problem({"metadata": metadata})
                if problem:
                    self.failed(RecordError(problem_text(problem), upstream_id=event["id"]))
                    continue
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
                    "metadata": metadata,
                    "at": writes.unix(event["created_at"]),
                }
        return items

    def booking_page(self, event: dict) -> dict | None:
        listed = self.pages_by_id.get(str(event.get("booking_page_id")), {})
        slug = event.get("booking_page_slug") or listed.get("slug")
        if not slug:
            return None
        return {"slug": slug, "title": event.get("booking_page_title") or listed.get("title")}


def limits_problem(value) -> tuple[str, str] | None:
    """``(field, message)`` when ``value`` breaks the API's JSON limits (``config.parsers``:
    a NUL character, which PostgreSQL stores in neither text nor jsonb, or nesting too deep;
    the field is "" for the latter)."""
    try:
        json_limits_check(value)
    except ValidationError as error:
        field, messages = next(iter(error.detail.items()))
        return str(field), str(messages[0])
    except ParseError as error:
        return "", str(error.detail)
    return None


def problem_text(problem: tuple[str, str]) -> str:
    field, message = problem
    return f"{field}: {message}" if field else message


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
