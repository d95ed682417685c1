"""A fake rooms platform (Flowla API v2, spec 001 and 000) on 127.0.0.1: a real HTTP server in
a thread, holding rooms in memory, with faults that can be switched on per request.

Faults (``inject`` for the next matching requests, ``fault_rate`` for random ones):
    "429"            429 with ``Retry-After: <retry_after seconds>``
    "429-date"       429 with ``Retry-After: <HTTP date retry_after seconds ahead>``
    "429-bare"       429 without Retry-After
    "500", "503"     that status, nothing applied
    "timeout"        answers only after ``slow_seconds`` (longer than the client's read timeout)
    "malformed"      200 with a body that is not JSON
    "lost"           applies the request, then closes the connection without answering
"""

from __future__ import annotations

import json
import random
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path is None or path.startswith(self.path))


class FakeRoomsPlatform:
    def __init__(self, *, api_key: str = API_KEY, seed: int = 7):
        self.api_key = api_key
        self.rooms: dict[str, dict] = {}
        self.analytics: dict[str, dict] = {}
        self.statuses = [
            {"id": "st-open", "title": "Open", "defaultStatus": True},
            {"id": "st-won", "title": "Won", "defaultStatus": False},
        ]
        self.requests: list[tuple[str, str]] = []
        self.faults: deque[Fault] = deque()
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = ("503",)
        self.fault_methods: tuple[str, ...] = ("GET", "POST", "PATCH")
        self.retry_after = 1
        self.slow_seconds = 1.5
        self.faults_served: list[str] = []
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._request_counter = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeRoomsPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- state ------------------------------------------------------------------------------

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

    def inject(self, kind: str, *, times: int = 1, method: str | None = None, path=None) -> None:
        with self._lock:
            self.faults.append(Fault(kind=kind, method=method, path=path, times=times))

    def count(self, method: str, path_prefix: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))

    def _take_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    self.faults_served.append(fault.kind)
                    return fault.kind
            if method in self.fault_methods and self._rng.random() < self.fault_rate:
                kind = self._rng.choice(self.fault_kinds)
                self.faults_served.append(kind)
                return kind
        return None

    def next_request_id(self) -> str:
        with self._lock:
            self._request_counter += 1
            return f"req-{self._request_counter}"

    # --- operations (status, body) ----------------------------------------------------------

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


def _handler_for(fake: FakeRoomsPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in separate writes; without this, delayed ACKs add
            # 40 ms to every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PATCH(self):
            self._serve("PATCH")

        def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-request-id", fake.next_request_id())
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _json(self, status: int, body, headers: dict | None = None) -> None:
            self._send(status, json.dumps(body).encode(), headers)

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with fake._lock:
                fake.requests.append((method, split.path))
            if self.headers.get("x-flowla-api-key") != fake.api_key:
                self._json(401, {"message": "Invalid API key"})
                return
            fault = fake._take_fault(method, split.path)
            if fault and fault.startswith("429"):
                headers = {}
                if fault == "429":
                    headers["Retry-After"] = str(fake.retry_after)
                elif fault == "429-date":
                    moment = datetime.now(UTC) + timedelta(seconds=fake.retry_after)
                    headers["Retry-After"] = format_datetime(moment, usegmt=True)
                self._json(429, {"message": "Too many requests"}, headers)
                return
            if fault in ("500", "503"):
                self._json(int(fault), {"message": "Upstream trouble"})
                return
            if fault == "timeout":
                threading.Event().wait(fake.slow_seconds)
            if fault == "malformed":
                self._send(200, b'{"results": [ {"id": "trunc')
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._json(400, {"message": "body is not JSON"})
                return
            query = {key: values[-1] for key, values in parse_qs(split.query).items()}
            status, payload = fake.route(method, split.path, query, body)
            if fault == "lost":
                self.close_connection = True
                return
            self._json(status, payload)

    return Handler
