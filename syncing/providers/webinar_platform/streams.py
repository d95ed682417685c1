"""Pull streams of the webinar platform (see ``pull`` for what one run reads and when)."""

from __future__ import annotations

from datetime import timedelta

from syncing.providers.webinar_platform.pull import webinars_pull
from syncing.streams import Stream

STREAMS = {"webinars": Stream(pull=webinars_pull, every=timedelta(minutes=15))}
