"""The video-rooms platform's pull streams (see syncing.streams)."""

from __future__ import annotations

from datetime import timedelta

from syncing.providers.video_platform.pull import workspace_pull
from syncing.streams import Stream

STREAMS = {
    "workspace": Stream(
        pull=workspace_pull, every=timedelta(minutes=15), full_refresh_every=timedelta(days=1)
    )
}
