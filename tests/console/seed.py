"""A workspace with known dashboard figures, relative to the real today (the browser tests
cannot freeze the live server's clock). Period of 30 days: [today - 29 d, today]."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from rooms.models import Action, Engagement, Room
from rooms.totals import refresh_room_totals
from syncing.models import Connection, CrmDeal
from tests.events.factories import RegistrantFactory, SessionFactory
from tests.insights.factories import (
    ChatMessageFactory,
    ChatUserFactory,
    FlowTriggerFactory,
    RecordingFactory,
)
from tests.rooms.factories import (
    ActionFactory,
    ContactFactory,
    EngagementFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    VisitFactory,
)


@dataclass
class Seeded:
    busy: Room
    calm: Room
    quiet: Room
    closed: Room


def days_ago(days: int, hour: int = 12) -> dt.datetime:
    today = timezone.now().astimezone(dt.UTC).date()
    return dt.datetime.combine(today - dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC)


def _engage(room: Room, step, when: dt.datetime, type_: str = Engagement.Type.CLICK) -> None:
    EngagementFactory(step=step, created_at=when, type=type_)


def seed_dashboard(workspace) -> Seeded:
    busy = RoomFactory(workspace=workspace, title="Busy room")
    calm = RoomFactory(workspace=workspace, title="Calm room")
    quiet = RoomFactory(workspace=workspace, title="Quiet room", hs_deal_id="open-1")
    closed = RoomFactory(workspace=workspace, title="Closed room", hs_deal_id="won-1")
    steps = {}
    for room in (busy, calm, quiet, closed):
        section = SectionFactory(room=room)
        steps[room] = StepFactory(section=section)
    # Busy: 3 engagements (2 clicks, 1 view) and 2 visits by two contacts now; 1 before.
    _engage(busy, steps[busy], days_ago(1))
    _engage(busy, steps[busy], days_ago(2))
    _engage(busy, steps[busy], days_ago(2), Engagement.Type.VIEW)
    _engage(busy, steps[busy], days_ago(40))
    VisitFactory(room=busy, at=days_ago(1))
    VisitFactory(room=busy, at=days_ago(3))
    # Calm: 1 comment now, one visit before.
    _engage(calm, steps[calm], days_ago(5), Engagement.Type.COMMENT)
    VisitFactory(room=calm, at=days_ago(35))
    # Quiet: open deal, last activity 20 days ago (inside the period, but quiet for 14 days).
    contact = ContactFactory(workspace=workspace)
    VisitFactory(room=quiet, at=days_ago(20), contact=contact)
    VisitFactory(room=quiet, at=days_ago(21), contact=contact)
    refresh_room_totals([busy.pk, calm.pk, quiet.pk, closed.pk])
    # get_or_create: a test may seed the same workspace twice.
    connection, _ = Connection.objects.get_or_create(
        workspace=workspace,
        name="HubSpot",
        defaults={"provider": Connection.Provider.HUBSPOT, "base_url": "http://127.0.0.1:9/"},
    )
    for upstream_id, stage in (("open-1", "presentationscheduled"), ("won-1", "closedwon")):
        CrmDeal.objects.get_or_create(
            workspace=workspace,
            provider=Connection.Provider.HUBSPOT,
            upstream_id=upstream_id,
            defaults={"connection": connection, "name": upstream_id, "stage": stage},
        )
    # Action plans: busy 1 of 2 done (50 %), calm 1 of 1 done (100 %, the cancelled one
    # does not count): mean 75 %.
    ActionFactory(section=steps[busy].section, status=Action.Status.DONE)
    ActionFactory(section=steps[busy].section, status=Action.Status.TODO)
    ActionFactory(section=steps[calm].section, status=Action.Status.DONE)
    ActionFactory(section=steps[calm].section, status=Action.Status.CANCELLED)
    # Webinars: a session 3 days ago (3 registered, 1 attended, 1 watched the replay) and one
    # in 10 days with 2 registrants.
    past = SessionFactory(workspace=workspace, date=days_ago(3).date())
    RegistrantFactory(session=past, registered_at=days_ago(6), attended=True)
    RegistrantFactory(session=past, registered_at=days_ago(6), minutes_watched=12)
    RegistrantFactory(session=past, registered_at=days_ago(45))
    upcoming = SessionFactory(workspace=workspace, date=days_ago(-10).date())
    RegistrantFactory(session=upcoming, registered_at=days_ago(1))
    RegistrantFactory(session=upcoming, registered_at=days_ago(2))
    # Chatbot: 2 messages of one user now.
    user = ChatUserFactory(workspace=workspace, first_seen_at=days_ago(4))
    ChatMessageFactory(user=user, sent_at=days_ago(4))
    ChatMessageFactory(user=user, sent_at=days_ago(2))
    FlowTriggerFactory(user=user, at=days_ago(3))
    RecordingFactory(room=busy, created_at=days_ago(5), duration_seconds=180)
    return Seeded(busy=busy, calm=calm, quiet=quiet, closed=closed)
