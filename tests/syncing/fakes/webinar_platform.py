"""A fake webinar platform (FLOW API v1, spec 004 and specs/README.md) holding operators,
sessions (with their operators), registrants, surveys with their responses and chat logs in
memory; faults as ``server.FakeUpstream``.

The compiled report is built from that state in the CSV formats flowsync itself serves
(``events/csv_reports.py``: RFC 4180, CRLF, a formula-like text cell prefixed with ``'``), unless
``reports[token]`` holds a report to answer as it is. A malformed record is made by editing the
stored dict (``fake.sessions[token]``, ``fake.registrants[token][n]``, ...).
"""

from __future__ import annotations

import csv
import io
import itertools
import secrets
from datetime import UTC, datetime

from tests.syncing.fakes.server import FakeUpstream, iso

API_SECRET = "fake-webinar-secret-81d0"
API = "/api/v1"
REGISTRANTS = f"{API}/reports/events/sessions/registrants/"
SURVEYS = f"{API}/reports/events/sessions/surveys/"
COMPILED = f"{API}/reports/events/sessions/compiled/"
PUBLIC = f"{API}/events/sessions/public/"
FORMULA_PREFIXES = tuple("=+-@\t\r")


def csv_text(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return ""
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return str(value)

    out = io.StringIO()
    writer = csv.writer(out)
    for row in [header, *rows]:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


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
        # Survey id (as a string) -> its responses: email, names, submittedAt, answers.
        self.survey_responses: dict[str, list[dict]] = {}
        # Session token -> chat lines: kind ("attendee" | "operator"), sentAt, senderEmail,
        # senderName, message, private.
        self.chats: dict[str, list[dict]] = {}
        # Session token -> a compiled report answered as it is instead of the built one.
        self.reports: dict[str, dict] = {}
        # The registrant list as spec 004 documents it: one plain array, paging ignored.
        self.ignores_paging = False
        self._ids = itertools.count(1000)

    def add_operator(self, **fields) -> dict:
        operator_id = fields.pop("id", None) or next(self._ids)
        operator = {
            "id": operator_id,
            "email": f"operator{operator_id}@flow.example",
            "firstName": "Olga",
            "lastName": "Operator",
            "permission": 0,
            **fields,
        }
        with self._lock:
            self.operators.append(operator)
        return operator

    def session_operator(
        self, operator: dict, *, role: int = 5, mic=True, cam=True, screen=False
    ) -> dict:
        """An operator as a session lists it: the operator's fields, its role and rights."""
        return {
            **operator,
            "role": role,
            "micEnabled": mic,
            "camEnabled": cam,
            "screenSharingEnabled": screen,
        }

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
            "creator": dict(self.operators[0]),
            "operators": [],
            **fields,
        }
        with self._lock:
            self.sessions[token] = session
            self.periods[token] = period
            self.registrants.setdefault(token, [])
            self.surveys.setdefault(token, [])
            self.chats.setdefault(token, [])
        return session

    def add_registrant(self, session_token: str, **fields) -> dict:
        registrant = {
            "id": next(self._ids),
            "email": f"guest{len(self.registrants[session_token])}@example.com",
            "firstName": "Guest",
            "lastName": "Example",
            "eventSessionToken": session_token,
            "registeredAt": iso(datetime.now(UTC)),
            "answers": {},
            "attended": False,
            "joinedAt": None,
            "leftAt": None,
            "minutesWatched": 0,
            **fields,
        }
        with self._lock:
            self.registrants[session_token].append(registrant)
        return registrant

    def add_survey(self, session_token: str, **fields) -> dict:
        survey = {
            "id": next(self._ids),
            "title": "Feedback",
            "questions": [],
            "createdAt": iso(datetime.now(UTC)),
            **fields,
        }
        with self._lock:
            self.surveys[session_token].append(survey)
            self.survey_responses.setdefault(str(survey["id"]), [])
        return survey

    def add_survey_response(self, survey: dict, registrant: dict, **fields) -> dict:
        response = {
            "id": next(self._ids),
            "email": registrant["email"],
            "firstName": registrant["firstName"],
            "lastName": registrant["lastName"],
            "submittedAt": iso(datetime.now(UTC)),
            "answers": {},
            **fields,
        }
        with self._lock:
            self.survey_responses[str(survey["id"])].append(response)
        return response

    def add_chat(self, session_token: str, *, sender: dict, kind: str = "attendee", **fields):
        line = {
            "kind": kind,
            "sentAt": iso(datetime.now(UTC)),
            "senderName": f"{sender['firstName']} {sender['lastName']}".strip(),
            "senderEmail": sender["email"],
            "message": "Hello",
            "private": False,
            **fields,
        }
        with self._lock:
            self.chats[session_token].append(line)
        return line

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
                attendees = sum(1 for r in registrants if r.get("attended"))
                session["analytics"] = {
                    "registrants": len(registrants),
                    "attendees": attendees,
                    "attendanceRate": attendees / len(registrants) if registrants else 0,
                }
        return 200, sessions

    def list_registrants(self, token: str, query: dict) -> tuple[int, object, dict]:
        registrants = self.registrants[token]
        if self.ignores_paging:
            return 200, registrants, {}
        page, limit = int(query.get("page", "1")), int(query.get("limit", "1000"))
        start = (page - 1) * limit
        total = {"X-Total-Count": str(len(registrants))}
        return 200, registrants[start : start + limit], total

    def compiled_report(self, token: str) -> dict:
        if token in self.reports:
            return self.reports[token]
        questions = self.sessions[token].get("questions") or []
        registrants = [
            [
                r.get("id"),
                r.get("email"),
                r.get("firstName"),
                r.get("lastName"),
                r.get("registeredAt"),
                r.get("attended"),
                r.get("joinedAt"),
                r.get("leftAt"),
                r.get("minutesWatched"),
                *((r.get("answers") or {}).get(q, "") for q in questions),
            ]
            for r in self.registrants[token]
        ]
        header = ["id", "email", "firstName", "lastName", "registeredAt", "attended"]
        header += ["joinedAt", "leftAt", "minutesWatched", *questions]
        report = {"registrants": csv_text(header, registrants), "surveys": {}}
        for key, kind in (("operatorChat", "operator"), ("attendeeChat", "attendee")):
            lines = [
                [c["sentAt"], c["senderName"], c["senderEmail"], c["message"], c["private"]]
                for c in self.chats[token]
                if c["kind"] == kind
            ]
            chat_header = ["sentAt", "senderName", "senderEmail", "message", "private"]
            report[key] = csv_text(chat_header, lines)
        for survey in self.surveys[token]:
            survey_questions = survey.get("questions") or []
            rows = [
                [
                    r["id"],
                    r["email"],
                    r["firstName"],
                    r["lastName"],
                    r["submittedAt"],
                    *(r["answers"].get(q, "") for q in survey_questions),
                ]
                for r in self.survey_responses.get(str(survey["id"]), [])
            ]
            header = ["responseId", "email", "firstName", "lastName", "submittedAt"]
            report["surveys"][str(survey["id"])] = csv_text(header + survey_questions, rows)
        return report

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
            if path.startswith(COMPILED) and (known or token in self.reports):
                with self._lock:
                    return 200, self.compiled_report(token)
        if method == "POST" and path == f"{API}/registrants":
            return self.register(body)
        if method == "POST" and path == f"{API}/events":
            return self.create_event(body)
        return 404, {"message": "not found"}
