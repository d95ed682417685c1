"""Demo webinars: three operators, six events with past and future sessions, registrants (many
of them the rooms' buyers), attendance, attendee and operator chat, and a survey with answers
for every past session. Stored with set-based inserts; tokens and ids are fixed (demo.cast)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from demo.cast import (
    BUYER_TITLES,
    FIRST_NAMES,
    LAST_NAMES,
    Person,
    fixed_ids,
    sequences_reset,
)
from demo.rooms import DemoRoom, contacts_create
from events.models import (
    ChatMessage,
    Event,
    Operator,
    Registrant,
    Session,
    SessionOperator,
    Survey,
    SurveyResponse,
)
from rooms.models import Contact
from workspaces.models import User, Workspace

OPERATOR_IDS_FROM = 101
SURVEY_IDS_FROM = 101
# (token, title, [(days from today, local time, timezone, published)])
EVENTS = [
    (
        "launch",
        "Product launch: Brightwave 5.0",
        [
            (-62, "16:00", "Europe/Berlin", True),
            (-27, "11:00", "America/New_York", True),
            (12, "16:00", "Europe/Berlin", True),
        ],
    ),
    (
        "live-demo",
        "Live demo: mutual action plans that close deals",
        [
            (-41, "17:00", "Europe/London", True),
            (-13, "17:00", "Europe/London", True),
            (15, "17:00", "Europe/London", True),
        ],
    ),
    (
        "security",
        "Security & compliance briefing",
        [(-34, "15:00", "Europe/Paris", True), (22, "15:00", "Europe/Paris", True)],
    ),
    (
        "roundtable",
        "Customer roundtable: rolled out in 30 days",
        [(-20, "18:00", "Europe/Berlin", True)],
    ),
    ("roadmap", "Quarterly roadmap webinar", [(35, "16:00", "America/New_York", False)]),
    (
        "office-hours",
        "Onboarding office hours",
        [
            (-48, "10:00", "Europe/Madrid", True),
            (-6, "10:00", "Europe/Madrid", True),
            (8, "10:00", "Europe/Madrid", True),
            (36, "10:00", "Europe/Madrid", True),
        ],
    ),
]
QUESTIONS = ["Company", "What would you like to learn?"]
SURVEY_QUESTIONS = ["How useful was this session (1-5)?", "What should we cover next?"]
NEXT_TOPICS = ("Integrations", "Pricing", "CRM sync", "Analytics", "Security", "Onboarding")
ATTENDEE_LINES = (
    "Hi everyone, joining from {company}",
    "Can you share the slides afterwards?",
    "How does this work with HubSpot?",
    "Is there an API for this?",
    "Great demo, thanks!",
    "Does it support SSO?",
    "What does the pricing look like for 50 seats?",
    "Will the recording be available?",
)
OPERATOR_LINES = (
    "Welcome! We'll start in two minutes.",
    "Great question — we'll cover it in the Q&A.",
    "The recording will be emailed to everyone who registered.",
    "Thanks for joining, see you next time!",
)


def session_token(event: str, number: int) -> str:
    return f"demo-{event}-{number}"


def _operators(workspace: Workspace, team: list[User]) -> list[Operator]:
    people = [(team[3], 10), (team[0], 5), (team[2], 5)]
    ids = fixed_ids(Operator, OPERATOR_IDS_FROM, len(people))
    return Operator.objects.bulk_create(
        Operator(
            id=pk,
            workspace=workspace,
            email=user.email,
            first_name=user.full_name.split(" ")[0],
            last_name=user.full_name.partition(" ")[2],
            permission=permission,
        )
        for pk, (user, permission) in zip(ids, people, strict=True)
    )


def _sessions(
    workspace: Workspace, operators: list[Operator], now: datetime
) -> list[tuple[Session, str]]:
    sessions = []
    for slug, title, dates in EVENTS:
        event = Event.objects.create(
            workspace=workspace,
            token=f"demo-{slug}",
            title=title,
            description=f"{title}, hosted by the Brightwave team.",
            creator=operators[0],
            created_at=now + timedelta(days=min(d for d, *_ in dates) - 30),
        )
        for number, (days, clock, zone, published) in enumerate(dates, start=1):
            session = Session(
                event=event,
                token=session_token(slug, number),
                date=(now + timedelta(days=days)).date(),
                time=time.fromisoformat(clock),
                timezone=zone,
                duration=Decimal("1.00"),
                published=published,
                video_record=True,
                on_demand_replays=days < 0,
                has_qna=True,
                has_recording=days < 0,
                questions=QUESTIONS,
            )
            session.schedule()
            sessions.append((session, slug))
    Session.objects.bulk_create(session for session, _ in sessions)
    SessionOperator.objects.bulk_create(
        SessionOperator(
            session=session,
            operator=operator,
            role=role,
            mic_enabled=True,
            cam_enabled=True,
            screen_sharing_enabled=role == SessionOperator.Role.PRESENTER,
        )
        for session, _ in sessions
        for operator, role in (
            (operators[0], SessionOperator.Role.ORGANIZER),
            (operators[1 + session.date.toordinal() % 2], SessionOperator.Role.PRESENTER),
        )
    )
    return sessions


def _audience(rng: random.Random, demo_rooms: list[DemoRoom]) -> list[tuple[Person, str]]:
    """The rooms' buyers and 150 other people, with their company names (once each)."""
    people = {b.email: (b, d.room.company.name) for d in demo_rooms for b in d.buyers}
    for n in range(150):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{last} {rng.choice(('Group', 'GmbH', 'Inc', 'Partners', 'Labs'))}"
        domain = f"{last.lower()}{n}.example"
        person = Person(f"{first.lower()}@{domain}", f"{first} {last}", rng.choice(BUYER_TITLES))
        people[person.email] = (person, company)
    return list(people.values())


def webinars_create(
    *,
    workspace: Workspace,
    team: list[User],
    demo_rooms: list[DemoRoom],
    now: datetime,
    rng: random.Random,
) -> int:
    operators = _operators(workspace, team)
    sequences_reset(Operator)
    sessions = _sessions(workspace, operators, now)
    audience = _audience(rng, demo_rooms)
    contacts_create(workspace, [(person, None, now - timedelta(days=90)) for person, _ in audience])
    contacts = {c.email.lower(): c for c in Contact.objects.for_workspace(workspace)}
    registrants = []
    for session, _ in sessions:
        past = session.ends_at < now
        size = rng.randrange(40, 140) if past else rng.randrange(10, 50)
        for person, company in rng.sample(audience, size):
            registered_at = session.starts_at - timedelta(hours=rng.uniform(2, 24 * 21))
            attended = past and rng.random() < 0.45
            joined = session.starts_at + timedelta(minutes=rng.uniform(-5, 15))
            watched = rng.randrange(8, 60) if attended else 0
            registrants.append(
                Registrant(
                    session=session,
                    email=person.email,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    answers={QUESTIONS[0]: company, QUESTIONS[1]: rng.choice(NEXT_TOPICS)},
                    registered_at=min(registered_at, now),
                    attended=attended,
                    joined_at=joined if attended else None,
                    left_at=joined + timedelta(minutes=watched) if attended else None,
                    minutes_watched=watched,
                    contact=contacts[person.email.lower()],
                )
            )
    Registrant.objects.bulk_create(registrants)
    _chat_and_surveys(registrants, operators, sessions, now, rng)
    return len(registrants)


def _chat_and_surveys(
    registrants: list[Registrant],
    operators: list[Operator],
    sessions: list[tuple[Session, str]],
    now: datetime,
    rng: random.Random,
) -> None:
    past = [session for session, _ in sessions if session.ends_at < now]
    attendees = {session.pk: [] for session in past}
    for registrant in registrants:
        if registrant.attended:
            attendees[registrant.session_id].append(registrant)
    messages, surveys = [], []
    for session in past:
        for n, line in enumerate(OPERATOR_LINES):
            messages.append(
                ChatMessage(
                    session=session,
                    kind=ChatMessage.Kind.OPERATOR,
                    operator=operators[0],
                    text=line,
                    sent_at=session.starts_at + timedelta(minutes=n * 18),
                )
            )
        for registrant in rng.sample(attendees[session.pk], len(attendees[session.pk]) // 2):
            messages.append(
                ChatMessage(
                    session=session,
                    kind=ChatMessage.Kind.ATTENDEE,
                    registrant=registrant,
                    text=rng.choice(ATTENDEE_LINES).format(
                        company=registrant.answers[QUESTIONS[0]]
                    ),
                    sent_at=registrant.joined_at + timedelta(minutes=rng.uniform(1, 40)),
                    is_private=rng.random() < 0.15,
                )
            )
        surveys.append(
            Survey(
                session=session,
                title="How was this session?",
                questions=SURVEY_QUESTIONS,
                created_at=session.starts_at,
            )
        )
    ChatMessage.objects.bulk_create(messages)
    for survey, pk in zip(surveys, fixed_ids(Survey, SURVEY_IDS_FROM, len(surveys)), strict=True):
        survey.id = pk
    Survey.objects.bulk_create(surveys)
    sequences_reset(Survey)
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            survey=survey,
            registrant=registrant,
            answers={
                SURVEY_QUESTIONS[0]: str(rng.choices((5, 4, 3, 2), (5, 4, 2, 1))[0]),
                SURVEY_QUESTIONS[1]: rng.choice(NEXT_TOPICS),
            },
            submitted_at=survey.session.ends_at + timedelta(minutes=rng.uniform(1, 120)),
        )
        for survey in surveys
        for registrant in attendees[survey.session_id]
        if rng.random() < 0.4
    )
