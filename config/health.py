"""GET /healthz: is the database reachable, is the broker reachable, when did a worker last run."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

from config.formats import iso_utc
from workspaces.models import WorkerHeartbeat

BROKER_TIMEOUT_SECONDS = 2


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


def _last_worker_heartbeat() -> str | None:
    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception:  # the database check already reports why
        return None
    return iso_utc(beat.seen_at) if beat else None


@require_GET
def healthz(request):
    database_ok, database_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = database_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": {"ok": database_ok, "detail": database_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            "worker": {"lastHeartbeat": _last_worker_heartbeat() if database_ok else None},
        },
        status=200 if healthy else 503,
    )
