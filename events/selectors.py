"""Reads of the webinar app. Each returns a queryset or plain data in a fixed number of
queries, whatever the number of sessions or registrants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, FloatField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Round

from config.errors import NotFound
from events.models import Operator, Registrant, Session, SessionOperator, Survey
from events.timing import AccessStatus, access_status_q
from workspaces.models import Workspace


def _with_details(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Everything the session object of the API shows: event, creator and operators."""
    return sessions.select_related("event__creator").prefetch_related(
        Prefetch(
            "session_operators",
            queryset=SessionOperator.objects.select_related("operator").order_by("id"),
        )
    )


def _with_analytics(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """registrants, attendees and attendanceRate (percent of registrants who attended, two
    decimals, 0 without registrants), counted by the database."""
    return sessions.annotate(
        registrant_count=Count("registrants"),
        attendee_count=Count("registrants", filter=Q(registrants__attended=True)),
    ).annotate(
        attendance_rate=Case(
            When(registrant_count=0, then=Value(0.0)),
            default=Round(Cast(F("attendee_count") * 100, FloatField()) / F("registrant_count"), 2),
            output_field=FloatField(),
        )
    )


def session_list(
    *,
    workspace: Workspace,
    status: AccessStatus | None,
    with_analytics: bool,
    now: dt.datetime,
) -> QuerySet[Session]:
    sessions = Session.objects.for_workspace(workspace)
    if status is not None:
        sessions = sessions.filter(access_status_q(status, now))
    if with_analytics:
        sessions = _with_analytics(sessions)
    return _with_details(sessions).order_by("starts_at", "id")


def _first_session(sessions: QuerySet[Session], message: str) -> Session:
    session = sessions.first()
    if session is None:
        raise NotFound(message)
    return session


def session_public_get(*, token: str, workspace: Workspace | None) -> Session:
    """A published session, or a draft when the caller acts for the session's workspace."""
    visible = Q(published=True)
    if workspace is not None:
        visible |= Q(event__workspace=workspace)
    return _first_session(
        _with_details(Session.objects.filter(visible, token=token)),
        "No published session with this sessionToken.",
    )


def session_get(*, workspace: Workspace, token: str, detailed: bool = False) -> Session:
    """A session of ``workspace``; another workspace's token is 404 like an unknown one.
    ``detailed`` also loads what the session object of the API shows."""
    sessions = Session.objects.for_workspace(workspace).filter(token=token)
    sessions = _with_details(sessions) if detailed else sessions.select_related("event")
    return _first_session(sessions, "No session with this sessionToken.")


def survey_get(*, session: Session, survey_id: int) -> Survey:
    survey = Survey.objects.filter(session=session, pk=survey_id).first()
    if survey is None:
        raise NotFound("No survey with this id in the session.")
    return survey


@dataclass(frozen=True)
class Page:
    rows: list
    total: int


def registrant_page(*, session: Session, page: int, limit: int) -> Page:
    registrants = (
        Registrant.objects.filter(session=session)
        .select_related("session")
        .order_by("registered_at", "id")
    )
    offset = (page - 1) * limit
    return Page(rows=list(registrants[offset : offset + limit]), total=registrants.count())


def survey_list(*, session: Session) -> QuerySet[Survey]:
    return (
        Survey.objects.filter(session=session)
        .annotate(response_count=Count("responses"))
        .order_by("id")
    )


def operator_list(*, workspace: Workspace) -> QuerySet[Operator]:
    return Operator.objects.for_workspace(workspace).order_by("id")
