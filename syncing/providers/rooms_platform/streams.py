"""The rooms platform's pull streams (see syncing.streams)."""

from __future__ import annotations

from datetime import timedelta

from syncing.providers.rooms_platform.pull import rooms_pull
from syncing.streams import Stream

STREAMS = {"rooms": Stream(pull=rooms_pull, every=timedelta(minutes=15))}
