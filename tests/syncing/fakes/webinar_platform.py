"""A fake webinar platform (FLOW API v1, spec 004 and specs/README.md) holding operators,
sessions, registrants, surveys and compiled reports in memory; faults as ``server.FakeUpstream``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from tests.syncing.fakes.server import FakeUpstream, iso

API_SECRET = "fake-webinar-secret-81d0"
API = "/api/v1"
REGISTRANTS = f"{API}/reports/events/sessions/registrants/"
SURVEYS = f"{API}/reports/events/sessions/surveys/"
COMPILED = f"{API}/reports/events/sessions/compiled/"
PUBLIC = f"{API}/events/sessions/public/"


class FakeWebinarPlatform(FakeUpstream):
    auth_header = "api-secret"

    def __init__(self, *, api_key: str = API_SECRET, seed: int = 7):
        super().__init__(api_key=api_key, seed=seed)
        self.operators: list[dict] = [
            {
                "id": 1,
                "email": "host@flow.example",
                "firstName": "Hana",
                "lastName": "Host",
                "permission": 10,
            },
        ]
        self.sessions: dict[str, dict] = {}
        # The period each session is in (the fake does not compute it from the clock).
        self.periods: dict[str, str] = {}
        self.registrants: dict[str, list[dict]] = {}
        self.surveys: dict[str, list[dict]] = {}
        self.reports: dict[str, dict] = {}

    def add_session(self, *, period: str = "future", **fields) -> dict:
        token = fields.pop("token", None) or secrets.token_hex(8)
        session = {
            "token": token,
            "eventToken": f"ev-{token}",
            "title": "Webinar",
            "description": "",
            "date": "2026-12-01",
            "time": "15:00:00",
            "timezone": "Europe/Paris",
            "published": True,
            "duration": 1,
            "earlyAccessPeriod": 10,
            "createDate": iso(datetime.now(UTC)),
            "creator": {"id": 1},
            "operators": [],
            **fields,
        }
        with self._lock:
            self.sessions[token] = session
            self.periods[token] = period
            self.registrants.setdefault(token, [])
            self.surveys.setdefault(token, [])
        return session

    def add_registrant(self, session_token: str, **fields) -> dict:
        registrant = {
            "email": f"guest{len(self.registrants[session_token])}@example.com",
            "firstName": "Guest",
            "lastName": "Example",
            "registeredAt": iso(datetime.now(UTC)),
            "attended": False,
            **fields,
        }
        with self._lock:
            self.registrants[session_token].append(registrant)
        return registrant

    # --- operations -------------------------------------------------------------------------

    def list_sessions(self, query: dict) -> tuple[int, object]:
        period = query.get("period") or query.get("periodName")
        with self._lock:
            sessions = [
                dict(session)
                for token, session in self.sessions.items()
                if period is None or self.periods[token] == period
            ]
        if query.get("simple_analytics") == "1":
            for session in sessions:
                registrants = self.registrants[session["token"]]
                attendees = sum(1 for r in registrants if r["attended"])
                session["analytics"] = {
                    "registrants": len(registrants),
                    "attendees": attendees,
                    "attendanceRate": attendees / len(registrants) if registrants else 0,
                }
        return 200, sessions

    def list_registrants(self, token: str, query: dict) -> tuple[int, object, dict]:
        registrants = self.registrants[token]
        page, limit = int(query.get("page", "1")), int(query.get("limit", "1000"))
        start = (page - 1) * limit
        total = {"X-Total-Count": str(len(registrants))}
        return 200, registrants[start : start + limit], total

    def register(self, body: dict) -> tuple[int, object]:
        token = (body or {}).get("eventSessionToken")
        if token not in self.sessions:
            return 404, {"message": "session not found"}
        if not body.get("email"):
            return 400, {"message": "email is required"}
        with self._lock:
            for registrant in self.registrants[token]:
                if registrant["email"].lower() == body["email"].lower():
                    return 200, registrant
            fields = {key: body[key] for key in ("email", "firstName", "lastName") if key in body}
            return 201, self.add_registrant(token, **fields)

    def create_event(self, body: dict) -> tuple[int, object]:
        if not (body or {}).get("title"):
            return 400, {"message": "title is required"}
        fields = {key: body[key] for key in ("title", "description", "date", "time", "timezone")}
        session = self.add_session(published=bool(body.get("published")), **fields)
        return 201, {"eventToken": session["eventToken"], "token": session["token"]}

    def route(self, method: str, path: str, query: dict, body):
        token = path.rsplit("/", 1)[-1]
        known = token in self.sessions
        if method == "GET":
            if path == f"{API}/operators":
                return 200, self.operators
            if path == f"{API}/events/sessions":
                return self.list_sessions(query)
            if path.startswith(PUBLIC) and known:
                return 200, self.sessions[token]
            if path.startswith(REGISTRANTS) and known:
                return self.list_registrants(token, query)
            if path.startswith(SURVEYS) and known:
                return 200, self.surveys[token]
            if path.startswith(COMPILED) and token in self.reports:
                return 200, self.reports[token]
        if method == "POST" and path == f"{API}/registrants":
            return self.register(body)
        if method == "POST" and path == f"{API}/events":
            return self.create_event(body)
        return 404, {"message": "not found"}
