"""A fake rooms platform (Flowla API v2, spec 001 and 000) holding rooms in memory; the
faults are those of ``server.FakeUpstream``. A record missing a required field is made by
deleting the field from ``fake.rooms[id]``.

``populate`` fills it with rooms whose analytics have sections, pages, action items,
assignees, viewership and engagements, drawn from a fixed cast of people (``INTERNAL`` are the
seller's team, ``EXTERNAL`` buyers).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
# (email, name, job title): the same person always comes with the same details.
INTERNAL = [
    ("jordan@seller.example", "Jordan Avery", "Account Executive"),
    ("delia@seller.example", "Delia Barbat", "Solutions Engineer"),
    ("sam@seller.example", "Sam Okafor", "Sales Manager"),
]
EXTERNAL = [
    (f"buyer{n}@buyer{n % 7}.example", f"Buyer {n}", f"Title {n % 5}" if n % 3 else "")
    for n in range(40)
]
ENGAGEMENT_TYPES = ("VIEW", "CLICK", "COMMENT", "DOWNLOAD", "REACTION", "SHARE", "TASK_COMPLETED")
ACTION_STATUSES = ("todo", "in_progress", "done", "cancelled")


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
        # Called with the room id before each analytics answer (to change things mid-run).
        self.on_analytics: Callable[[str], object] | None = None

    # --- generated content ------------------------------------------------------------------

    def populate(self, count: int, *, start: datetime | None = None, seed: int = 11) -> list[dict]:
        """``count`` rooms with analytics, updated one second apart from ``start``."""
        rng = random.Random(seed)
        start = start or datetime.now(UTC) - timedelta(days=1)
        return [
            self.add_room_with_analytics(rng, at=start + timedelta(seconds=n)) for n in range(count)
        ]

    def add_room_with_analytics(self, rng: random.Random, *, at: datetime) -> dict:
        room = self.add_room(
            at=at,
            title=f"Deal {rng.randrange(10**6)}",
            description=rng.choice([None, "Mutual plan", "  spaced  "]),
            statusId=rng.choice([None, "st-open", "st-won", "st-unlisted"]),
            labelId=rng.choice([None, "lb-1", "lb-2"]),
            companyId=rng.choice([None, f"co-{rng.randrange(20)}"]),
            hsDealId=rng.choice([None, str(rng.randrange(10**9))]),
            coverTitle=rng.choice([None, "Welcome"]),
            coverDisabled=rng.choice([None, True, False]),
            themeColor=rng.choice([None, "#FF5500"]),
            navColor=rng.choice([None, "flow-org-color", "#112233"]),
            isTemplate=rng.random() < 0.05,
        )
        analytics = self.analytics[room["id"]] = self.make_analytics(rng, at=at)
        # Upstream counts every visit, including viewers who are no longer on the room.
        visitors = [a for a in analytics["assignees"] if "viewCount" in a]
        room["totalUniqueViews"] = len(visitors) + rng.randrange(3)
        room["totalViews"] = sum(a["viewCount"] for a in visitors) + rng.randrange(10)
        return room

    def make_analytics(self, rng: random.Random, *, at: datetime) -> dict:
        owner = rng.choice(INTERNAL)
        primary = rng.choice(EXTERNAL)
        team = [owner] + [p for p in rng.sample(INTERNAL, 1) if p != owner]
        buyers = [primary, *rng.sample([p for p in EXTERNAL if p != primary], 2)]
        # Each buyer's visits to this room: the same lastSeen and viewCount wherever named.
        seen = {
            p: (at - timedelta(minutes=rng.randrange(600)), rng.randrange(1, 9)) for p in buyers
        }
        # Everyone on the room (spec 000); actions and viewership name only them.
        assignees = [_person(p, internal=True, owner=p == owner) for p in team]
        assignees += [
            _person(p, internal=False, primary=p == primary, seen=seen[p]) for p in buyers
        ]
        on_room = team + buyers
        # As nested in viewership and action assignees: the same person, without job title.
        summary = {p: _summary(a) for p, a in zip(on_room, assignees, strict=True)}

        def viewership() -> list[dict]:
            entries = []
            for person in rng.sample(on_room, rng.randrange(3)):
                entries.append(
                    {
                        "user": summary[person],
                        "durationInSeconds": rng.randrange(600),
                        "timesViewed": rng.randrange(1, 6),
                        "engagements": [
                            {
                                "type": rng.choice(ENGAGEMENT_TYPES),
                                "createdAt": iso(at - timedelta(minutes=rng.randrange(10))),
                            }
                            for _ in range(rng.randrange(4))
                        ],
                    }
                )
            return entries

        sections = []
        for s in range(rng.randrange(1, 4)):
            steps = [
                {
                    "id": str(uuid.uuid4()),
                    "title": f"Page {s}.{n}",
                    "isVisibleToExternal": rng.random() < 0.8,
                    "viewership": viewership(),
                }
                for n in range(rng.randrange(4))
            ]
            actions = [
                {
                    "id": str(uuid.uuid4()),
                    "title": f"Action {s}.{n}",
                    "status": rng.choice(ACTION_STATUSES),
                    "description": rng.choice([None, "Sign it"]),
                    "internal": rng.random() < 0.2,
                    "dueDate": rng.choice([None, iso(at + timedelta(days=rng.randrange(30)))]),
                    "isOverdue": False,
                    "isVisibleToExternal": rng.random() < 0.9,
                    "actionType": rng.choice([None, "fill-form", "upload"]),
                    "assignees": [
                        {"type": "user", "user": summary[p]}
                        for p in rng.sample(on_room, rng.randrange(3))
                    ],
                    "viewership": viewership(),
                }
                for n in range(rng.randrange(3))
            ]
            sections.append(
                {
                    "id": str(uuid.uuid4()),
                    "title": f"Section {s}",
                    "isCompleted": rng.random() < 0.3,
                    "isVisibleToExternal": rng.random() < 0.9,
                    "steps": steps,
                    "actions": actions,
                }
            )
        return {
            "progressPercentage": round(rng.random() * 100, 2),
            "internalCompany": {"type": "internal", "name": "Seller"},
            "assignees": assignees,
            "sections": sections,
        }

    def touch(self, room_id: str, *, at: datetime | None = None, **fields) -> dict:
        """Change a room upstream (fields of the record) and bump its updatedAt."""
        with self._lock:
            room = self.rooms[room_id]
            room.update(fields)
            room["updatedAt"] = iso(at or datetime.now(UTC))
            return room

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
        if self.on_analytics is not None:
            self.on_analytics(room_id)
        with self._lock:
            room = self.rooms.get(room_id)
            if room is None:
                return 404, {"message": "room not found"}
            analytics = self.analytics.get(
                room_id,
                {
                    "progressPercentage": 0,
                    "internalCompany": {"type": "internal", "name": "Flowla"},
                    "assignees": [],
                    "sections": [],
                },
            )
            return 200, {"title": room["title"], **analytics}

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


def _person(
    person: tuple[str, str, str],
    *,
    internal: bool,
    owner: bool = False,
    primary: bool = False,
    seen: tuple[datetime, int] | None = None,
) -> dict:
    """An analytics assignee as upstream lists it (with job title); ``seen`` is an external
    person's (lastSeen, viewCount)."""
    email, name, title = person
    if internal:
        return {
            "belongsTo": "internal_organization",
            "email": email,
            "name": name,
            "title": title,
            "isRoomOwner": owner,
        }
    return {
        "belongsTo": "external_organization",
        "email": email,
        "name": name,
        "title": title,
        "isPrimaryContact": primary,
        "lastSeen": iso(seen[0]) if seen else None,
        "viewCount": seen[1] if seen else 0,
    }


def _summary(person: dict) -> dict:
    """The person as nested in viewership and action assignees (no job title)."""
    return {key: value for key, value in person.items() if key != "title"}
