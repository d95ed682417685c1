"""A fake rooms platform (Flowla API v2, spec 001 and 000) holding rooms in memory; the
faults are those of ``server.FakeUpstream``. A record missing a required field is made by
deleting the field from ``fake.rooms[id]``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.syncing.fakes.server import FakeUpstream, iso

API_KEY = "fake-rooms-key-5f2c9a"
ROOM_FIELDS = (
    "title",
    "description",
    "userId",
    "companyId",
    "statusId",
    "labelId",
    "hsDealId",
    "sfOpportunityId",
    "attioDealId",
    "coverTitle",
    "coverDescription",
    "coverDisabled",
    "themeColor",
    "navColor",
)


class FakeRoomsPlatform(FakeUpstream):
    auth_header = "x-flowla-api-key"

    def __init__(self, *, api_key: str = API_KEY, seed: int = 7):
        super().__init__(api_key=api_key, seed=seed)
        self.rooms: dict[str, dict] = {}
        self.analytics: dict[str, dict] = {}
        self.statuses = [
            {"id": "st-open", "title": "Open", "defaultStatus": True},
            {"id": "st-won", "title": "Won", "defaultStatus": False},
        ]

    def add_room(self, **fields) -> dict:
        now = fields.pop("at", None) or datetime.now(UTC)
        room = {
            "id": str(uuid.uuid4()),
            **dict.fromkeys(ROOM_FIELDS),
            "title": "Untitled",
            "isTemplate": False,
            "createdAt": iso(now),
            "updatedAt": iso(now),
            "totalEngagements": 0,
            "lastEngagedAt": None,
            "totalViews": 0,
            "totalUniqueViews": 0,
            "engagements": None,
        }
        room.update(fields)
        with self._lock:
            self.rooms[room["id"]] = room
        return room

    def list_rooms(self, query: dict) -> tuple[int, object]:
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", "10"))
        except ValueError:
            return 400, {"message": "page and limit must be integers"}
        if page < 1 or not 1 <= limit <= 100:
            return 400, {"message": "page must be >= 1 and limit 1..100"}
        sort_by = query.get("sortBy", "createdAt")
        descending = query.get("sortDirection", "DESC").upper() == "DESC"
        with self._lock:
            rooms = sorted(
                self.rooms.values(),
                key=lambda room: (room.get(sort_by) or "", room.get("id") or ""),
                reverse=descending,
            )
        start = (page - 1) * limit
        return 200, {
            "results": rooms[start : start + limit],
            "page": page,
            "limit": limit,
            "total": len(rooms),
        }

    def create_room(self, body: dict) -> tuple[int, object]:
        if not isinstance(body, dict) or not body.get("title"):
            return 400, {"message": "title is required"}
        fields = {key: body[key] for key in ROOM_FIELDS if key in body}
        return 201, self.add_room(**fields)

    def update_room(self, room_id: str, body: dict) -> tuple[int, object]:
        with self._lock:
            room = self.rooms.get(room_id)
            if room is None:
                return 404, {"message": "room not found"}
            room.update({key: body[key] for key in ROOM_FIELDS if key in body})
            room["updatedAt"] = iso(datetime.now(UTC))
            return 200, room

    def room_analytics(self, room_id: str) -> tuple[int, object]:
        with self._lock:
            room = self.rooms.get(room_id)
            if room is None:
                return 404, {"message": "room not found"}
            return 200, self.analytics.get(
                room_id,
                {
                    "title": room["title"],
                    "progressPercentage": 0,
                    "internalCompany": {"type": "internal", "name": "Flowla"},
                    "assignees": [],
                    "sections": [],
                },
            )

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "v2"]:
            return 404, {"message": "not found"}
        rest = parts[2:]
        if method == "GET" and rest == ["statuses"]:
            return 200, self.statuses
        if rest == ["rooms"]:
            if method == "GET":
                return self.list_rooms(query)
            if method == "POST":
                return self.create_room(body)
        if len(rest) == 2 and rest[0] == "rooms":
            if method == "GET":
                room = self.rooms.get(rest[1])
                return (200, room) if room else (404, {"message": "room not found"})
            if method == "PATCH":
                return self.update_room(rest[1], body)
        if len(rest) == 3 and rest[0] == "rooms" and rest[2] == "analytics" and method == "GET":
            return self.room_analytics(rest[1])
        return 404, {"message": "not found"}
