"""A fake chatbot platform (Flow XO's public API, base ``/api``, ``Authorization: Bearer``):

    GET /api/conversations?skip&limit&start&end   {total, skip, limit, conversations: [...]}
    GET /api/conversations/{id_url_encoded}        one conversation
    GET /api/conversations/{id_url_encoded}/messages?skip&limit   [message, ...] (oldest first)
    GET /api/workflows/simple                      [{_id, name, active}]

The list is newest activity first; ``start``/``end`` keep conversations whose last message
falls in [start, end) — the assumption the provider's README states. Faults are those of
``server.FakeUpstream``; ``on_list`` runs before each list answer (to change things mid-run).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from tests.syncing.fakes.server import FakeUpstream, iso

API_KEY = "fxo_test_key"
BOT_ID = "615c6b5e14fc0965a6556061"
BOT_NAME = "Flowla Assistant"
WORKFLOWS = [
    {"_id": "wf-welcome", "name": "Welcome", "active": True},
    {"_id": "wf-demo", "name": "Book a demo", "active": True},
    {"_id": "wf-old", "name": "Old survey", "active": False},
]
LINES = {
    "user": ["Hi", "How much does it cost?", "Book a demo", "Thanks!", "pricing", "Hi"],
    "bot": ["Hello! How can I help?", "Our plans start at $49.", "Pick a time:", "Welcome!"],
}


class FakeChatbotPlatform(FakeUpstream):
    def __init__(self, *, api_key: str = API_KEY, seed: int = 7):
        super().__init__(api_key=api_key, seed=seed)
        self.conversations: dict[str, dict] = {}
        self.messages: dict[str, list[dict]] = {}
        self.workflows = [dict(workflow) for workflow in WORKFLOWS]
        self.on_list: Callable[[dict], object] | None = None
        self.ignore_message_paging = False
        self._counter = 0

    def authorized(self, method: str, path: str, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {self.api_key}"

    # --- state ------------------------------------------------------------------------------

    def populate(self, count: int, *, start: datetime | None = None, seed: int = 11) -> None:
        """``count`` conversations of 2-6 messages, one a minute apart from ``start``."""
        rng = random.Random(seed)
        start = start or datetime.now(UTC) - timedelta(days=2)
        for n in range(count):
            user_id = f"user{n:05d}"
            at = start + timedelta(minutes=n)
            for offset in range(rng.randint(2, 6)):
                role = "user" if offset % 2 == 0 else "bot"
                self.add_message(
                    user_id, role, rng.choice(LINES[role]), at=at + timedelta(seconds=offset)
                )

    def add_message(
        self, user_id: str, role: str, text: str, *, at: datetime | None = None
    ) -> dict:
        conversation_id = f"{BOT_ID}/c/{user_id}"
        with self._lock:
            self._counter += 1
            message = {
                "id": f"msg{self._counter:08d}",
                "role": role,
                "conversation": conversation_id,
                "from": BOT_ID if role == "bot" else user_id,
                "agent_mode": False,
                "type": "text",
                "message": text,
                "options": None,
                "timestamp": iso(at or datetime.now(UTC)),
            }
            conversation = self.conversations.setdefault(
                conversation_id,
                {
                    "agent_mode": False,
                    "created_at": message["timestamp"],
                    "id": conversation_id,
                    "id_url_encoded": quote(conversation_id, safe=""),
                    "bot_id": BOT_ID,
                    "bot_name": BOT_NAME,
                    "platform": "web",
                    "user_id": user_id,
                    "user_name": f"Visitor {user_id[-3:]}",
                },
            )
            conversation["last_message"] = {
                key: message[key]
                for key in ("id", "role", "conversation", "from", "agent_mode", "type", "timestamp")
            }
            self.messages.setdefault(conversation_id, []).append(message)
            return message

    def all_messages(self) -> list[dict]:
        return [message for messages in self.messages.values() for message in messages]

    # --- API --------------------------------------------------------------------------------

    def list_conversations(self, query: dict) -> tuple[int, object]:
        try:
            skip = int(query.get("skip", "0"))
            limit = int(query.get("limit", "25"))
        except ValueError:
            return 400, {"message": "skip and limit must be integers"}
        if skip < 0 or not 1 <= limit <= 100:
            return 400, {"message": "skip must be >= 0 and limit 1..100"}
        if self.on_list is not None:
            self.on_list(query)
        start, end = query.get("start"), query.get("end")
        with self._lock:
            found = [
                conversation
                for conversation in self.conversations.values()
                if (start is None or conversation["last_message"]["timestamp"] >= start)
                and (end is None or conversation["last_message"]["timestamp"] < end)
            ]
            found.sort(key=lambda c: (c["last_message"]["timestamp"], c["id"]), reverse=True)
            return 200, {
                "total": len(found),
                "skip": skip,
                "limit": limit,
                "conversations": found[skip : skip + limit],
            }

    def list_messages(self, conversation_id: str, query: dict) -> tuple[int, object]:
        messages = self.messages.get(conversation_id)
        if messages is None:
            return 404, {"message": "conversation not found"}
        if self.ignore_message_paging:  # some deployments answer every message at once
            return 200, list(messages)
        skip, limit = int(query.get("skip", "0")), int(query.get("limit", "1000"))
        return 200, messages[skip : skip + limit]

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if method != "GET" or parts[:1] != ["api"]:
            return 404, {"message": "not found"}
        rest = parts[1:]
        if rest == ["workflows", "simple"]:
            return 200, self.workflows
        if rest == ["conversations"]:
            return self.list_conversations(query)
        if len(rest) == 2 and rest[0] == "conversations":
            conversation = self.conversations.get(rest[1])
            return (200, conversation) if conversation else (404, {"message": "not found"})
        if len(rest) == 3 and rest[0] == "conversations" and rest[2] == "messages":
            return self.list_messages(rest[1], query)
        return 404, {"message": "not found"}
