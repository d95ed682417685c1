"""Reads for the workspace analytics dashboard (meeting rooms, recordings, booking pages,
contacts). Eight queries whatever the data: one for the KPIs (scalar subqueries), one
aggregate for each list, and one lookup of the five rooms and of the five booking pages.

On PostgreSQL the contact-event figures (bookings, the activity timeline, the breakdown, the
top lists) come from the rollups kept by triggers (EventDayCount, EventTargetCount); on
SQLite from the events themselves. Rooms, recordings and contacts are counted from their own
tables (one row per thing, not a stream of events)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    UUIDField,
)
from django.db.models.functions import Cast, Coalesce, TruncDate

from insights.models import (
    BookingPage,
    ContactEvent,
    EventDayCount,
    EventTargetCount,
    Recording,
)
from rooms.models import Contact, Room
from workspaces.models import Workspace

WINDOW_DAYS = 30
TOP = 5
BOOKING = ContactEvent.Type.BOOKING
ROOM_JOIN = ContactEvent.Type.ROOM_JOIN


def activity_window(today: date) -> tuple[datetime, datetime]:
    """The last 30 UTC days including today: [today - 29 days 00:00Z, tomorrow 00:00Z)."""
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    return end - timedelta(days=WINDOW_DAYS), end


def _scalar(queryset: QuerySet, aggregate) -> Coalesce:
    """One aggregate of a workspace's rows as a subquery (0 when there are none)."""
    rows = queryset.filter(workspace=OuterRef("pk")).order_by().values("workspace")
    return Coalesce(Subquery(rows.annotate(value=aggregate).values("value")), 0)


def _kpis(workspace: Workspace, bookings: Coalesce) -> dict[str, int]:
    recordings = Recording.objects.for_workspace(workspace)
    return (
        Workspace.objects.filter(pk=workspace.pk)
        .values(
            rooms=_scalar(
                Room.objects.for_workspace(workspace).filter(is_template=False), Count("pk")
            ),
            recordings=_scalar(recordings, Count("pk")),
            recording_duration=_scalar(recordings, Sum("duration_seconds")),
            contacts=_scalar(Contact.objects.for_workspace(workspace), Count("pk")),
            bookings=bookings,
        )
        .get()
    )


def _top(events: QuerySet, target: str, targets: QuerySet) -> list[dict[str, Any]]:
    """The TOP ``target`` rows by number of ``events``, count descending, ties by id: one
    GROUP BY read from the (workspace, event_type, target) index, then one lookup of those few
    rows (joining first would join every event to its target before counting)."""
    key = f"{target}_id"  # not ``target``: ordering by a relation would use its Meta.ordering
    counts = list(
        events.filter(**{f"{key}__isnull": False})
        .values(key)
        .annotate(count=Count(key))
        .order_by("-count", key)[:TOP]
    )
    rows = targets.filter(pk__in=[row[key] for row in counts]).in_bulk()
    return [{target: rows[row[key]], "count": row["count"]} for row in counts]


def _event_figures_from_rows(
    workspace: Workspace, window_start: datetime, window_end: datetime
) -> dict[str, Any]:
    events = ContactEvent.objects.for_workspace(workspace)
    activity = (
        events.filter(
            occurred_at__gte=window_start,
            occurred_at__lt=window_end,
            event_type__in=[BOOKING, ROOM_JOIN],
        )
        .values(date=TruncDate("occurred_at", tzinfo=UTC))
        .annotate(
            bookings=Count("event_type", filter=Q(event_type=BOOKING)),
            room_joins=Count("event_type", filter=Q(event_type=ROOM_JOIN)),
        )
        .order_by("date")
    )
    breakdown = (
        events.values("event_type")
        .annotate(count=Count("event_type"))
        .order_by("-count", "event_type")
    )
    return {
        "bookings": _scalar(
            ContactEvent.objects.for_workspace(workspace).filter(event_type=BOOKING),
            Count("event_type"),
        ),
        "activity_timeline": list(activity),
        "event_type_breakdown": list(breakdown),
        "top_booking_pages": _top(
            events.filter(event_type=BOOKING),
            "booking_page",
            BookingPage.objects.for_workspace(workspace),
        ),
        "top_rooms": _top(
            events.filter(event_type=ROOM_JOIN), "room", Room.objects.for_workspace(workspace)
        ),
    }


def _whole(total: Sum) -> Cast:
    """A SUM of bigints as a bigint (PostgreSQL answers numeric, which arrives as Decimal)."""
    return Cast(total, BigIntegerField())


def _top_from_rollup(
    workspace: Workspace, event_type: str, target: str, targets: QuerySet, key_type
) -> list[dict[str, Any]]:
    """As _top, from the lifetime counts per target (ids stored as text: cast back to the
    target's id type, so ties sort by id as they do on the events)."""
    counts = list(
        EventTargetCount.objects.filter(
            workspace_id=workspace.pk, event_type=event_type, target=target
        )
        .annotate(key=Cast("target_id", key_type))
        .values("key", "n")
        .order_by("-n", "key")[:TOP]
    )
    rows = targets.filter(pk__in=[row["key"] for row in counts]).in_bulk()
    return [{target: rows[row["key"]], "count": row["n"]} for row in counts]


def _event_figures_from_rollups(
    workspace: Workspace, window_start: datetime, window_end: datetime
) -> dict[str, Any]:
    days = EventDayCount.objects.filter(workspace_id=workspace.pk)
    activity = (
        days.filter(
            day__gte=window_start.date(),
            day__lt=window_end.date(),
            event_type__in=[BOOKING, ROOM_JOIN],
        )
        .values(date=F("day"))
        .annotate(
            bookings=_whole(Sum("n", filter=Q(event_type=BOOKING), default=0)),
            room_joins=_whole(Sum("n", filter=Q(event_type=ROOM_JOIN), default=0)),
        )
        .order_by("date")
    )
    breakdown = (
        days.values("event_type").annotate(count=_whole(Sum("n"))).order_by("-count", "event_type")
    )
    bookings = days.filter(workspace_id=OuterRef("pk"), event_type=BOOKING).values("workspace_id")
    return {
        "bookings": Coalesce(
            Subquery(bookings.annotate(value=_whole(Sum("n"))).values("value")), 0
        ),
        "activity_timeline": list(activity),
        "event_type_breakdown": list(breakdown),
        "top_booking_pages": _top_from_rollup(
            workspace,
            BOOKING,
            "booking_page",
            BookingPage.objects.for_workspace(workspace),
            BigIntegerField(),
        ),
        "top_rooms": _top_from_rollup(
            workspace, ROOM_JOIN, "room", Room.objects.for_workspace(workspace), UUIDField()
        ),
    }


def workspace_analytics(*, workspace: Workspace, today: date) -> dict[str, Any]:
    """The six fields of the dashboard. Lists are ordered by count descending, ties by id
    (by type for the breakdown); the timelines by date and list only days with something."""
    window_start, window_end = activity_window(today)
    if connection.vendor == "postgresql":
        events = _event_figures_from_rollups(workspace, window_start, window_end)
    else:
        events = _event_figures_from_rows(workspace, window_start, window_end)
    new_contacts = (
        Contact.objects.for_workspace(workspace)
        .filter(created_at__gte=window_start, created_at__lt=window_end)
        .values(date=TruncDate("created_at", tzinfo=UTC))
        .annotate(count=Count("pk"))
        .order_by("date")
    )
    return {
        "kpis": _kpis(workspace, events.pop("bookings")),
        **events,
        "new_contacts_timeline": list(new_contacts),
    }
