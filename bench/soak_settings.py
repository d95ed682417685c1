"""Settings of the processes bench/soak.py starts: the project's, with the waits that recover
from a killed worker and from upstream faults compressed from minutes to seconds, so the soak
converges in minutes. Nothing else differs from production."""

from config.settings import *  # noqa: F403

SYNC_OUTBOX_BACKOFF_BASE = 1.0
SYNC_OUTBOX_BACKOFF_MAX = 10.0
# A killed worker's claimed message and run lock are recovered within seconds.
SYNC_OUTBOX_SENDING_TIMEOUT = 20
SYNC_LOCK_TTL = 20
SYNC_HTTP_BACKOFF_FACTOR = 0.05
SYNC_HTTP_BACKOFF_JITTER = 0.05
SYNC_HTTP_READ_TIMEOUT = 5.0
