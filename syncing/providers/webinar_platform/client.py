"""Client of the webinar platform (FLOW API, base ``/api/v1``, header ``api-secret``).

Paths as listed in specs/README.md; those the vendor does not publish (event creation,
operators, compiled report) are the ones flowsync itself serves (webinar issue).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from syncing.errors import PermanentError
from syncing.http import UpstreamClient
from syncing.providers.webinar_platform import schemas
from syncing.validation import validate_record

API = "/api/v1"
PERIODS = ("current", "past", "future")


def _list(body: Any, what: str) -> list:
    if not isinstance(body, list):
        raise PermanentError(f"{what}: expected a list")
    return body


def _array_page(response: requests.Response, body: Any) -> tuple[list, int | None]:
    total = response.headers.get("X-Total-Count", "")
    return _list(body, response.request.path_url), int(total) if total.isdigit() else None


class WebinarPlatformClient(UpstreamClient):
    auth_header = "api-secret"

    def ping(self) -> str:
        return f"{len(self.operators())} operators readable"

    def sessions(self, *, period: str | None = None) -> list:
        """Raw session records (validate each with ``schemas.Session``), with analytics."""
        params: dict[str, Any] = {"simple_analytics": 1}
        if period is not None:
            params["period"] = period
        return _list(self.get_json(f"{API}/events/sessions", params=params), "sessions")

    def session_info(self, session_token: str) -> dict:
        body = self.get_json(f"{API}/events/sessions/public/{session_token}")
        return validate_record(schemas.Session, body, id_field="token")

    def registrant_pages(self, session_token: str, *, limit: int = 500) -> Iterator[list]:
        """Raw registrant records page by page (validate each with ``schemas.Registrant``)."""
        path = f"{API}/reports/events/sessions/registrants/{session_token}"
        return self.pages(path, extract=_array_page, limit=limit)

    def surveys(self, session_token: str) -> list:
        body = self.get_json(f"{API}/reports/events/sessions/surveys/{session_token}")
        return _list(body, "surveys")

    def compiled_report(self, session_token: str) -> dict:
        body = self.get_json(f"{API}/reports/events/sessions/compiled/{session_token}")
        return validate_record(schemas.CompiledReport, body, id_field="token")

    def operators(self) -> list:
        return _list(self.get_json(f"{API}/operators"), "operators")

    def event_create(self, body: dict) -> dict:
        response = self.send_json("POST", f"{API}/events", body)
        return validate_record(schemas.CreatedEvent, response, id_field="eventToken")

    def registrant_create(self, body: dict) -> dict:
        response = self.send_json("POST", f"{API}/registrants", body)
        return validate_record(schemas.Registrant, response, id_field="email")


Client = WebinarPlatformClient
