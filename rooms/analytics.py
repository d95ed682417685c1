"""Room analytics (GET /api/v2/rooms/{room_id}/analytics): progress, the people on the room and
viewership per section, step and action.

A fixed number of queries whatever the room's size or activity: the room with its progress
counts (``analytics_rooms``), then the people on the room (members, contacts), the room's
visitors with their visit totals, its viewership
rows and its engagements (one query each), then the structure (sections, steps, actions, action
assignees) through prefetches. The result is assembled in one pass over those rows.

The result is the response body, ready for JSON: a large room has tens of thousands of
viewership entries and engagements, so times are formatted by the database (``IsoMillis``) and
each person's nested form is built once, instead of serializing field by field
(rooms.api.activity_serializers describes the same shape for the OpenAPI schema).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from uuid import UUID

from django.db.models import (
    CharField,
    Count,
    Func,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from rooms.compiled import CompiledValues
from rooms.models import (
    Access,
    Action,
    ActionAssignee,
    Engagement,
    Room,
    RoomContact,
    RoomMember,
    Section,
    Step,
    Viewership,
    Visit,
)
from syncing.crm.links import DEAL_SUMMARY_KEYS, with_deal_summaries
from workspaces.models import Workspace

INTERNAL = "internal_organization"
EXTERNAL = "external_organization"
# An action item assignee's ``type``, the same here and in the action items API: a workspace
# member is a "user", an external contact a "contact".
USER = "user"
CONTACT = "contact"
ASSIGNEE_TYPES = [USER, CONTACT]

# A viewer is ("user", pk) for an internal member or ("contact", pk) for an external contact;
# a target is ("step", pk) or ("action", pk).
ViewerKey = tuple[str, object]
TargetKey = tuple[str, object]

# The person columns read at the end of each activity row, so viewers come with their details.
_PERSON_COLUMNS = (
    "user_id",
    "user__email",
    "user__full_name",
    "user__job_title",
    "contact_id",
    "contact__email",
    "contact__name",
    "contact__job_title",
    "contact__internal",
)


class IsoMillis(Func):
    """A timestamp as ISO 8601 text in UTC with milliseconds and Z (2026-05-05T14:30:44.260Z),
    formatted by the database (PostgreSQL or SQLite)."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # %% survives the template, then the driver's placeholder pass, as one %.
        template = "strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%fZ', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


@dataclass
class Person:
    belongs_to: str
    email: str
    name: str | None
    title: str | None
    is_room_owner: bool = False
    is_primary_contact: bool = False
    last_seen: str | None = None
    view_count: int = 0

    @cached_property
    def summary(self) -> dict:
        """The person as nested in viewership and action assignees (no job title). Built once,
        after every person's visit totals are known."""
        data = {"belongsTo": self.belongs_to, "email": self.email, "name": self.name}
        if self.belongs_to == INTERNAL:
            data["isRoomOwner"] = self.is_room_owner
        else:
            data.update(
                isPrimaryContact=self.is_primary_contact,
                lastSeen=self.last_seen,
                viewCount=self.view_count,
            )
        return data

    def detail(self) -> dict:
        """The person as listed in the room's ``assignees``: the summary and the job title."""
        return {**self.summary, "title": self.title}


def _text(value: str | None) -> str | None:
    """Optional text is stored as ''; the API answers null."""
    return value or None


# The room's activity and people, one statement each, compiled once (see rooms.compiled): a
# typical room's analytics spent more CPU building and compiling its queries than reading rows.
_ROOM_STAND_IN = UUID("a11a1e5c-0000-4000-8000-00000000a11a")
_MEMBERS = CompiledValues(
    lambda *, room_id: (
        RoomMember.objects.filter(room_id=room_id)
        .order_by("id")
        .values_list(
            "user_id", "user__email", "user__full_name", "user__job_title", "is_room_owner"
        )
    ),
    room_id=_ROOM_STAND_IN,
)
_CONTACTS = CompiledValues(
    lambda *, room_id: (
        RoomContact.objects.filter(room_id=room_id)
        .order_by("id")
        .values_list(
            *_PERSON_COLUMNS[4:],
            "is_primary_contact",
            "is_room_owner",
            IsoMillis("upstream_last_seen"),
            "upstream_view_count",
        )
    ),
    room_id=_ROOM_STAND_IN,
)
_VISITORS = CompiledValues(
    lambda *, room_id: (
        Visit.objects.filter(room_id=room_id)
        .values(*_PERSON_COLUMNS)
        .annotate(last_seen=Max("at"), visits=Count("id"))
        .order_by("-last_seen", "user__email", "contact__email")
        .values_list(IsoMillis("last_seen"), "visits", *_PERSON_COLUMNS)
    ),
    room_id=_ROOM_STAND_IN,
)
_VIEWERSHIP = CompiledValues(
    lambda *, room_id: Viewership.objects.filter(room_id=room_id).values_list(
        "step_id", "action_id", "duration_in_seconds", "times_viewed", *_PERSON_COLUMNS
    ),
    room_id=_ROOM_STAND_IN,
)
_ENGAGEMENTS = CompiledValues(
    lambda *, room_id: (
        Engagement.objects.filter(room_id=room_id)
        .exclude(type=Engagement.Type.VIEW)
        .order_by("created_at", "id")
        .values_list("step_id", "action_id", "type", IsoMillis("created_at"), *_PERSON_COLUMNS)
    ),
    room_id=_ROOM_STAND_IN,
)


_SECTIONS = CompiledValues(
    lambda *, room_id: (
        Section.objects.filter(room_id=room_id)
        .order_by("position", "created_at", "id")
        .values("id", "title", "is_completed", "access")
    ),
    room_id=_ROOM_STAND_IN,
)
_STEPS = CompiledValues(
    lambda *, room_id: (
        Step.objects.filter(section__room_id=room_id)
        .order_by("position", "created_at", "id")
        .values("id", "section_id", "title", "access")
    ),
    room_id=_ROOM_STAND_IN,
)
_ACTIONS = CompiledValues(
    lambda *, room_id: (
        Action.objects.filter(section__room_id=room_id)
        .order_by("position", "created_at", "id")
        .values(
            "id",
            "section_id",
            "title",
            "status",
            "description",
            "internal",
            "due_date",
            "access",
            "action_type",
            due_date_text=IsoMillis("due_date"),
        )
    ),
    room_id=_ROOM_STAND_IN,
)
# Each assignee's action and person (_PERSON_COLUMNS), in the order the action lists them.
_ASSIGNEES = CompiledValues(
    lambda *, room_id: (
        ActionAssignee.objects.filter(action__section__room_id=room_id)
        .order_by("id")
        .values_list("action_id", *_PERSON_COLUMNS)
    ),
    room_id=_ROOM_STAND_IN,
)


class _People:
    """Every person the analytics mention, one Person per viewer key. Visitors are loaded
    first (with their visit totals); anyone met later without visits has none."""

    def __init__(self, room: dict):
        self._room = room
        self._people: dict[ViewerKey, Person] = {}
        self.visitors: list[Person] = []

    def user(self, user_id, email: str, name: str, title: str) -> tuple[ViewerKey, Person]:
        key = ("user", user_id)
        if key not in self._people:
            self._people[key] = Person(
                belongs_to=INTERNAL,
                email=email,
                name=_text(name),
                title=_text(title),
                is_room_owner=user_id == self._room["owner_id"],
            )
        return key, self._people[key]

    def contact(
        self, contact_id, email: str, name: str, title: str, internal: bool = False
    ) -> tuple[ViewerKey, Person]:
        key = ("contact", contact_id)
        if key not in self._people:
            self._people[key] = Person(
                belongs_to=INTERNAL if internal else EXTERNAL,
                email=email,
                name=_text(name),
                title=_text(title),
                is_primary_contact=contact_id == self._room["primary_contact_id"],
            )
        return key, self._people[key]

    def from_columns(self, person: tuple) -> tuple[ViewerKey, Person]:
        """The viewer of a row's ``_PERSON_COLUMNS``."""
        user_id, user_email, user_name, user_title = person[:4]
        if user_id is not None:
            return self.user(user_id, user_email, user_name, user_title)
        return self.contact(*person[4:])

    def load_on_room(self) -> list[Person]:
        """Two queries: everyone on the room (its members, then its contacts) with their
        flags; a pulled room's contacts start from the upstream's lastSeen and viewCount."""
        on_room = []
        for user_id, email, name, title, is_owner in _MEMBERS.tuples(room_id=self._room["id"]):
            person = self.user(user_id, email, name, title)[1]
            person.is_room_owner |= is_owner
            on_room.append(person)
        for *columns, is_primary, is_owner, last_seen, views in _CONTACTS.tuples(
            room_id=self._room["id"]
        ):
            person = self.contact(*columns)[1]
            person.is_primary_contact |= is_primary
            person.is_room_owner |= is_owner
            person.last_seen, person.view_count = last_seen, views
            on_room.append(person)
        return on_room

    def load_visitors(self) -> None:
        """One query: every viewer who visited the room, latest visit first, with lastSeen
        (their latest visit) and viewCount (their number of visits), each added to what the
        upstream reported for a pulled room."""
        for last_seen, visits, *columns in _VISITORS.tuples(room_id=self._room["id"]):
            person = self.from_columns(columns)[1]
            person.last_seen = max(last_seen, person.last_seen or last_seen)
            person.view_count += visits
            self.visitors.append(person)


def with_progress_counts(rooms: QuerySet[Room]) -> QuerySet[Room]:
    """Annotate ``done_actions`` and ``counted_actions`` (what ``progress_percentage`` takes)
    as subqueries, so any room queryset, however else annotated, stays one row per room."""
    actions = Action.objects.filter(section__room=OuterRef("pk")).order_by().values("section__room")

    def count(queryset: QuerySet) -> Coalesce:
        return Coalesce(
            Subquery(queryset.annotate(value=Count("*")).values("value")[:1]),
            Value(0),
            output_field=IntegerField(),
        )

    return rooms.annotate(
        done_actions=count(actions.filter(status=Action.Status.DONE)),
        counted_actions=count(actions.exclude(status=Action.Status.CANCELLED)),
    )


def _room_query(*, workspace_id: int, room_id: UUID) -> QuerySet[Room]:
    deals = [
        f"{prefix}_{part}" for prefix in DEAL_SUMMARY_KEYS.values() for part in ("name", "stage")
    ]
    rooms = with_deal_summaries(Room.objects.for_workspace(workspace_id).filter(pk=room_id))
    return with_progress_counts(rooms).values(
        "id",
        "title",
        "owner_id",
        *(f"owner__{field}" for field in ("email", "full_name", "job_title")),
        "primary_contact_id",
        *(f"primary_contact__{field}" for field in ("email", "name", "job_title", "internal")),
        "workspace__name",
        "workspace__internal_company_name",
        "done_actions",
        "counted_actions",
        *(f"{prefix}_id" for prefix in DEAL_SUMMARY_KEYS.values()),
        *deals,
    )


_ROOM = CompiledValues(_room_query, workspace_id=-7_301_998, room_id=_ROOM_STAND_IN)


def room_analytics(
    *, workspace: Workspace, room_id: UUID, now: datetime | None = None
) -> dict | None:
    """The analytics of the workspace's room as the API answers them, None when it has no
    such room; ``now`` decides isOverdue (the request time by default)."""
    rows = _ROOM.rows(workspace_id=workspace.pk, room_id=room_id)
    if not rows:
        return None
    room = rows[0]
    now = now or timezone.now()
    people = _People(room)
    on_room = people.load_on_room()
    people.load_visitors()

    assignees: list[Person] = []
    if room["owner_id"] is not None:
        assignees.append(
            people.user(
                room["owner_id"],
                room["owner__email"],
                room["owner__full_name"],
                room["owner__job_title"],
            )[1]
        )
    if room["primary_contact_id"] is not None:
        assignees.append(
            people.contact(
                room["primary_contact_id"],
                room["primary_contact__email"],
                room["primary_contact__name"],
                room["primary_contact__job_title"],
                room["primary_contact__internal"],
            )[1]
        )

    assignees.extend(on_room)
    viewership = _viewership_by_target(room, people)
    steps = defaultdict(list)
    for step in _STEPS.rows(room_id=room["id"]):
        steps[step["section_id"]].append(_step(step, viewership))
    action_people = defaultdict(list)
    for action_id, *columns in _ASSIGNEES.tuples(room_id=room["id"]):
        action_people[action_id].append(people.from_columns(columns)[1])
    actions = defaultdict(list)
    for action in _ACTIONS.rows(room_id=room["id"]):
        actions[action["section_id"]].append(action)
    sections = []
    for section in _SECTIONS.rows(room_id=room["id"]):
        section_actions = []
        for action in actions[section["id"]]:
            assignees.extend(action_people[action["id"]])
            section_actions.append(_action(action, action_people[action["id"]], viewership, now))
        sections.append(
            {
                "id": section["id"],
                "title": section["title"],
                "isCompleted": section["is_completed"],
                "isVisibleToExternal": section["access"] != Access.HIDDEN,
                "steps": steps[section["id"]],
                "actions": section_actions,
            }
        )
    assignees.extend(people.visitors)

    return {
        "title": room["title"],
        "progressPercentage": progress_percentage(room["done_actions"], room["counted_actions"]),
        "internalCompany": {
            "type": "internal",
            "name": room["workspace__internal_company_name"] or room["workspace__name"],
        },
        "assignees": [person.detail() for person in _unique_by_email(assignees)],
        "sections": sections,
        **deal_summaries(room),
    }


def deal_summaries(row: dict) -> dict:
    """``hsDeal``, ``sfOpportunity``, ``attioDeal``: ``{name, stage}`` of each linked deal that
    was pulled (absent otherwise, see rooms.api.serializers.CrmDealField), from a room row with
    the ``with_deal_summaries`` annotations."""
    summaries = {}
    for key, prefix in DEAL_SUMMARY_KEYS.items():
        if row[f"{prefix}_id"] and row[f"{prefix}_name"] is not None:
            summaries[key] = {"name": row[f"{prefix}_name"], "stage": row[f"{prefix}_stage"]}
    return summaries


def progress_percentage(done: int, counted: int) -> float:
    """Done action items over all action items that are not cancelled, as a percentage with
    two decimals (half up); 0 when there are none."""
    if not counted:
        return 0.0
    percentage = Decimal(done * 100) / Decimal(counted)
    return float(percentage.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _viewership_by_target(room: dict, people: _People) -> dict[TargetKey, list[dict]]:
    """Viewership entries per step or action: one per viewer who viewed it or engaged with it
    (an engagement without a recorded view shows 0 seconds, 0 times viewed), ordered by the
    viewer's email; engagements (of any type but VIEW) oldest first. Two queries."""
    by_target: dict[TargetKey, list[dict]] = defaultdict(list)
    # Each row's entry is found by a key of ints (UUID.__hash__ is Python code, and a large
    # room has tens of thousands of rows, most of them repeating an entry already made).
    entries: dict[tuple, dict] = {}

    def entry_for(step_id, action_id, person: list) -> dict:
        contact_id = person[4]
        key = (
            step_id is None,
            (step_id or action_id).int,
            person[0],
            None if contact_id is None else contact_id.int,
        )
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = {
                "user": people.from_columns(person)[1],
                "durationInSeconds": 0,
                "timesViewed": 0,
                "engagements": [],
            }
            by_target[("step", step_id) if step_id else ("action", action_id)].append(entry)
        return entry

    for step_id, action_id, seconds, times, *person in _VIEWERSHIP.tuples(room_id=room["id"]):
        entry = entry_for(step_id, action_id, person)
        entry["durationInSeconds"] = seconds
        entry["timesViewed"] = times
    # Views are summed into durationInSeconds and timesViewed, not listed (spec 000's example).
    for step_id, action_id, type_, created_at, *person in _ENGAGEMENTS.tuples(room_id=room["id"]):
        entry_for(step_id, action_id, person)["engagements"].append(
            {"type": type_, "createdAt": created_at}
        )

    for target_entries in by_target.values():
        target_entries.sort(key=lambda entry: entry["user"].email)
        for entry in target_entries:
            entry["user"] = entry["user"].summary
    return by_target


def _step(step: dict, viewership: dict[TargetKey, list[dict]]) -> dict:
    return {
        "id": step["id"],
        "title": step["title"],
        "isVisibleToExternal": step["access"] != Access.HIDDEN,
        "viewership": viewership.get(("step", step["id"]), []),
    }


def _action(
    action: dict, assignees: list[Person], viewership: dict[TargetKey, list[dict]], now
) -> dict:
    return {
        "id": action["id"],
        "title": action["title"],
        "status": action["status"],
        "description": _text(action["description"]),
        "internal": action["internal"],
        "dueDate": action["due_date_text"],
        "isOverdue": is_overdue(action["due_date"], action["status"], now),
        "isVisibleToExternal": action["access"] != Access.HIDDEN,
        "actionType": _text(action["action_type"]),
        "assignees": [
            {"type": USER if person.belongs_to == INTERNAL else CONTACT, "user": person.summary}
            for person in assignees
        ],
        "viewership": viewership.get(("action", action["id"]), []),
    }


def is_overdue(due_date: datetime | None, status: str, now: datetime) -> bool:
    """Its due date has passed and it is neither done nor cancelled."""
    return (
        due_date is not None
        and due_date < now
        and status not in (Action.Status.DONE, Action.Status.CANCELLED)
    )


def _unique_by_email(people: list[Person]) -> list[Person]:
    """Each person once, at their first place, compared by email case-insensitively."""
    seen: set[str] = set()
    unique = []
    for person in people:
        email = person.email.lower()
        if email not in seen:
            seen.add(email)
            unique.append(person)
    return unique
