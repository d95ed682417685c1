"""Reads for the workspace analytics dashboard (meeting rooms, recordings, booking pages,
contacts). Eight queries whatever the data: one for the KPIs (scalar subqueries), one
aggregate for each list, and one lookup of the five rooms and of the five booking pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from insights.models import BookingPage, ContactEvent, Recording
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


def _kpis(workspace: Workspace) -> dict[str, int]:
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
            bookings=_scalar(
                ContactEvent.objects.for_workspace(workspace).filter(event_type=BOOKING),
                Count("event_type"),
            ),
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


def workspace_analytics(*, workspace: Workspace, today: date) -> dict[str, Any]:
    """The six fields of the dashboard. Lists are ordered by count descending, ties by id
    (by type for the breakdown); the timelines by date and list only days with something."""
    events = ContactEvent.objects.for_workspace(workspace)
    window_start, window_end = activity_window(today)
    on_day = TruncDate("occurred_at", tzinfo=UTC)
    activity = (
        events.filter(
            occurred_at__gte=window_start,
            occurred_at__lt=window_end,
            event_type__in=[BOOKING, ROOM_JOIN],
        )
        .values(date=on_day)
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
    new_contacts = (
        Contact.objects.for_workspace(workspace)
        .filter(created_at__gte=window_start, created_at__lt=window_end)
        .values(date=TruncDate("created_at", tzinfo=UTC))
        .annotate(count=Count("pk"))
        .order_by("date")
    )
    return {
        "kpis": _kpis(workspace),
        "activity_timeline": list(activity),
        "event_type_breakdown": list(breakdown),
        "top_booking_pages": _top(
            events.filter(event_type=BOOKING),
            "booking_page",
            BookingPage.objects.for_workspace(workspace),
        ),
        "new_contacts_timeline": list(new_contacts),
        "top_rooms": _top(
            events.filter(event_type=ROOM_JOIN), "room", Room.objects.for_workspace(workspace)
        ),
    }
