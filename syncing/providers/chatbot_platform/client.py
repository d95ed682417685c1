"""Client of the chatbot platform (Flow XO API, base ``/api``, ``Authorization: Bearer``).

The conversation list pages with ``skip``/``limit`` and filters by ``start``/``end``; a
conversation's messages come from ``GET /api/conversations/{id_url_encoded}/messages``, the
path of the vendor's public "all messages in a single conversation" call (a connection
option ``messages_path`` overrides it, with ``{conversation}`` standing for the encoded id).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from syncing.errors import PermanentError
from syncing.http import UpstreamClient

API = "/api"
MESSAGES_PATH = API + "/conversations/{conversation}/messages"
# The vendor's example pages conversations by 25; it accepts up to 100.
CONVERSATIONS_LIMIT = 100
MESSAGES_LIMIT = 1000


class ChatbotPlatformClient(UpstreamClient):
    auth_header = "Authorization"

    def __init__(self, *, base_url: str, secret: str, messages_path: str = "", **kwargs):
        super().__init__(base_url=base_url, secret=f"Bearer {secret}", **kwargs)
        self.messages_path = messages_path or MESSAGES_PATH

    @classmethod
    def from_connection(cls, connection, **kwargs) -> ChatbotPlatformClient:
        return cls(
            base_url=connection.base_url,
            secret=connection.credentials.get("api_key", ""),
            messages_path=connection.options.get("messages_path", ""),
            **kwargs,
        )

    def ping(self) -> str:
        return f"{len(self.workflows())} workflows readable"

    def workflows(self) -> list:
        """Raw workflow records (validate each with ``schemas.Workflow``)."""
        body = self.get_json(f"{API}/workflows/simple")
        if not isinstance(body, list):
            raise PermanentError(f"GET {API}/workflows/simple: expected a list")
        return body

    def conversation_pages(
        self, *, start: str | None, end: str | None, limit: int = CONVERSATIONS_LIMIT
    ) -> Iterator[tuple[list, int]]:
        """(raw conversations, total) page by page until a short page or the total."""
        window = {key: value for key, value in (("start", start), ("end", end)) if value}
        skip = 0
        while True:
            body = self.get_json(
                f"{API}/conversations", params={**window, "skip": skip, "limit": limit}
            )
            if not isinstance(body, dict) or not isinstance(body.get("conversations"), list):
                raise PermanentError(f"GET {API}/conversations: a page without conversations")
            page, total = body["conversations"], body.get("total")
            total = total if isinstance(total, int) else skip + len(page)
            yield page, total
            skip += len(page)
            if len(page) < limit or skip >= total:
                return

    def messages(self, conversation_url_id: str) -> list:
        """Every raw message of one conversation, oldest first. Stops when the upstream
        ignores paging: a page longer than asked for, or the same page again."""
        path = self.messages_path.format(conversation=conversation_url_id)
        messages: list[Any] = []
        previous = None
        while True:
            page = self.get_json(path, params={"skip": len(messages), "limit": MESSAGES_LIMIT})
            if not isinstance(page, list):
                raise PermanentError(f"GET {path}: expected a list")
            if page == previous:
                return messages
            messages.extend(page)
            if len(page) != MESSAGES_LIMIT:
                return messages
            previous = page


Client = ChatbotPlatformClient
