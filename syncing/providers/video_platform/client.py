"""Client of the video-rooms platform (Livestorm Nexus API, base ``/api``, ``Authorization:
Bearer lnx_…``, keys scoped to one workspace: the connection option ``workspace_id`` names it).

Documented paths: ``GET /api/workspaces/{workspace}/rooms`` (``{rooms: [...]}``) and
``GET /api/dashboard/recordings``. Assumed (the docs' contacts and booking-page pages are not
in our copy; each path is a connection option, see the provider's README): booking pages at
``/api/workspaces/{workspace}/booking-pages`` (``{booking_pages: [...]}``), contacts at
``/api/workspaces/{workspace}/contacts`` (``{contacts: [...], total}``, oldest first, filtered
by ``updated_since`` in Unix seconds when the upstream supports it) and a contact's events at
``/api/workspaces/{workspace}/contacts/{contact}/events`` (``{events: [...]}``, oldest first).
Lists page with ``page`` (from 1) and ``limit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from syncing.errors import PermanentError
from syncing.http import UpstreamClient

API = "/api"
PATHS = {
    "rooms_path": API + "/workspaces/{workspace}/rooms",
    "recordings_path": API + "/dashboard/recordings",
    "booking_pages_path": API + "/workspaces/{workspace}/booking-pages",
    "contacts_path": API + "/workspaces/{workspace}/contacts",
    "events_path": API + "/workspaces/{workspace}/contacts/{contact}/events",
}
# The name of the contacts list's "changed since" filter (Unix seconds). An upstream that
# ignores it answers every contact, which costs calls but loses nothing.
SINCE_PARAM = "updated_since"
LIMIT = 100


def _keyed(key: str):
    """A page extractor for ``{key: [...], total?}`` bodies."""

    def extract(response: requests.Response, body: Any) -> tuple[list, int | None]:
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise PermanentError(f"GET {response.request.path_url}: a page without {key}")
        total = body.get("total")
        return body[key], total if isinstance(total, int) else None

    return extract


class VideoPlatformClient(UpstreamClient):
    auth_header = "Authorization"

    def __init__(self, *, base_url: str, secret: str, workspace_id: str = "", paths=None, **kwargs):
        super().__init__(base_url=base_url, secret=f"Bearer {secret}", **kwargs)
        self.workspace_id = str(workspace_id)
        self.paths = {**PATHS, **(paths or {})}
        self.since_param = SINCE_PARAM

    @classmethod
    def from_connection(cls, connection, **kwargs) -> VideoPlatformClient:
        options = connection.options
        client = cls(
            base_url=connection.base_url,
            secret=connection.credentials.get("api_key", ""),
            workspace_id=options.get("workspace_id", ""),
            paths={name: options[name] for name in PATHS if options.get(name)},
            **kwargs,
        )
        client.since_param = options.get("contacts_since_param") or SINCE_PARAM
        return client

    def _path(self, name: str, **values: str) -> str:
        if not self.workspace_id:
            raise PermanentError("The connection has no workspace_id option.")
        return self.paths[name].format(workspace=self.workspace_id, **values)

    def ping(self) -> str:
        return f"{len(self.rooms())} rooms readable"

    def rooms(self) -> list:
        return self._list("rooms_path", "rooms")

    def booking_pages(self) -> list:
        return self._list("booking_pages_path", "booking_pages")

    def _list(self, path_name: str, key: str) -> list:
        path = self._path(path_name)
        response, body = self._read_json(path, None)
        return _keyed(key)(response, body)[0]

    def recording_pages(self) -> Iterator[list]:
        return self.pages(self._path("recordings_path"), extract=_keyed("recordings"), limit=LIMIT)

    def contact_pages(self, *, since: int | None) -> Iterator[tuple[list, int | None]]:
        """(raw contacts, total) page by page; ``since`` in Unix seconds or None for all."""
        path = self._path("contacts_path")
        extract = _keyed("contacts")
        params = {self.since_param: since} if since is not None else {}
        page = 1
        while True:
            records, total = extract(
                *self._read_json(path, {**params, "page": page, "limit": LIMIT})
            )
            yield records, total
            if len(records) != LIMIT or (total is not None and page * LIMIT >= total):
                return
            page += 1

    def events(self, contact_id: str) -> list:
        """Every raw event of one contact."""
        path = self._path("events_path", contact=contact_id)
        return [
            event
            for page in self.pages(path, extract=_keyed("events"), limit=LIMIT)
            for event in page
        ]


Client = VideoPlatformClient
