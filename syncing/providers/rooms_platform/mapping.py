"""Upstream room + analytics (validated by ``schemas``) to plain values shaped like our rows.

No database here: ``room_parse`` checks what the database would refuse (lengths, choices,
duplicate ids) so that one odd room is a RecordError of that room, not a failed page.
People are keyed by lower-cased email and keep the upstream's side (``belongsTo``); whether an
internal one is a member (a User) or an internal Contact is decided when the page is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from rooms.models import Action, Contact, Engagement, Room, Section, Step
from syncing.errors import RecordError

STEP = "step"
ACTION = "action"


INTERNAL = "internal_organization"


@dataclass
class Person:
    email: str
    name: str = ""
    job_title: str = ""
    # On the seller's side upstream (any mention says so).
    internal: bool = False


@dataclass
class OnRoom:
    """One of the room's people (its analytics ``assignees``) with the upstream's flags."""

    email: str
    is_owner: bool = False
    is_primary: bool = False
    last_seen: datetime | None = None
    view_count: int = 0


@dataclass
class PulledStep:
    upstream_id: str
    title: str
    position: int
    visible: bool


@dataclass
class PulledAction:
    upstream_id: str
    title: str
    position: int
    visible: bool
    status: str
    description: str
    internal: bool
    due_date: datetime | None
    action_type: str
    assignees: list[str]


@dataclass
class PulledSection:
    upstream_id: str
    title: str
    position: int
    visible: bool
    is_completed: bool
    steps: list[PulledStep]
    actions: list[PulledAction]


@dataclass(frozen=True)
class Viewing:
    """One viewer's time on one step or action (``target`` is (STEP | ACTION, upstream id))."""

    target: tuple[str, str]
    email: str
    seconds: int
    times: int


@dataclass(frozen=True)
class Engaged:
    target: tuple[str, str]
    email: str
    type: str
    created_at: datetime


@dataclass
class PulledRoom:
    upstream_id: str
    digest: str
    fields: dict
    updated_at: datetime
    status_id: str | None
    label_id: str | None
    company_id: str | None
    owner_email: str | None
    primary_contact_email: str | None
    # The room's own people (analytics "assignees"), in upstream order, once each.
    people_on_room: dict[str, OnRoom]
    sections: list[PulledSection]
    viewings: list[Viewing] = field(default_factory=list)
    engagements: list[Engaged] = field(default_factory=list)
    # Every person the room mentions, with the details upstream gave.
    people: dict[str, Person] = field(default_factory=dict)


class _Checker:
    """Checks values against our columns; the first misfit is a RecordError of the room."""

    def __init__(self, upstream_id: str):
        self.upstream_id = upstream_id

    def fail(self, message: str) -> RecordError:
        return RecordError(f"invalid record: {message}", upstream_id=self.upstream_id)

    def text(self, model: type[models.Model], name: str, value: str | None) -> str:
        value = value or ""
        limit = model._meta.get_field(name).max_length
        if limit is not None and len(value) > limit:
            raise self.fail(f"{model.__name__.lower()}.{name}: longer than {limit} characters")
        return value

    def choice(self, model: type[models.Model], name: str, value: str) -> str:
        if value not in dict(model._meta.get_field(name).choices):
            raise self.fail(f"{model.__name__.lower()}.{name}: unknown value {value!r}")
        return value

    def unique(self, kind: str, ids: list[str]) -> None:
        if len(ids) != len(set(ids)):
            raise self.fail(f"the same {kind} id appears twice")


def room_parse(record: dict, analytics: dict, *, digest: str) -> PulledRoom:
    """Raises RecordError when the room does not fit our columns."""
    check = _Checker(record["id"])
    fields = {
        "title": check.text(Room, "title", record["title"]),
        "description": record.get("description") or "",
        "is_template": bool(record.get("isTemplate")),
        "hs_deal_id": check.text(Room, "hs_deal_id", record.get("hsDealId")),
        "sf_opportunity_id": check.text(Room, "sf_opportunity_id", record.get("sfOpportunityId")),
        "attio_deal_id": check.text(Room, "attio_deal_id", record.get("attioDealId")),
        "cover_title": check.text(Room, "cover_title", record.get("coverTitle")),
        "cover_description": record.get("coverDescription") or "",
        "cover_disabled": bool(record.get("coverDisabled")),
        "theme_color": check.text(Room, "theme_color", record.get("themeColor")),
        "nav_color": check.text(Room, "nav_color", record.get("navColor")),
        "created_at": record["createdAt"],
        "upstream_views": record.get("totalViews"),
        "upstream_unique_views": record.get("totalUniqueViews"),
    }
    room = PulledRoom(
        upstream_id=record["id"],
        digest=digest,
        fields=fields,
        updated_at=record["updatedAt"],
        status_id=record.get("statusId") or None,
        label_id=record.get("labelId") or None,
        company_id=record.get("companyId") or None,
        owner_email=None,
        primary_contact_email=None,
        people_on_room={},
        sections=[],
    )
    for upstream in analytics["assignees"]:
        email = _person(room, check, upstream)
        on_room = room.people_on_room.setdefault(email, OnRoom(email=email))
        on_room.is_owner |= bool(upstream.get("isRoomOwner"))
        on_room.is_primary |= bool(upstream.get("isPrimaryContact"))
        on_room.last_seen = upstream.get("lastSeen") or on_room.last_seen
        on_room.view_count = upstream.get("viewCount") or on_room.view_count
        if on_room.is_owner and room.owner_email is None:
            room.owner_email = email
        if on_room.is_primary and room.primary_contact_email is None:
            room.primary_contact_email = email
    room.sections = [
        _section(room, check, position, section)
        for position, section in enumerate(analytics["sections"])
    ]
    check.unique("section", [section.upstream_id for section in room.sections])
    check.unique("step", [step.upstream_id for s in room.sections for step in s.steps])
    check.unique("action", [action.upstream_id for s in room.sections for action in s.actions])
    return room


def _person(room: PulledRoom, check: _Checker, upstream: dict) -> str:
    """Note the person's details (a non-empty value upstream gives wins) and return the key."""
    email = check.text(Contact, "email", upstream["email"]).lower()
    person = room.people.setdefault(email, Person(email=email))
    person.name = check.text(Contact, "name", upstream.get("name")) or person.name
    person.job_title = check.text(Contact, "job_title", upstream.get("title")) or person.job_title
    person.internal |= upstream["belongsTo"] == INTERNAL
    return email


def _section(room: PulledRoom, check: _Checker, position: int, upstream: dict) -> PulledSection:
    steps = []
    for index, step in enumerate(upstream["steps"]):
        steps.append(
            PulledStep(
                upstream_id=check.text(Step, "upstream_id", step["id"]),
                title=check.text(Step, "title", step["title"]),
                position=index,
                visible=step["isVisibleToExternal"],
            )
        )
        _activity(room, check, (STEP, step["id"]), step["viewership"])
    actions = []
    for index, action in enumerate(upstream["actions"]):
        actions.append(
            PulledAction(
                upstream_id=check.text(Action, "upstream_id", action["id"]),
                title=check.text(Action, "title", action["title"]),
                position=index,
                visible=action["isVisibleToExternal"],
                status=check.choice(Action, "status", action.get("status") or Action.Status.TODO),
                description=action.get("description") or "",
                internal=action["internal"],
                due_date=action.get("dueDate"),
                action_type=check.text(Action, "action_type", action.get("actionType")),
                assignees=list(
                    dict.fromkeys(_person(room, check, a["user"]) for a in action["assignees"])
                ),
            )
        )
        _activity(room, check, (ACTION, action["id"]), action["viewership"])
    return PulledSection(
        upstream_id=check.text(Section, "upstream_id", upstream["id"]),
        title=check.text(Section, "title", upstream["title"]),
        position=position,
        visible=upstream["isVisibleToExternal"],
        is_completed=upstream["isCompleted"],
        steps=steps,
        actions=actions,
    )


def _activity(room: PulledRoom, check: _Checker, target: tuple[str, str], entries) -> None:
    for entry in entries:
        email = _person(room, check, entry["user"])
        room.viewings.append(
            Viewing(
                target=target,
                email=email,
                seconds=entry["durationInSeconds"],
                times=entry["timesViewed"],
            )
        )
        for engagement in entry["engagements"]:
            room.engagements.append(
                Engaged(
                    target=target,
                    email=email,
                    type=check.choice(Engagement, "type", engagement["type"]),
                    created_at=engagement["createdAt"],
                )
            )
