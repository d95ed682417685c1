"""Workspace-level webinar figures for a period (rooms.dashboard.Period): what the console's
home dashboard shows and ``GET /api/dashboard/webinars`` returns (one source).

Four queries whatever the data: registrations of both periods, registrations per UTC day, the
funnel of the sessions that started in the period, and the upcoming sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from events.models import Registrant, Session
from rooms.dashboard import Period
from workspaces.models import Workspace

FUNNEL_SESSIONS = 10
UPCOMING_SESSIONS = 10
# A replay view: minutes watched by a registrant who did not attend live.
REPLAY = Q(attended=False, minutes_watched__gt=0)
WATCHED_REPLAY = Q(registrants__attended=False, registrants__minutes_watched__gt=0)


def _registrations(workspace: Workspace, period: Period) -> dict[str, int]:
    current, previous = (p.bounds for p in (period, period.previous))
    return Registrant.objects.for_workspace(workspace).aggregate(
        current=Count("pk", filter=Q(registered_at__gte=current[0], registered_at__lt=current[1])),
        previous=Count(
            "pk", filter=Q(registered_at__gte=previous[0], registered_at__lt=previous[1])
        ),
    )


def _registrations_timeline(workspace: Workspace, period: Period) -> list[dict[str, Any]]:
    start, end = period.bounds
    per_day = dict(
        Registrant.objects.for_workspace(workspace)
        .filter(registered_at__gte=start, registered_at__lt=end)
        .annotate(day=TruncDate("registered_at", tzinfo=UTC))
        .order_by()
        .values_list("day")
        .annotate(count=Count("pk"))
    )
    return [
        {"date": day.isoformat(), "registrations": per_day.get(day, 0)} for day in period.day_list()
    ]


def _session_row(session: Session) -> dict[str, Any]:
    return {
        "token": session.token,
        "event": session.event.title,
        "starts_at": session.starts_at,
        "timezone": session.timezone,
    }


def _funnel(workspace: Workspace, period: Period) -> list[dict[str, Any]]:
    """Registered → attended → watched the replay, for the sessions that started in the
    period (the latest first)."""
    start, end = period.bounds
    sessions = (
        Session.objects.for_workspace(workspace)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("event")
        .annotate(
            registered=Count("registrants"),
            attended=Count("registrants", filter=Q(registrants__attended=True)),
            watched_replay=Count("registrants", filter=WATCHED_REPLAY),
        )
        .order_by("-starts_at", "-id")[:FUNNEL_SESSIONS]
    )
    return [
        {
            **_session_row(session),
            "registered": session.registered,
            "attended": session.attended,
            "watched_replay": session.watched_replay,
        }
        for session in sessions
    ]


def _upcoming(workspace: Workspace, now: datetime) -> list[dict[str, Any]]:
    sessions = (
        Session.objects.for_workspace(workspace)
        .filter(starts_at__gte=now)
        .select_related("event")
        .annotate(registrants_count=Count("registrants"))
        .order_by("starts_at", "id")[:UPCOMING_SESSIONS]
    )
    return [
        {**_session_row(session), "registrants": session.registrants_count} for session in sessions
    ]


def webinars_dashboard(*, workspace: Workspace, period: Period, now: datetime) -> dict[str, Any]:
    return {
        "period": {"start": period.start, "end": period.end - timedelta(days=1)},
        "registrations": _registrations(workspace, period),
        "registrations_timeline": _registrations_timeline(workspace, period),
        "funnel": _funnel(workspace, period),
        "upcoming": _upcoming(workspace, now),
    }


def session_figures(session: Session) -> dict[str, Any]:
    """A session's registrations per UTC day (from the first registration to the later of the
    last one and the session's start) and its registered / attended / watched-replay counts.
    Two queries."""
    registrants = Registrant.objects.filter(session=session)
    # Aggregate names differ from the fields the filters read.
    counts = registrants.aggregate(
        n_registered=Count("pk"),
        n_attended=Count("pk", filter=Q(attended=True)),
        n_replay=Count("pk", filter=REPLAY),
    )
    per_day = dict(
        registrants.annotate(day=TruncDate("registered_at", tzinfo=UTC))
        .order_by()
        .values_list("day")
        .annotate(count=Count("pk"))
    )
    days = []
    if per_day:
        first = min(per_day)
        last = max(max(per_day), session.starts_at.astimezone(UTC).date())
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    timeline = [{"date": day.isoformat(), "registrations": per_day.get(day, 0)} for day in days]
    return {
        "registered": counts["n_registered"],
        "attended": counts["n_attended"],
        "watched_replay": counts["n_replay"],
        "timeline": timeline,
    }
