"""Client of the rooms platform (Flowla API v2): header ``x-flowla-api-key``, base ``/api/v2``,
lists paged with ``page``/``limit`` answering ``{results, page, limit, total}``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from syncing.errors import PermanentError
from syncing.http import UpstreamClient
from syncing.providers.rooms_platform import schemas
from syncing.validation import validate_record

API = "/api/v2"
# Flowla's documented maximum page size.
MAX_LIMIT = 100


def _results(response: requests.Response, body: Any) -> tuple[list, int | None]:
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise PermanentError("GET /api/v2/rooms: a page without a results list")
    total = body.get("total")
    return body["results"], total if isinstance(total, int) else None


class RoomsPlatformClient(UpstreamClient):
    auth_header = "x-flowla-api-key"

    def ping(self) -> str:
        """One cheap call that needs valid credentials."""
        return f"{len(self.statuses())} room statuses readable"

    def statuses(self) -> list[dict]:
        body = self.get_json(f"{API}/statuses")
        if not isinstance(body, list):
            raise PermanentError("GET /api/v2/statuses: expected a list")
        return [validate_record(schemas.Status, item) for item in body]

    def room_pages(
        self, *, sort_by: str = "updatedAt", direction: str = "ASC", limit: int = MAX_LIMIT
    ) -> Iterator[list]:
        """Raw room records page by page; validate each with ``schemas.Room`` (one bad record
        must not stop the others)."""
        params = {"sortBy": sort_by, "sortDirection": direction}
        return self.pages(f"{API}/rooms", extract=_results, params=params, limit=limit)

    def room(self, room_id: str) -> dict:
        return validate_record(schemas.Room, self.get_json(f"{API}/rooms/{room_id}"))

    def room_analytics(self, room_id: str) -> dict:
        body = self.get_json(f"{API}/rooms/{room_id}/analytics")
        return validate_record(schemas.RoomAnalytics, body, id_field="title")

    def room_create(self, body: dict) -> dict:
        return validate_record(schemas.Room, self.send_json("POST", f"{API}/rooms", body))

    def room_update(self, room_id: str, body: dict) -> dict:
        response = self.send_json("PATCH", f"{API}/rooms/{room_id}", body)
        return validate_record(schemas.Room, response)


Client = RoomsPlatformClient
