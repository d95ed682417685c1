"""Writes of the webinar app: operators, events with their first session, registrations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import Conflict, NotFound, invalid_field
from events.login_links import login_link
from events.models import Event, Operator, Registrant, Session, SessionOperator
from events.timing import AccessStatus, access_status
from rooms.services import contact_get_or_create
from syncing.providers.webinar_platform import push
from workspaces.models import Workspace


def operator_create(
    *, workspace: Workspace, email: str, first_name: str, last_name: str = "", permission: int = 0
) -> Operator:
    """A new operator; its email (any case) must not belong to another operator of the
    workspace (409 naming ``email``; the database constraint settles concurrent requests)."""
    try:
        with transaction.atomic():
            return Operator.objects.create(
                workspace=workspace,
                email=email,
                first_name=first_name,
                last_name=last_name,
                permission=permission,
            )
    except IntegrityError as error:
        message = "An operator with this email already exists."
        raise Conflict(f"email: {message}", fields={"email": [message]}) from error


@dataclass(frozen=True)
class OperatorAssignment:
    operator_id: int
    role: int
    mic_enabled: bool
    cam_enabled: bool
    screen_sharing_enabled: bool


def _workspace_operators(workspace: Workspace, ids: list[int]) -> dict[int, Operator]:
    return Operator.objects.for_workspace(workspace).in_bulk(ids)


@transaction.atomic
def event_create(
    *,
    workspace: Workspace,
    creator_id: int,
    title: str,
    description: str = "",
    date: dt.date,
    time: dt.time,
    timezone: str,
    operators: list[OperatorAssignment],
    published: bool = False,
    duration: Decimal = Decimal(1),
    early_access_period: int = 15,
    video_record: bool = False,
    on_demand_replays: bool = False,
) -> Session:
    """An event with its one session (the spec's "barebones event"); returns the session.

    The creator and every operator must be operators of ``workspace`` (400 naming
    ``creatorID`` or ``operators.<n>.id``); the wall-clock start must exist in ``timezone``
    (the caller validated it with ``events.timing.local_start``). With a webinar-platform
    connection, its upstream creation is enqueued in the same transaction
    (``syncing.providers.webinar_platform.push``)."""
    known = _workspace_operators(
        workspace, [creator_id, *(assignment.operator_id for assignment in operators)]
    )
    if creator_id not in known:
        raise invalid_field("creatorID", "No operator with this id in the workspace.")
    for index, assignment in enumerate(operators):
        if assignment.operator_id not in known:
            raise invalid_field(
                f"operators.{index}.id", "No operator with this id in the workspace."
            )
    event = Event.objects.create(
        workspace=workspace, creator=known[creator_id], title=title, description=description
    )
    session = Session(
        event=event,
        date=date,
        time=time,
        timezone=timezone,
        duration=duration,
        early_access_period=early_access_period,
        published=published,
        video_record=video_record,
        on_demand_replays=on_demand_replays,
    )
    session.schedule()
    session.save()
    SessionOperator.objects.bulk_create(
        SessionOperator(
            session=session,
            operator=known[assignment.operator_id],
            role=assignment.role,
            mic_enabled=assignment.mic_enabled,
            cam_enabled=assignment.cam_enabled,
            screen_sharing_enabled=assignment.screen_sharing_enabled,
        )
        for assignment in operators
    )
    push.event_push_create(session=session)
    return session


@dataclass(frozen=True)
class Registration:
    registrant: Registrant
    created: bool


def registrant_register(
    *, session_token: str, email: str, first_name: str, last_name: str = ""
) -> Registration:
    """Register ``email`` for a published session (public: anyone may call it).

    The same email again (any case) returns the existing registration unchanged. A new
    registration for a session whose access is closed is refused unless it offers on-demand
    replays. A new registration is pushed upstream (``syncing.providers.webinar_platform.push``)
    in the same transaction."""
    session = (
        Session.objects.select_related("event__workspace")
        .filter(token=session_token, published=True)
        .first()
    )
    if session is None:
        raise NotFound("No published session with this eventSessionToken.")
    existing = session.registrants.filter(email__iexact=email).first()
    if existing is not None:
        return Registration(registrant=existing, created=False)
    status = access_status(opens_at=session.opens_at, ends_at=session.ends_at, now=timezone.now())
    if status is AccessStatus.CLOSED and not session.on_demand_replays:
        raise invalid_field(
            "eventSessionToken",
            "Registration is closed: this session has ended and offers no on-demand replays.",
        )
    registrant = Registrant(
        session=session, email=email, first_name=first_name, last_name=last_name
    )
    registrant_contact_link(registrant=registrant)
    try:
        with transaction.atomic():
            registrant.save()
            push.registrant_push_create(registrant=registrant)
    except IntegrityError:
        # A concurrent request registered the same email between our read and our insert.
        return Registration(registrant=session.registrants.get(email__iexact=email), created=False)
    return Registration(registrant=registrant, created=True)


def registrant_login_link_send(*, registrant: Registrant) -> None:
    """E-mail the registrant's login link, from a worker once the request committed (a slow
    mail server never holds a request, and a rolled-back registration sends nothing)."""
    from events.tasks import registrant_login_link_email

    transaction.on_commit(lambda: registrant_login_link_email.delay(registrant.pk))


def registrant_login_link_email(*, registrant_id: int) -> None:
    registrant = (
        Registrant.objects.select_related("session__event").filter(pk=registrant_id).first()
    )
    if registrant is None:
        return
    event = registrant.session.event
    send_mail(
        subject=f"Your link to {event.title}",
        message=(
            f"Hello {registrant.first_name},\n\nyou are registered for {event.title}. "
            f"Join with your personal link:\n\n{login_link(registrant)}\n\n"
            "Do not share it: it logs you in."
        ),
        from_email=None,
        recipient_list=[registrant.email],
    )


def registrant_contact_link(*, registrant: Registrant) -> None:
    """Point the registrant at the workspace's rooms contact with its email (created if new,
    by the rooms app's service). The caller saves the registrant."""
    registrant.contact = contact_get_or_create(
        workspace=registrant.session.event.workspace,
        email=registrant.email,
        name=f"{registrant.first_name} {registrant.last_name}".strip(),
    )
