"""Activity ingestion (POST /api/v2/rooms/{room_id}/activity): visits, views and engagements sent
by a client when no upstream sync provides them.

A batch is stored whole or not at all, with a fixed number of set-based queries whatever its
size: look up the ids already stored, resolve viewers (members, then contacts, created in bulk),
resolve targets, insert visits and engagements in bulk, and add views to the viewership rows with
one upsert per kind of (target, viewer) pair.

Idempotency: each event's client ``id`` is unique per workspace. A visit's id is stored on its
Visit, an engagement's on its Engagement, and a view's on the VIEW engagement the view records
(a view is an engagement of type VIEW, as upstream's engagement breakdown counts it, plus its
seconds on the viewership row). An id already stored, or repeated in the batch, is a duplicate:
it changes nothing, so a replayed view never counts twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, connection, transaction

from config.errors import Conflict, InvalidInput
from rooms.models import Action, Contact, Engagement, Room, Step, Viewership, Visit
from rooms.services import people_for_emails
from rooms.totals import refresh_room_totals

VISIT = "visit"
VIEW = "view"
ENGAGEMENT = "engagement"
KINDS = (VISIT, VIEW, ENGAGEMENT)
MAX_EVENTS = 1000


@dataclass(frozen=True)
class ActivityEvent:
    """One validated event of a batch (``index`` is its place in the batch, for errors)."""

    index: int
    id: str
    kind: str
    email: str
    name: str
    at: datetime
    step_id: UUID | None = None
    action_id: UUID | None = None
    duration_in_seconds: int = 0
    engagement_type: str | None = None


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class _Viewer:
    user_id: int | None = None
    contact_id: UUID | None = None


def activity_ingest(*, room: Room, events: list[ActivityEvent]) -> IngestResult:
    """Store a batch of events of ``room`` (already validated for shape): all, or nothing when
    an event names a step or action that is not in the room (InvalidInput naming the event).

    Raises Conflict when a concurrent request stored some of the same ids first; the batch can
    then be sent again and those ids count as duplicates."""
    new_events = _new_events(room, events)
    _check_targets(room, new_events)
    try:
        # No savepoint (two round trips): on an IntegrityError the whole enclosing
        # transaction, the request's, is rolled back with the Conflict.
        with transaction.atomic(savepoint=False):
            viewers = _viewers(room, new_events)
            _store(room, new_events, viewers)
            refresh_room_totals([room.pk])
    except IntegrityError as error:
        raise Conflict(
            "Another request stored some of these event ids at the same time; send the batch again."
        ) from error
    return IngestResult(accepted=len(new_events), duplicates=len(events) - len(new_events))


def _new_events(room: Room, events: list[ActivityEvent]) -> list[ActivityEvent]:
    """The events whose id is neither stored in the workspace nor used earlier in the batch."""
    ids = {event.id for event in events}
    stored = set(
        Visit.objects.for_workspace(room.workspace_id)
        .filter(client_id__in=ids)
        .values_list("client_id", flat=True)
        .union(
            Engagement.objects.for_workspace(room.workspace_id)
            .filter(client_id__in=ids)
            .values_list("client_id", flat=True)
        )
    )
    new_events = []
    for event in events:
        if event.id not in stored:
            stored.add(event.id)
            new_events.append(event)
    return new_events


def _check_targets(room: Room, events: list[ActivityEvent]) -> None:
    """Every step and action named must belong to the room (two queries)."""
    step_ids = {event.step_id for event in events if event.step_id}
    action_ids = {event.action_id for event in events if event.action_id}
    known_steps = set(
        Step.objects.filter(section__room=room, id__in=step_ids).values_list("id", flat=True)
    )
    known_actions = set(
        Action.objects.filter(section__room=room, id__in=action_ids).values_list("id", flat=True)
    )
    fields = {}
    for event in events:
        if event.step_id and event.step_id not in known_steps:
            fields[f"events.{event.index}.stepId"] = ["No such step in this room."]
        if event.action_id and event.action_id not in known_actions:
            fields[f"events.{event.index}.actionId"] = ["No such action item in this room."]
    if fields:
        first_field, messages = next(iter(fields.items()))
        raise InvalidInput(f"{first_field}: {messages[0]}", fields=fields)


def _viewers(room: Room, events: list[ActivityEvent]) -> dict[str, _Viewer]:
    """Each email's viewer: the workspace member with that email, else the workspace's contact,
    created when new. A contact without a name takes the first name the batch gives it."""
    names: dict[str, str] = {}
    for event in events:
        if not names.get(event.email):
            names[event.email] = event.name
    people = people_for_emails(workspace=room.workspace, emails=names)
    unnamed = [
        person
        for email, person in people.items()
        if isinstance(person, Contact) and not person.name and names[email]
    ]
    for contact in unnamed:
        contact.name = names[contact.email.lower()]
    Contact.objects.bulk_update(unnamed, ["name"])
    return {
        email: _Viewer(contact_id=person.pk)
        if isinstance(person, Contact)
        else _Viewer(user_id=person.pk)
        for email, person in people.items()
    }


def _store(room: Room, events: list[ActivityEvent], viewers: dict[str, _Viewer]) -> None:
    common = {"workspace_id": room.workspace_id, "room": room}
    Visit.objects.bulk_create(
        [
            Visit(**common, **_viewer_fields(viewers[event.email]), at=event.at, client_id=event.id)
            for event in events
            if event.kind == VISIT
        ]
    )
    Engagement.objects.bulk_create(
        [
            Engagement(
                **common,
                **_viewer_fields(viewers[event.email]),
                step_id=event.step_id,
                action_id=event.action_id,
                type=event.engagement_type or Engagement.Type.VIEW,
                created_at=event.at,
                client_id=event.id,
            )
            for event in events
            if event.kind in (VIEW, ENGAGEMENT)
        ]
    )
    _add_views(room, [event for event in events if event.kind == VIEW], viewers)


def _viewer_fields(viewer: _Viewer) -> dict:
    return {"user_id": viewer.user_id, "contact_id": viewer.contact_id}


def _add_views(room: Room, views: list[ActivityEvent], viewers: dict[str, _Viewer]) -> None:
    """Add each view's seconds and one time viewed to its (viewer, target) viewership row,
    creating the row when it is new: one INSERT … ON CONFLICT DO UPDATE per kind of pair
    (step or action, member or contact), so concurrent batches add up instead of overwriting."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for view in views:
        viewer = viewers[view.email]
        key = (view.step_id, view.action_id, viewer.user_id, viewer.contact_id)
        totals[key][0] += view.duration_in_seconds
        totals[key][1] += 1
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for (step_id, action_id, user_id, contact_id), (seconds, times) in totals.items():
        target = "step" if step_id else "action"
        viewer = "user" if user_id else "contact"
        groups[(target, viewer)].append(
            (room.workspace_id, room.pk, step_id, action_id, user_id, contact_id, seconds, times)
        )
    for (target, viewer), rows in groups.items():
        _upsert_viewership(target, viewer, rows)


_VIEWERSHIP_COLUMNS = (
    "workspace",
    "room",
    "step",
    "action",
    "user",
    "contact",
    "duration_in_seconds",
    "times_viewed",
)


def _upsert_viewership(target: str, viewer: str, rows: list[tuple]) -> None:
    # Django's bulk_create(update_conflicts=True) can only overwrite a column with the new
    # value; adding to the stored one takes the SQL itself (same syntax on PostgreSQL and SQLite).
    meta = Viewership._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = [meta.get_field(name) for name in _VIEWERSHIP_COLUMNS]
    column = {field.name: quote(field.column) for field in fields}
    seconds, times = column["duration_in_seconds"], column["times_viewed"]
    values = ", ".join(["(" + ", ".join(["%s"] * len(_VIEWERSHIP_COLUMNS)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({', '.join(column.values())}) VALUES {values} "
        f"ON CONFLICT ({column[target]}, {column[viewer]}) DO UPDATE SET "
        f"{seconds} = {table}.{seconds} + EXCLUDED.{seconds}, "
        f"{times} = {table}.{times} + EXCLUDED.{times}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                field.get_db_prep_value(value, connection)
                for row in rows
                for field, value in zip(fields, row, strict=True)
            ],
        )
