"""Settings of the processes bench/soak.py starts: the project's, with the waits that recover
from a killed worker and from upstream faults compressed from minutes to seconds, so the soak
converges in minutes. Nothing else differs from production."""

from config.settings import *  # noqa: F403

# A failed push is retried after 0.125-0.25 s, then 0.25-0.5 s, ... at most 4 s.
SYNC_OUTBOX_BACKOFF_BASE = 0.25
SYNC_OUTBOX_BACKOFF_MAX = 4.0
# With the queue empty, a message this overdue lost its task (a retry the killed worker held).
SYNC_OUTBOX_REQUEUE_AFTER = 5
# A killed worker's claimed message and run lock are recovered within seconds.
SYNC_OUTBOX_SENDING_TIMEOUT = 20
SYNC_LOCK_TTL = 20
SYNC_HTTP_BACKOFF_FACTOR = 0.05
SYNC_HTTP_BACKOFF_JITTER = 0.05
SYNC_HTTP_READ_TIMEOUT = 5.0
