"""Shapes of the chatbot platform's JSON (Flow XO public API; facts in specs/README.md).

Compiled by msgspec (syncing.validation): a full pull validates every message of every
conversation, which DRF serializers did at a quarter of the pull's CPU. The rules are the ones
the serializers had: the same fields required, text that may not be empty or null, the same
length bounds (see docs/providers/chatbot-platform.md, Decisions, for what differs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from syncing.validation import NonBlank, Schema

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Name = Annotated[str, msgspec.Meta(max_length=255)]


class LastMessage(Schema):
    id: NonBlank
    timestamp: datetime


class Conversation(Schema):
    id: NonBlank
    id_url_encoded: NonBlank
    user_id: NonBlank
    bot_id: str = ""
    user_name: Name | None = None
    created_at: datetime | None = None
    last_message: LastMessage | None = None


class Message(Schema):
    id: Id
    role: NonBlank
    timestamp: datetime
    type: str = ""
    # Text messages carry their words; other types (cards, custom payloads) may carry none.
    message: Any = None


class Workflow(Schema):
    id: Id = msgspec.field(name="_id")
    name: Name
    active: bool = False
