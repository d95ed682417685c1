"""Each connection's streams run on django-celery-beat schedules, one PeriodicTask per stream,
created with the connection and editable in the admin (Periodic tasks).

Tasks are found by name (``sync:<connection id>:<stream>``): what staff change there (interval,
crontab, enabled) is kept when the connection is saved again; switching the connection off or
on switches its schedules with it, and deleting the connection deletes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from syncing.models import Connection, SyncRun
from syncing.streams import streams_of

TASK = "syncing.run_stream"


@dataclass(frozen=True)
class ScheduleSlot:
    """One schedule a provider's streams ask for: each stream's, plus a full-refresh one for
    streams with ``full_refresh_every``."""

    stream: str
    full_refresh: bool
    every: timedelta  # the default

    @property
    def key(self) -> str:
        return f"{self.stream}:full_refresh" if self.full_refresh else self.stream

    @property
    def label(self) -> str:
        return f"{self.stream} (full reconciliation)" if self.full_refresh else self.stream


def schedule_slots(provider: str) -> list[ScheduleSlot]:
    slots = []
    for stream, definition in streams_of(provider).items():
        slots.append(ScheduleSlot(stream=stream, full_refresh=False, every=definition.every))
        if definition.full_refresh_every is not None:
            slots.append(
                ScheduleSlot(stream=stream, full_refresh=True, every=definition.full_refresh_every)
            )
    return slots


def schedule_name(connection: Connection, slot_key: str) -> str:
    return f"sync:{connection.pk}:{slot_key}"


def _interval(every: timedelta) -> IntervalSchedule:
    minutes, seconds = divmod(int(every.total_seconds()), 60)
    if seconds:
        return IntervalSchedule.objects.get_or_create(
            every=int(every.total_seconds()), period="seconds"
        )[0]
    return IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")[0]


def connection_schedules(connection: Connection) -> QuerySet[PeriodicTask]:
    return PeriodicTask.objects.filter(name__startswith=f"sync:{connection.pk}:").order_by("name")


@transaction.atomic
def connection_schedules_ensure(*, connection: Connection) -> list[PeriodicTask]:
    """Create the missing schedules of the connection's streams (existing ones are kept as
    staff left them)."""
    tasks = []
    for slot in schedule_slots(connection.provider):
        kwargs = {
            "connection_id": connection.pk,
            "stream": slot.stream,
            "trigger": SyncRun.Trigger.SCHEDULE,
        }
        what = "Reads all of" if slot.full_refresh else "Pulls"
        task, _ = PeriodicTask.objects.get_or_create(
            name=schedule_name(connection, slot.key),
            defaults={
                "task": TASK,
                "interval": _interval(slot.every),
                "kwargs": json.dumps(
                    {**kwargs, "full_refresh": True} if slot.full_refresh else kwargs
                ),
                "enabled": connection.enabled,
                "description": f"{what} the {slot.stream} stream of {connection.name}.",
            },
        )
        tasks.append(task)
    return tasks


def connection_schedule_set(
    *, connection: Connection, slot_key: str, every_minutes: int | None, enabled: bool
) -> None:
    """Staff's edit of one schedule from the connection page: on or off, and "every N
    minutes" (None keeps the schedule as it is, e.g. a crontab set under Periodic tasks)."""
    task = PeriodicTask.objects.get(name=schedule_name(connection, slot_key))
    task.enabled = enabled
    if every_minutes is not None:
        task.interval = _interval(timedelta(minutes=every_minutes))
        task.crontab = None
    task.save()


def schedule_every_minutes(task: PeriodicTask | None) -> int | None:
    """The schedule's interval in whole minutes, or None when it is not a whole-minute
    interval (a crontab, seconds)."""
    if task is None or task.interval is None:
        return None
    seconds = int(task.interval.schedule.run_every.total_seconds())
    return seconds // 60 if seconds % 60 == 0 else None


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
    slot: ScheduleSlot
    schedule: PeriodicTask | None
    last_run: SyncRun | None


def connection_stream_overview(*, connection: Connection) -> list[StreamOverview]:
    """Each schedule of the connection with its stream's latest run of that kind (the admin
    page)."""
    schedules = {
        task.name: task
        for task in connection_schedules(connection).select_related("interval", "crontab")
    }
    overview = []
    for slot in schedule_slots(connection.provider):
        runs = SyncRun.objects.filter(connection=connection, stream=slot.stream)
        if slot.full_refresh:
            runs = runs.filter(full_refresh=True)
        overview.append(
            StreamOverview(
                slot=slot,
                schedule=schedules.get(schedule_name(connection, slot.key)),
                last_run=runs.first(),
            )
        )
    return overview
