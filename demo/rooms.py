"""Demo rooms: companies, statuses, labels, 40 rooms (and two templates) with sections, pages and
action items, and 90 days of visits, views and engagements sent through the activity ingestion
(``rooms.activity.activity_ingest``), so every total and rollup it maintains is filled as a
client's events would fill it.

The shape of the activity: each room has its own appetite (a log-normal rate), heats up a
couple of weeks after it is shared, cools down once the deal closes, and sees a quarter of its
weekday traffic at weekends.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import batched

from demo.cast import (
    ACTION,
    BUYER_TITLES,
    COMPANIES,
    COMPANY,
    DAYS,
    DEAL_TOPICS,
    FIRST_NAMES,
    LABEL,
    LABELS,
    LAST_NAMES,
    PAGE,
    ROOM,
    ROOM_PLAN,
    SECTION,
    STATUS,
    STATUSES,
    Person,
    demo_uuid,
)
from rooms.activity import ENGAGEMENT, MAX_EVENTS, VIEW, VISIT, ActivityEvent, activity_ingest
from rooms.models import (
    Access,
    Action,
    ActionAssignee,
    Company,
    Contact,
    Engagement,
    Label,
    Room,
    RoomContact,
    RoomMember,
    RoomStatus,
    Section,
    Step,
)
from rooms.services import room_create
from workspaces.models import User, Workspace

ROOM_COUNT = 40
TEMPLATES = ("Enterprise evaluation (template)", "Mid-market quick start (template)")
# HubSpot deal ids of the rooms linked to a deal (demo.crm stores the deals).
HUBSPOT_DEAL_BASE = 9_100_000_000
LINKED_ROOMS = range(1, 9)
ENGAGEMENT_TYPES = ("CLICK", "DOWNLOAD", "COMMENT", "REACTION", "SHARE")


@dataclass
class DemoRoom:
    room: Room
    number: int
    buyers: list[Person]
    team: list[User]
    closed_days_ago: int | None
    stage: int  # index into demo.cast.STATUSES
    pages: list = field(default_factory=list)
    done_actions: list = field(default_factory=list)


def hubspot_deal_id(room_number: int) -> str:
    return str(HUBSPOT_DEAL_BASE + room_number)


def _buyers(rng: random.Random, domain: str, count: int) -> list[Person]:
    names = rng.sample(FIRST_NAMES, count)
    return [
        Person(
            f"{first.lower()}.{last.lower()}@{domain}", f"{first} {last}", rng.choice(BUYER_TITLES)
        )
        for first, last in zip(names, rng.sample(LAST_NAMES, count), strict=True)
    ]


def _reference_rows(workspace: Workspace) -> tuple[list[Company], list[RoomStatus], list[Label]]:
    companies = Company.objects.bulk_create(
        Company(
            id=demo_uuid(COMPANY, n),
            workspace=workspace,
            name=name,
            domain=domain,
            brand_color=color,
        )
        for n, (name, domain, color) in enumerate(COMPANIES, start=1)
    )
    statuses = RoomStatus.objects.bulk_create(
        RoomStatus(
            id=demo_uuid(STATUS, n),
            workspace=workspace,
            title=title,
            position=n,
            is_default=n == 1,
        )
        for n, title in enumerate(STATUSES, start=1)
    )
    labels = Label.objects.bulk_create(
        Label(id=demo_uuid(LABEL, n), workspace=workspace, name=name, color=color)
        for n, (name, color) in enumerate(LABELS, start=1)
    )
    return companies, statuses, labels


def contacts_create(
    workspace: Workspace, people: list[tuple[Person, Company | None, datetime]]
) -> None:
    """Contacts with names, titles and companies; a person met before (a buyer who also
    attends webinars) keeps the contact made first."""
    Contact.objects.bulk_create(
        [
            Contact(
                workspace=workspace,
                email=person.email,
                name=person.name,
                job_title=person.job_title,
                company=company,
                created_at=at,
            )
            for person, company, at in people
        ],
        ignore_conflicts=True,
    )


def _stage(rng: random.Random, age_days: int) -> tuple[int, int | None]:
    """(status index, days ago it closed or None): older rooms are further along."""
    if age_days > 45 and rng.random() < 0.75:
        won = rng.random() < 0.6
        return (4 if won else 5), rng.randrange(3, max(4, age_days - 30))
    progress = min(3, int(age_days / 12 + rng.random() * 1.5))
    return progress, None


@dataclass
class _Structure:
    """Sections, pages, action items and assignees of every room, inserted together (four
    queries for all rooms instead of a dozen per room through the per-room services)."""

    sections: list[Section] = field(default_factory=list)
    pages: list[Step] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    assignees: list[ActionAssignee] = field(default_factory=list)

    def add_room(
        self, demo: DemoRoom, rng: random.Random, seller: User, buyer: Contact | None
    ) -> None:
        room, number, stage = demo.room, demo.number, demo.stage
        common = {"workspace_id": room.workspace_id}
        for s, (title, page_titles, actions) in enumerate(ROOM_PLAN, start=1):
            section = Section(
                **common,
                id=demo_uuid(SECTION, number, s),
                room=room,
                title=title,
                position=s,
                is_completed=s <= stage,
            )
            self.sections.append(section)
            pages = [
                Step(
                    **common,
                    id=demo_uuid(PAGE, number, s, p),
                    section=section,
                    title=title,
                    position=p,
                )
                for p, title in enumerate(page_titles, start=1)
            ]
            demo.pages += pages
            self.pages += pages
            done = round(len(actions) * min(1.0, stage / 4 + rng.random() * 0.2))
            for a, (title, internal) in enumerate(actions, start=1):
                status = Action.Status.DONE if a <= done else Action.Status.TODO
                if a == done + 1 and stage < 4:
                    status = Action.Status.IN_PROGRESS
                action = Action(
                    **common,
                    id=demo_uuid(ACTION, number, s, a),
                    section=section,
                    step=pages[0] if pages else None,
                    title=title,
                    status=status,
                    internal=internal,
                    access=Access.HIDDEN if internal else Access.VISIBLE,
                    due_date=room.created_at + timedelta(days=7 * a),
                    position=a,
                )
                self.actions.append(action)
                if status == Action.Status.DONE:
                    demo.done_actions.append(action)
                by_buyer = buyer is not None and not internal and a % 2 == 0
                self.assignees.append(
                    ActionAssignee(
                        **common,
                        action=action,
                        user=None if by_buyer else seller,
                        contact=buyer if by_buyer else None,
                    )
                )

    def save(self) -> None:
        Section.objects.bulk_create(self.sections)
        Step.objects.bulk_create(self.pages)
        Action.objects.bulk_create(self.actions)
        ActionAssignee.objects.bulk_create(self.assignees)


def rooms_create(
    *, workspace: Workspace, team: list[User], now: datetime, rng: random.Random
) -> list[DemoRoom]:
    companies, statuses, labels = _reference_rows(workspace)
    plans = []
    for number in range(1, ROOM_COUNT + 1):
        company = companies[(number - 1) % len(companies)]
        age_days = 2 + (number * 37) % (DAYS - 4)
        status_index, closed = _stage(rng, age_days)
        plans.append((number, company, age_days, status_index, closed))
    people = []
    buyers_of = {}
    for number, company, age_days, _, _ in plans:
        buyers_of[number] = _buyers(rng, company.domain, rng.randrange(2, 5))
        people += [(b, company, now - timedelta(days=age_days)) for b in buyers_of[number]]
    contacts_create(workspace, people)

    demo_rooms = []
    for number, company, age_days, status_index, closed in plans:
        expansion = number > len(companies)
        # Account executives and the sales manager own new business; customer success, expansions.
        owner = team[4] if expansion else (team[0], team[1], team[3])[number % 3]
        room = room_create(
            workspace=workspace,
            id=demo_uuid(ROOM, number),
            title=f"{company.name}: {'Expansion' if expansion else rng.choice(DEAL_TOPICS)}",
            description=f"Everything {company.name} and {workspace.internal_company_name} "
            "need to decide together, in one place.",
            owner=owner,
            status=statuses[status_index],
            company=company,
            label=labels[2] if expansion else labels[number % 2],
            contact_email=buyers_of[number][0].email,
            hs_deal_id=hubspot_deal_id(number) if number in LINKED_ROOMS else "",
            cover_title=f"Welcome, {company.name}",
            theme_color=company.brand_color,
            created_at=now - timedelta(days=age_days),
        )
        demo_rooms.append(
            DemoRoom(room, number, buyers_of[number], [owner, team[2]], closed, status_index)
        )
    contacts = {c.email: c for c in Contact.objects.for_workspace(workspace)}
    structure = _Structure()
    for demo in demo_rooms:
        structure.add_room(demo, rng, demo.team[0], contacts[demo.buyers[0].email])
    _room_people(workspace, demo_rooms, contacts)
    for offset, title in enumerate(TEMPLATES, start=1):
        template = room_create(
            workspace=workspace,
            id=demo_uuid(ROOM, ROOM_COUNT + offset),
            title=title,
            owner=team[3],
            is_template=True,
            created_at=now - timedelta(days=DAYS),
        )
        structure.add_room(
            DemoRoom(template, ROOM_COUNT + offset, [], [], None, 0), rng, team[3], None
        )
    structure.save()
    return demo_rooms


def _room_people(
    workspace: Workspace, demo_rooms: list[DemoRoom], contacts: dict[str, Contact]
) -> None:
    """The solutions engineer on every room's team; every buyer on their room."""
    RoomMember.objects.bulk_create(
        [
            RoomMember(workspace=workspace, room=demo.room, user=demo.team[1])
            for demo in demo_rooms
            if demo.team[1] != demo.team[0]
        ],
        ignore_conflicts=True,
    )
    RoomContact.objects.bulk_create(
        [
            RoomContact(workspace=workspace, room=demo.room, contact=contacts[buyer.email])
            for demo in demo_rooms
            for buyer in demo.buyers[1:]
        ]
    )


# --- activity ---------------------------------------------------------------------------------


def _poisson(rng: random.Random, rate: float) -> int:
    threshold, count, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _daily_rate(appetite: float, day: int, peak: int, closed_day: int | None) -> float:
    warmth = 0.35 + 1.3 * math.exp(-((day - peak) ** 2) / (2 * 6**2))
    if closed_day is not None and day > closed_day:
        warmth *= 0.15
    return appetite * warmth


def _room_activity(demo: DemoRoom, rng: random.Random, now: datetime) -> list[ActivityEvent]:
    room = demo.room
    age_days = (now - room.created_at).days
    closed_day = None if demo.closed_days_ago is None else age_days - demo.closed_days_ago
    appetite = rng.lognormvariate(0.2, 0.6)
    peak = rng.randrange(5, 25)
    visible_pages = [page for page in demo.pages if page.access == Access.VISIBLE]
    viewers = [(b.email, b.name) for b in demo.buyers] + [(u.email, u.full_name) for u in demo.team]
    weights = [3] + [1] * (len(demo.buyers) - 1) + [0.4] * len(demo.team)
    events: list[ActivityEvent] = []

    def add(**fields) -> None:
        events.append(
            ActivityEvent(index=len(events), id=f"demo-{demo.number}-{len(events)}", **fields)
        )

    for day in range(age_days + 1):
        date = room.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
        date += timedelta(days=day)
        weekend = date.weekday() >= 5
        rate = _daily_rate(appetite, day, peak, closed_day) * (0.25 if weekend else 1.0)
        for _ in range(_poisson(rng, rate)):
            at = date + timedelta(hours=rng.triangular(7, 20, 14), seconds=rng.randrange(60))
            if at > now:
                continue
            email, name = rng.choices(viewers, weights)[0]
            add(kind=VISIT, email=email, name=name, at=at)
            for page in rng.sample(visible_pages, min(len(visible_pages), rng.randrange(1, 5))):
                at = min(now, at + timedelta(seconds=rng.randrange(5, 90)))
                seconds = max(5, min(1800, int(rng.lognormvariate(3.6, 0.9))))
                add(
                    kind=VIEW,
                    email=email,
                    name=name,
                    at=at,
                    step_id=page.id,
                    duration_in_seconds=seconds,
                )
                if rng.random() < 0.3:
                    add(
                        kind=ENGAGEMENT,
                        email=email,
                        name=name,
                        at=at,
                        step_id=page.id,
                        engagement_type=rng.choice(ENGAGEMENT_TYPES),
                    )
    visits = [event for event in events if event.kind == VISIT]
    for action in demo.done_actions:
        if visits:
            visit = rng.choice(visits)
            add(
                kind=ENGAGEMENT,
                email=visit.email,
                name=visit.name,
                at=visit.at,
                action_id=action.id,
                engagement_type=Engagement.Type.TASK_COMPLETED,
            )
    return events


def rooms_activity_create(*, demo_rooms: list[DemoRoom], now: datetime, rng: random.Random) -> int:
    """Send each room's 90 days of events through the ingestion, in batches it accepts."""
    stored = 0
    for demo in demo_rooms:
        for batch in batched(_room_activity(demo, rng, now), MAX_EVENTS):
            stored += activity_ingest(room=demo.room, events=list(batch)).accepted
    return stored
