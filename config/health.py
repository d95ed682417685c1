"""GET /healthz: is the database reachable, is the broker reachable, is a worker consuming and is
beat scheduling.

Beat sends the ``worker-heartbeat`` task every ``HEARTBEAT`` seconds and a worker records it
(WorkerHeartbeat), so a fresh heartbeat proves both ran; beat's own liveness is when it last sent
that task (django-celery-beat's ``last_run_at``, written at every send: CELERY_BEAT_SYNC_EVERY).
Either older than two intervals makes the status "degraded": still 200, because the web process
serves requests, but the background work (sync, pushes, write-back) has stopped. A database or
broker that does not answer makes it "unavailable" (503).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_celery_beat.models import PeriodicTask
from kombu import Connection

from config.formats import iso_utc
from workspaces.models import WorkerHeartbeat

BROKER_TIMEOUT_SECONDS = 2
HEARTBEAT_TASK = "worker-heartbeat"
# healthz's key for the time each process was last seen.
LIVENESS = {"worker": "lastHeartbeat", "beat": "lastScheduled"}


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down"; the message says which
        return False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _broker_ok() -> tuple[bool, str]:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True, "ok"
    except Exception as exc:  # kombu raises transport-specific errors
        return False, str(exc) or type(exc).__name__


def heartbeat_interval() -> timedelta:
    return timedelta(seconds=settings.CELERY_BEAT_SCHEDULE[HEARTBEAT_TASK]["schedule"])


def background_liveness(now: datetime) -> dict[str, dict]:
    """``{"worker"|"beat": {"last_seen", "alive"}}``: when a worker last recorded the heartbeat
    and when beat last sent it, alive within two intervals (two queries). Also the console's."""
    seen = {
        "worker": WorkerHeartbeat.objects.aggregate(at=Max("seen_at"))["at"],
        "beat": PeriodicTask.objects.filter(name=HEARTBEAT_TASK)
        .values_list("last_run_at", flat=True)
        .first(),
    }
    window = 2 * heartbeat_interval()
    return {
        name: {"last_seen": at, "alive": at is not None and now - at <= window}
        for name, at in seen.items()
    }


@require_GET
def healthz(request):
    database_ok, database_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    unknown = {"last_seen": None, "alive": False}
    live = background_liveness(timezone.now()) if database_ok else dict.fromkeys(LIVENESS, unknown)
    if not (database_ok and broker_ok):
        status = "unavailable"
    else:
        status = "ok" if live["worker"]["alive"] and live["beat"]["alive"] else "degraded"
    return JsonResponse(
        {
            "status": status,
            "database": {"ok": database_ok, "detail": database_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            **{
                name: {"ok": live[name]["alive"], key: iso_utc(live[name]["last_seen"])}
                for name, key in LIVENESS.items()
            },
        },
        status=503 if status == "unavailable" else 200,
    )
