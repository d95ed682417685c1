"""The chatbot platform's pull streams (see syncing.streams)."""

from __future__ import annotations

from datetime import timedelta

from syncing.providers.chatbot_platform.pull import conversations_pull
from syncing.streams import Stream

STREAMS = {"conversations": Stream(pull=conversations_pull, every=timedelta(minutes=15))}
