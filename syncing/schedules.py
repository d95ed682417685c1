"""Each connection's streams run on django-celery-beat schedules, one PeriodicTask per stream,
created with the connection and editable in the admin (Periodic tasks).

Tasks are found by name (``sync:<connection id>:<stream>``): what staff change there (interval,
crontab, enabled) is kept when the connection is saved again; switching the connection off or
on switches its schedules with it, and deleting the connection deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from syncing.models import Connection, SyncRun
from syncing.streams import streams_of

TASK = "syncing.run_stream"


def schedule_name(connection: Connection, stream: str, *, full_refresh: bool = False) -> str:
    return f"sync:{connection.pk}:{stream}" + (":full_refresh" if full_refresh else "")


def _interval(every: timedelta) -> IntervalSchedule:
    minutes, seconds = divmod(int(every.total_seconds()), 60)
    if seconds:
        return IntervalSchedule.objects.get_or_create(
            every=int(every.total_seconds()), period="seconds"
        )[0]
    return IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")[0]


def connection_schedules(connection: Connection) -> QuerySet[PeriodicTask]:
    return PeriodicTask.objects.filter(name__startswith=f"sync:{connection.pk}:").order_by("name")


def _wanted(connection: Connection) -> Iterator[tuple[str, str, timedelta, bool]]:
    """(schedule name, stream, interval, full refresh) of each schedule the streams ask for."""
    for stream, definition in streams_of(connection.provider).items():
        yield schedule_name(connection, stream), stream, definition.every, False
        if definition.full_refresh_every is not None:
            name = schedule_name(connection, stream, full_refresh=True)
            yield name, stream, definition.full_refresh_every, True


@transaction.atomic
def connection_schedules_ensure(*, connection: Connection) -> list[PeriodicTask]:
    """Create the missing schedules of the connection's streams (existing ones are kept as
    staff left them)."""
    tasks = []
    for name, stream, every, full_refresh in _wanted(connection):
        kwargs = {
            "connection_id": connection.pk,
            "stream": stream,
            "trigger": SyncRun.Trigger.SCHEDULE,
        }
        what = "Reads all of" if full_refresh else "Pulls"
        task, _ = PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": TASK,
                "interval": _interval(every),
                "kwargs": json.dumps({**kwargs, "full_refresh": True} if full_refresh else kwargs),
                "enabled": connection.enabled,
                "description": f"{what} the {stream} stream of {connection.name}.",
            },
        )
        tasks.append(task)
    return tasks


def connection_schedules_follow_enabled(*, connection: Connection) -> None:
    """Switch the connection's schedules on or off with the connection itself."""
    for task in connection_schedules(connection).exclude(enabled=connection.enabled):
        task.enabled = connection.enabled
        task.save(update_fields=["enabled"])


def connection_schedules_delete(*, connection: Connection) -> int:
    # A queryset delete skips PeriodicTask's own bookkeeping; delete one by one so beat notices.
    schedules = list(connection_schedules(connection))
    for task in schedules:
        task.delete()
    return len(schedules)


@dataclass(frozen=True)
class StreamOverview:
    name: str
    schedule: PeriodicTask | None
    last_run: SyncRun | None


def connection_stream_overview(*, connection: Connection) -> list[StreamOverview]:
    """Each stream of the connection with its schedule and latest run (the admin page)."""
    schedules = {
        task.name: task
        for task in connection_schedules(connection).select_related("interval", "crontab")
    }
    overview = []
    for stream in streams_of(connection.provider):
        last_run = SyncRun.objects.filter(connection=connection, stream=stream).first()
        overview.append(
            StreamOverview(
                name=stream,
                schedule=schedules.get(schedule_name(connection, stream)),
                last_run=last_run,
            )
        )
    return overview
