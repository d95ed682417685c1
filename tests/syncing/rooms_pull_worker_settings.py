"""Settings of the worker process the rooms-pull kill test starts (DJANGO_SETTINGS_MODULE):
the project's, with a run lock that expires within seconds once its worker is killed."""

from config.settings import *  # noqa: F403

SYNC_LOCK_TTL = 5
