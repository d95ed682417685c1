"""A fake video-rooms platform (Livestorm Nexus API, base ``/api``, ``Authorization: Bearer
lnx_…``), speaking the shapes of specs/README.md (times in Unix seconds):

    GET /api/workspaces/{ws}/rooms                       {rooms: [...]}
    GET /api/workspaces/{ws}/booking-pages               {booking_pages: [...]}
    GET /api/dashboard/recordings?page&limit             {recordings: [...], total}
    GET /api/workspaces/{ws}/contacts?page&limit&updated_since   {contacts: [...], total}
    GET /api/workspaces/{ws}/contacts/{id}/events?page&limit     {events: [...], total}

Lists are oldest first (contacts by creation). Paths other than the two rooms/recordings ones
are the assumptions the provider's README states. ``webhook`` makes a delivery signed as the
platform signs it (``sign``); ``join``, ``leave``, ``room_create``, ``recording_start`` and
``recording_complete`` change the state and return the delivery that announces the change,
its ``data`` being the record as the lists show it (a join or leave: the contact event, with
the contact under ``contact``). Faults are those of ``server.FakeUpstream``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.syncing.fakes.server import FakeUpstream

API_KEY = "lnx_test_0123456789abcdef"
WEBHOOK_SECRET = "whsec_test_fedcba9876543210"
WORKSPACE_ID = "42"
ROOMS = [
    ("team-standup-1234", "Team Standup"),
    ("product-demo-5678", "Product Demo"),
    ("onboarding-9012", "Onboarding"),
    ("office-hours-3456", "Office Hours"),
    ("all-hands-7890", "All Hands"),
    ("quiet-room-1111", "Quiet Room"),
]
PAGES = [("intro-call", "30-min Intro Call"), ("demo", "Demo Session"), ("support", "Support")]


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeVideoPlatform(FakeUpstream):
    def __init__(self, *, api_key: str = API_KEY, seed: int = 7):
        super().__init__(api_key=api_key, seed=seed)
        self.workspace_id = WORKSPACE_ID
        self.rooms: dict[int, dict] = {}
        self.booking_pages: list[dict] = []
        self.recordings: list[dict] = []
        self.contacts: dict[int, dict] = {}
        self.events: dict[int, list[dict]] = {}
        self.ignore_since = False
        self.on_contacts: Callable[[dict], object] | None = None
        self._ids = 0

    def authorized(self, method: str, path: str, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {self.api_key}"

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    # --- state ------------------------------------------------------------------------------

    def populate(self, contacts: int, *, start: datetime | None = None, seed: int = 11) -> None:
        """The rooms and booking pages above, two recordings per room but the last, and
        ``contacts`` contacts (one in ten without an email) with 0-8 events each, one contact
        an hour apart from ``start``."""
        rng = random.Random(seed)
        start = start or datetime.now(UTC) - timedelta(days=20)
        for name, _ in ROOMS:
            self.add_room(name, at=start - timedelta(days=1))
        for slug, title in PAGES:
            self.booking_pages.append(
                {"id": self._next_id(), "title": title, "slug": slug, "created_at": unix(start)}
            )
        for room in list(self.rooms.values())[:-1]:
            for _ in range(2):
                self.add_recording(room["id"], duration=rng.randint(60, 3600), at=start)
        for n in range(contacts):
            at = start + timedelta(hours=n)
            email = None if n % 10 == 9 else f"person{n:05d}@example.com"
            contact = self.add_contact(f"Person {n}", email, at=at)
            for offset in range(rng.randint(0, 8)):
                kind = rng.choice(["room_join", "room_join", "booking", "room_leave"])
                self.add_event(contact["id"], kind, at=at + timedelta(minutes=offset), rng=rng)

    def add_room(self, name: str, *, at: datetime) -> dict:
        with self._lock:
            room = {
                "id": self._next_id(),
                "name": name,
                "user_id": 1,
                "created_at": unix(at),
                "last_used_at": None,
                "recording_count": 0,
                "scheduled_at": None,
                "accent_color": "#6644ff",
                "waiting_room_enabled": False,
                "waiting_room_message": None,
            }
            self.rooms[room["id"]] = room
            return room

    def add_recording(self, room_id: int, *, duration: int, at: datetime, status="available"):
        with self._lock:
            room = self.rooms[room_id]
            room["recording_count"] += 1
            recording = {
                "id": self._next_id(),
                "room_id": room_id,
                "room_name": room["name"],
                "archive_id": f"arch-{self._ids}",
                "title": f"{room['name']} recording",
                "url": f"https://video.example/recordings/{self._ids}.mp4",
                "duration": duration,
                "size": duration * 1000,
                "status": status,
                "created_at": unix(at),
            }
            self.recordings.append(recording)
            return recording

    def add_contact(self, name: str | None, email: str | None, *, at: datetime) -> dict:
        with self._lock:
            contact = {
                "id": self._next_id(),
                "workspace_id": int(self.workspace_id),
                "name": name,
                "email": email,
                "event_count": 0,
                "last_seen_at": None,
                "created_at": unix(at),
                "updated_at": unix(at),
            }
            self.contacts[contact["id"]] = contact
            self.events[contact["id"]] = []
            return contact

    def add_event(
        self, contact_id: int, event_type: str, *, at: datetime | None = None, rng=None, room=None
    ) -> dict:
        """An event of the contact (in a random room, or through a random booking page for
        a booking); the contact's count, last seen and updated times move as upstream's do."""
        rng = rng or self._rng
        at = at or datetime.now(UTC)
        with self._lock:
            event = {
                "id": self._next_id(),
                "contact_id": contact_id,
                "workspace_id": int(self.workspace_id),
                "event_type": event_type,
                "room_id": None,
                "room_name": None,
                "room_display_name": None,
                "booking_page_id": None,
                "booking_page_title": None,
                "booking_page_slug": None,
                "metadata": None,
                "created_at": unix(at),
            }
            if event_type == "booking":
                page = rng.choice(self.booking_pages)
                event.update(
                    booking_page_id=page["id"],
                    booking_page_title=page["title"],
                    booking_page_slug=page["slug"],
                    metadata=json.dumps({"answers": {"company": "Acme"}}),
                )
            else:
                room = room or rng.choice(list(self.rooms.values())[:-1])
                event.update(
                    room_id=room["id"],
                    room_name=room["name"],
                    room_display_name=dict(ROOMS).get(room["name"]),
                    metadata=json.dumps({"device": "desktop"}) if rng.random() < 0.5 else None,
                )
            self.events[contact_id].append(event)
            contact = self.contacts[contact_id]
            contact["event_count"] = len(self.events[contact_id])
            contact["last_seen_at"] = max(contact["last_seen_at"] or 0, unix(at))
            contact["updated_at"] = max(contact["updated_at"], unix(at))
            return event

    def all_events(self) -> list[dict]:
        return [event for events in self.events.values() for event in events]

    # --- webhooks ---------------------------------------------------------------------------

    def webhook(
        self, event: str, data: dict, *, at: datetime | None = None, secret: str = WEBHOOK_SECRET
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery ``{event, timestamp, data}`` and its headers, signed with ``secret``."""
        timestamp = unix(at or datetime.now(UTC))
        body = json.dumps({"event": event, "timestamp": timestamp, "data": data}).encode()
        headers = {
            "X-Webhook-Signature": sign(body, secret),
            "X-Webhook-Timestamp": str(timestamp),
            "X-Webhook-Event": event,
        }
        return body, headers

    def _presence(self, event: str, contact_id: int, room: dict) -> tuple[bytes, dict]:
        kind = "room_join" if event == "room.joined" else "room_leave"
        record = self.add_event(contact_id, kind, room=room)
        return self.webhook(event, {**record, "contact": dict(self.contacts[contact_id])})

    def join(self, contact_id: int, room: dict) -> tuple[bytes, dict]:
        return self._presence("room.joined", contact_id, room)

    def leave(self, contact_id: int, room: dict) -> tuple[bytes, dict]:
        return self._presence("room.left", contact_id, room)

    def room_create(self, name: str) -> tuple[dict, tuple[bytes, dict]]:
        room = self.add_room(name, at=datetime.now(UTC))
        return room, self.webhook("room.created", dict(room))

    def recording_start(self, room_id: int) -> tuple[dict, tuple[bytes, dict]]:
        recording = self.add_recording(room_id, duration=0, at=datetime.now(UTC), status="started")
        return recording, self.webhook("recording.started", dict(recording))

    def recording_complete(self, recording: dict, *, duration: int) -> tuple[bytes, dict]:
        with self._lock:
            recording.update(duration=duration, size=duration * 1000, status="available")
        return self.webhook("recording.completed", dict(recording))

    # --- API --------------------------------------------------------------------------------

    def _page(self, records: list, key: str, query: dict) -> tuple[int, object]:
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", "20"))
        except ValueError:
            return 400, {"error": "bad_request", "message": "page and limit must be integers"}
        if page < 1 or not 1 <= limit <= 100:
            return 400, {"error": "bad_request", "message": "page >= 1 and limit 1..100"}
        chunk = records[(page - 1) * limit : page * limit]
        return 200, {key: chunk, "total": len(records), "page": page, "limit": limit}

    def list_contacts(self, query: dict) -> tuple[int, object]:
        if self.on_contacts is not None:
            self.on_contacts(query)
        since = query.get("updated_since")
        with self._lock:
            found = sorted(self.contacts.values(), key=lambda c: (c["created_at"], c["id"]))
            if since is not None and not self.ignore_since:
                found = [c for c in found if c["updated_at"] >= int(since)]
            return self._page([dict(c) for c in found], "contacts", query)

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if method != "GET" or parts[:1] != ["api"]:
            return 404, {"error": "not_found"}
        rest = parts[1:]
        if rest == ["dashboard", "recordings"]:
            with self._lock:
                return self._page(list(self.recordings), "recordings", query)
        if rest[:2] != ["workspaces", self.workspace_id]:
            return 403, {"error": "forbidden"}
        rest = rest[2:]
        with self._lock:
            if rest == ["rooms"]:
                return 200, {"rooms": list(self.rooms.values())}
            if rest == ["booking-pages"]:
                return 200, {"booking_pages": list(self.booking_pages)}
        if rest == ["contacts"]:
            return self.list_contacts(query)
        if len(rest) == 3 and rest[0] == "contacts" and rest[2] == "events":
            events = self.events.get(int(rest[1])) if rest[1].isdigit() else None
            if events is None:
                return 404, {"error": "not_found"}
            with self._lock:
                return self._page(list(events), "events", query)
        return 404, {"error": "not_found"}
