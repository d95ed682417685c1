"""Workspace-level room figures for a period, each beside the period just before it: what
the console's home dashboard shows and ``GET /api/dashboard/rooms`` returns (one source).

Twelve queries whatever the data: three per period (visits, engagements by type, and the
rooms engaged, one index probe per room), the timeline (two GROUP BYs by day), the top rooms
(one GROUP BY, one lookup), the average action-plan progress (one) and the rooms gone quiet
(one, on the totals rollup). Days are UTC days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, Exists, F, FloatField, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, TruncDate

from rooms.models import Action, Engagement, Room, RoomTotals, Viewership, Visit
from syncing.crm.links import ROOM_DEAL_FIELDS
from syncing.models import CrmDeal
from workspaces.models import Workspace

TOP_ROOMS = 10
QUIET_AFTER_DAYS = 14
QUIET_LIST = 10
# Stage names of closed deals in HubSpot (closedwon/closedlost), Salesforce (Closed Won/Lost)
# and Attio (Won/Lost): a deal whose stage matches is no longer open.
CLOSED_STAGE = r"(?i)(closed|won|lost)"


@dataclass(frozen=True)
class Period:
    """Whole UTC days [start, end) and the period of the same length just before it."""

    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous(self) -> Period:
        return Period(start=self.start - timedelta(days=self.days), end=self.start)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _midnight(self.start), _midnight(self.end)

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def period_last_days(days: int, *, today: date) -> Period:
    """The last ``days`` UTC days, today included."""
    return Period(start=today - timedelta(days=days - 1), end=today + timedelta(days=1))


def _in(queryset: QuerySet, field: str, period: Period) -> QuerySet:
    start, end = period.bounds
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def _activity(workspace: Workspace, period: Period) -> dict[str, Any]:
    """Rooms engaged, views, unique viewers and engagements by type in one period."""
    visits = _in(Visit.objects.for_workspace(workspace), "at", period)
    engagements = _in(Engagement.objects.for_workspace(workspace), "created_at", period)
    seen = visits.aggregate(
        views=Count("pk"),
        # Exactly one of user/contact is set per visit, so the two distinct counts add up.
        users=Count("user", distinct=True),
        contacts=Count("contact", distinct=True),
    )
    by_type = dict(
        engagements.order_by()
        .values_list("type")
        .annotate(count=Count("pk"))
        .values_list("type", "count")
    )
    # One probe of the (room, time) indexes per room, cheaper than de-duplicating the rows.
    engaged_rooms = (
        Room.objects.filter(workspace=workspace)
        .filter(
            Exists(visits.filter(room=OuterRef("pk")))
            | Exists(engagements.filter(room=OuterRef("pk")))
        )
        .count()
    )
    return {
        "rooms_engaged": engaged_rooms,
        "views": seen["views"],
        "unique_viewers": seen["users"] + seen["contacts"],
        "engagements": sum(by_type.values()),
        "engagements_by_type": {type_: by_type.get(type_, 0) for type_ in Engagement.Type.values},
    }


def _compared(current: dict, previous: dict) -> dict[str, Any]:
    """{figure: {"current": n, "previous": n}}, also inside the by-type breakdown."""
    return {
        name: _compared(value, previous[name])
        if isinstance(value, dict)
        else {"current": value, "previous": previous[name]}
        for name, value in current.items()
    }


def _daily_activity(visits: QuerySet, engagements: QuerySet, period: Period) -> list[dict]:
    """Views (visits) and engagements per UTC day of the period, every day listed."""
    per_day = {}
    for name, rows, field in (("views", visits, "at"), ("engagements", engagements, "created_at")):
        per_day[name] = dict(
            _in(rows, field, period)
            .annotate(day=TruncDate(field, tzinfo=UTC))
            .order_by()
            .values_list("day")
            .annotate(count=Count("pk"))
        )
    return [
        {
            "date": day.isoformat(),
            "views": per_day["views"].get(day, 0),
            "engagements": per_day["engagements"].get(day, 0),
        }
        for day in period.day_list()
    ]


def _top_rooms(workspace: Workspace, period: Period) -> list[dict[str, Any]]:
    """The rooms with the most engagements in the period; ties by room id."""
    counts = list(
        _in(Engagement.objects.for_workspace(workspace), "created_at", period)
        .order_by()
        .values("room_id")
        .annotate(engagements=Count("pk"))
        .order_by("-engagements", "room_id")[:TOP_ROOMS]
    )
    rooms = Room.objects.filter(pk__in=[row["room_id"] for row in counts]).in_bulk()
    return [
        {
            "id": str(row["room_id"]),
            "title": rooms[row["room_id"]].title,
            "engagements": row["engagements"],
        }
        for row in counts
    ]


def _action_plan_progress(workspace: Workspace) -> float | None:
    """The mean, over live rooms with at least one (not cancelled) action item, of the share
    of their action items that are done, in percent; None without such rooms. A state, not
    activity: it has no previous period."""
    actions = Action.objects.filter(
        section__room__workspace=workspace,
        section__room__is_template=False,
        section__room__archived=False,
    ).exclude(status=Action.Status.CANCELLED)
    per_room = (
        actions.order_by()
        .values("section__room_id")
        .annotate(
            share=Cast(Count("pk", filter=Q(status=Action.Status.DONE)), FloatField())
            / Cast(Count("pk"), FloatField())
        )
    )
    mean = per_room.aggregate(mean=Avg("share"))["mean"]
    return None if mean is None else round(mean * 100, 1)


def _open_deal_linked() -> Q:
    """The room links to a pulled CRM deal that is neither archived nor in a closed stage."""
    links = Q()
    for provider, field in ROOM_DEAL_FIELDS.items():
        open_deal = CrmDeal.objects.filter(
            workspace=OuterRef("workspace"),
            provider=provider,
            upstream_id=OuterRef(f"room__{field}"),
            archived=False,
        ).exclude(stage__regex=CLOSED_STAGE)
        links |= Q(Exists(open_deal))
    return links


def _gone_quiet(workspace: Workspace, *, today: date) -> list[dict[str, Any]]:
    """Live rooms with an open deal and no visit or engagement for QUIET_AFTER_DAYS days,
    the quietest first (never engaged before all others)."""
    since = _midnight(today - timedelta(days=QUIET_AFTER_DAYS - 1))
    rows = (
        RoomTotals.objects.filter(workspace=workspace, is_template=False, room__archived=False)
        .filter(Q(last_engaged_at__lt=since) | Q(last_engaged_at__isnull=True))
        .filter(_open_deal_linked())
        .order_by(F("last_engaged_at").asc(nulls_first=True), "room_id")
        .values("room_id", "room__title", "last_engaged_at")[:QUIET_LIST]
    )
    return [
        {
            "id": str(row["room_id"]),
            "title": row["room__title"],
            "last_engaged_at": row["last_engaged_at"],
        }
        for row in rows
    ]


def rooms_dashboard(*, workspace: Workspace, period: Period, today: date) -> dict[str, Any]:
    """Every room figure of the dashboard for ``period`` (see the module docstring)."""
    return {
        "period": {"start": period.start, "end": period.end - timedelta(days=1)},
        "previous_period": {
            "start": period.previous.start,
            "end": period.previous.end - timedelta(days=1),
        },
        **_compared(_activity(workspace, period), _activity(workspace, period.previous)),
        "action_plan_progress": _action_plan_progress(workspace),
        "timeline": _daily_activity(
            Visit.objects.for_workspace(workspace),
            Engagement.objects.for_workspace(workspace),
            period,
        ),
        "top_rooms": _top_rooms(workspace, period),
        "gone_quiet": _gone_quiet(workspace, today=today),
        "quiet_after_days": QUIET_AFTER_DAYS,
    }


ROOM_TIMELINE_DAYS = 30


def room_timeline(*, room: Room, today: date) -> list[dict[str, Any]]:
    """The room's views and engagements per UTC day over the last 30 days (two queries)."""
    return _daily_activity(
        Visit.objects.filter(room=room),
        Engagement.objects.filter(room=room),
        period_last_days(ROOM_TIMELINE_DAYS, today=today),
    )


def room_viewers(*, room: Room) -> list[dict[str, Any]]:
    """Who viewed what: per viewer (member or contact), the sections, pages and action items
    they viewed, their time spent and when they last visited; the latest visitor first. Two
    queries (viewership grouped by viewer, last visit per viewer)."""
    viewer = (
        "user_id",
        "user__email",
        "user__full_name",
        "contact_id",
        "contact__email",
        "contact__name",
    )
    seen = (
        Viewership.objects.filter(room=room)
        .order_by()
        .values(*viewer)
        .annotate(
            pages=Count("step", distinct=True),
            actions=Count("action", distinct=True),
            sections=Count(Coalesce("step__section", "action__section"), distinct=True),
            seconds=Sum("duration_in_seconds"),
        )
    )
    last_visits = {
        (row["user_id"], row["contact_id"]): row["last"]
        for row in Visit.objects.filter(room=room)
        .order_by()
        .values("user_id", "contact_id")
        .annotate(last=Max("at"))
    }
    rows = [
        {
            "name": row["user__full_name"] or row["contact__name"] or "",
            "email": row["user__email"] or row["contact__email"],
            "internal": row["user_id"] is not None,
            "sections": row["sections"],
            "pages": row["pages"],
            "actions": row["actions"],
            "seconds": row["seconds"] or 0,
            "last_seen": last_visits.get((row["user_id"], row["contact_id"])),
        }
        for row in seen
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(rows, key=lambda row: (row["last_seen"] or oldest, row["email"]), reverse=True)
