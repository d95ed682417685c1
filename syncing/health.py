"""Sync health of a workspace for the console's dashboard: each connection with its status,
latest run, next scheduled run and failing streams; the outbox backlog; and whether a worker
and the beat scheduler are alive.

Six queries whatever the number of runs or messages: connections, the latest run of each
stream, the schedules, the outbox aggregate, the latest heartbeat and beat's last send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django_celery_beat.models import PeriodicTask

from config.health import background_liveness
from syncing.models import Connection, OutboxMessage, SyncRun
from workspaces.models import Workspace

FAILED = (SyncRun.Status.FAILED,)


def _latest_runs(workspace: Workspace) -> list[SyncRun]:
    """The latest run of every (connection, stream) of the workspace."""
    latest = (
        SyncRun.objects.filter(connection=OuterRef("connection"), stream=OuterRef("stream"))
        .exclude(status=SyncRun.Status.SKIPPED)
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    return list(
        SyncRun.objects.for_workspace(workspace)
        .filter(pk=Subquery(latest))
        .order_by("connection_id", "stream")
    )


def _next_runs(connections: list[Connection], now: datetime) -> dict[int, datetime]:
    """When beat next sends a sync task of each connection (enabled schedules only)."""
    prefixes = Q()
    for connection in connections:
        prefixes |= Q(name__startswith=f"sync:{connection.pk}:")
    if not connections:
        return {}
    tasks = PeriodicTask.objects.filter(prefixes, enabled=True).select_related(
        "interval", "crontab", "solar", "clocked"
    )
    soonest: dict[int, datetime] = {}
    for task in tasks:
        connection_id = int(task.name.split(":")[1])
        due = now + task.schedule.remaining_estimate(task.last_run_at or now)
        if connection_id not in soonest or due < soonest[connection_id]:
            soonest[connection_id] = due
    return soonest


def _connections(workspace: Workspace, now: datetime) -> list[dict[str, Any]]:
    connections = list(Connection.objects.for_workspace(workspace).order_by("name", "pk"))
    runs: dict[int, list[SyncRun]] = {}
    for run in _latest_runs(workspace):
        runs.setdefault(run.connection_id, []).append(run)
    next_runs = _next_runs(connections, now)
    rows = []
    for connection in connections:
        latest = runs.get(connection.pk, [])
        last = max(latest, key=lambda run: run.started_at, default=None)
        rows.append(
            {
                "id": connection.pk,
                "name": connection.name,
                "provider": connection.get_provider_display(),
                "enabled": connection.enabled,
                "status": connection.status,
                "status_label": connection.get_status_display(),
                "status_detail": connection.status_detail,
                "last_run": last,
                "next_run_at": next_runs.get(connection.pk),
                "running": any(run.status in SyncRun.Status.active() for run in latest),
                "failing_streams": sorted(run.stream for run in latest if run.status in FAILED),
            }
        )
    return rows


def _outbox(workspace: Workspace, now: datetime) -> dict[str, Any]:
    backlog = OutboxMessage.objects.for_workspace(workspace).aggregate(
        pending=Count("pk", filter=Q(status=OutboxMessage.Status.PENDING)),
        failed=Count("pk", filter=Q(status=OutboxMessage.Status.FAILED)),
        oldest_pending=Min("created_at", filter=Q(status=OutboxMessage.Status.PENDING)),
    )
    oldest = backlog.pop("oldest_pending")
    return {**backlog, "oldest_pending_age": now - oldest if oldest else None}


def sync_health(*, workspace: Workspace, now: datetime) -> dict[str, Any]:
    return {
        "connections": _connections(workspace, now),
        "outbox": _outbox(workspace, now),
        **background_liveness(now),
    }
