"""Writes for rooms: create (blank, from a template, as a duplicate), update, and the room's
content (sections, pages, action items with their assignees).

Callers pass objects already looked up in the caller's workspace; these functions never look
across workspaces themselves.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Model, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from config.errors import Conflict
from rooms.models import (
    Action,
    ActionAssignee,
    Contact,
    Room,
    RoomContact,
    RoomMember,
    RoomStatus,
    Section,
    Step,
)
from rooms.totals import refresh_room_totals
from syncing.providers.rooms_platform import push
from workspaces.models import User, Workspace

# Room fields a new room takes from its template or duplicated room unless the body sets them.
SLUG_ATTEMPTS = 5
INHERITED_ROOM_FIELDS = (
    "description",
    "cover_title",
    "cover_description",
    "cover_disabled",
    "theme_color",
    "nav_color",
)


# --- people -------------------------------------------------------------------------------------


def contacts_for_emails(*, workspace: Workspace, emails: set[str]) -> dict[str, Contact]:
    """The workspace's contacts for these lower-cased emails, creating the missing ones."""

    def existing(wanted: set[str]) -> dict[str, Contact]:
        contacts = (
            Contact.objects.for_workspace(workspace)
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=wanted)
        )
        return {contact.email_lower: contact for contact in contacts}

    contacts = existing(emails)
    missing = emails - contacts.keys()
    if missing:
        # ignore_conflicts: a concurrent request may create the same contact first; either way
        # the contact is read back below.
        Contact.objects.bulk_create(
            [Contact(workspace=workspace, email=email) for email in sorted(missing)],
            ignore_conflicts=True,
        )
        contacts |= existing(missing)
    return contacts


def people_for_emails(*, workspace: Workspace, emails: Iterable[str]) -> dict[str, User | Contact]:
    """Map each email (lower-cased) to the workspace member with that address, or else to the
    workspace's contact with it, creating contacts seen for the first time. At most four
    queries whatever the number of emails."""
    wanted = {email.strip().lower() for email in emails}
    if not wanted:
        return {}
    members = User.objects.annotate(email_lower=Lower("email")).filter(
        memberships__workspace=workspace, email_lower__in=wanted
    )
    people: dict[str, User | Contact] = {user.email_lower: user for user in members}
    return people | contacts_for_emails(workspace=workspace, emails=wanted - people.keys())


def contact_get_or_create(*, workspace: Workspace, email: str, name: str = "") -> Contact:
    """The workspace's contact with this email (any case), created if new. ``name`` fills in
    a contact that has none; a name already known is never overwritten."""
    lowered = email.strip().lower()
    contact = contacts_for_emails(workspace=workspace, emails={lowered})[lowered]
    if name and not contact.name:
        Contact.objects.filter(pk=contact.pk, name="").update(name=name)
        contact.name = name
    return contact


# --- rooms --------------------------------------------------------------------------------------


def _unique_slug(*, workspace: Workspace, title: str, salt: str = "") -> str:
    base = "-".join(part for part in (slugify(title)[:280] or "room", salt) if part)
    taken = set(
        Room.objects.for_workspace(workspace)
        .filter(slug__startswith=base)
        .values_list("slug", flat=True)
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _room_insert(room: Room) -> None:
    """Insert a new room with a free slug. Two rooms created at once with the same title can
    both see a slug as free; the loser's insert hits the unique constraint and retries with a
    random suffix, inside a savepoint so the request's transaction survives."""
    room.slug = _unique_slug(workspace=room.workspace, title=room.title)
    for _ in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                room.save(force_insert=True)
            return
        except IntegrityError as exc:
            if "room_unique_slug" not in str(exc):
                raise
            salt = secrets.token_hex(3)
            room.slug = _unique_slug(workspace=room.workspace, title=room.title, salt=salt)
    raise Conflict("Could not find a free slug for this room; try again.")


def _room_set_owner(room: Room, owner: User | None) -> None:
    """Point ``Room.owner`` and the members' ``is_room_owner`` flags at ``owner``."""
    room.members.filter(is_room_owner=True).exclude(user=owner).update(is_room_owner=False)
    if owner is not None:
        RoomMember.objects.update_or_create(
            room=room, user=owner, defaults={"workspace": room.workspace, "is_room_owner": True}
        )


def _room_set_primary_contact(room: Room, contact: Contact | None) -> None:
    room.contacts.filter(is_primary_contact=True).exclude(contact=contact).update(
        is_primary_contact=False
    )
    if contact is not None:
        RoomContact.objects.update_or_create(
            room=room,
            contact=contact,
            defaults={"workspace": room.workspace, "is_primary_contact": True},
        )


def _clone(obj: Model, **overrides: Any) -> Model:
    """An unsaved copy of ``obj`` with a new primary key; ``overrides`` by attribute name."""
    values = {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if not field.primary_key
    }
    return type(obj)(**(values | overrides))


def _room_copy_structure(*, source: Room, target: Room) -> None:
    """Copy sections, pages, action items and their assignees, never activity. Five queries
    to read and four to write, whatever the size of the room."""
    now = timezone.now()
    stamps = {"created_at": now, "updated_at": now}
    sections = {
        section.id: _clone(section, room_id=target.id, **stamps)
        for section in Section.objects.filter(room=source)
    }
    steps = {
        step.id: _clone(step, section_id=sections[step.section_id].id, **stamps)
        for step in Step.objects.filter(section__room=source)
    }
    actions = {
        action.id: _clone(
            action,
            section_id=sections[action.section_id].id,
            step_id=steps[action.step_id].id if action.step_id else None,
            **stamps,
        )
        for action in Action.objects.filter(section__room=source)
    }
    assignees = [
        _clone(assignee, action_id=actions[assignee.action_id].id)
        for assignee in ActionAssignee.objects.filter(action__section__room=source)
    ]
    Section.objects.bulk_create(sections.values())
    Step.objects.bulk_create(steps.values())
    Action.objects.bulk_create(actions.values())
    ActionAssignee.objects.bulk_create(assignees)


@transaction.atomic
def room_create(
    *,
    workspace: Workspace,
    title: str,
    source: Room | None = None,
    owner: User | None = None,
    status: RoomStatus | None = None,
    contact_email: str | None = None,
    **fields: Any,
) -> Room:
    """Create a room: blank, or copying ``source`` (a template or a room to duplicate).

    ``fields`` are further Room fields (company, label, CRM ids, cover and colors). From a
    source the room also takes ``INHERITED_ROOM_FIELDS`` not given in ``fields``, and the
    structure; never the activity. Without a status it gets the workspace's default status.
    With a rooms-platform connection, its upstream creation is enqueued in the same
    transaction (``syncing.providers.rooms_platform.push``).
    """
    if source is not None:
        inherited = {name: getattr(source, name) for name in INHERITED_ROOM_FIELDS}
        fields = inherited | fields
    if status is None:
        status = RoomStatus.objects.for_workspace(workspace).filter(is_default=True).first()
    primary_contact = (
        contact_get_or_create(workspace=workspace, email=contact_email) if contact_email else None
    )
    room = Room(
        workspace=workspace,
        title=title,
        owner=owner,
        status=status,
        primary_contact=primary_contact,
        **fields,
    )
    _room_insert(room)
    _room_set_owner(room, owner)
    _room_set_primary_contact(room, primary_contact)
    if source is not None:
        _room_copy_structure(source=source, target=room)
    push.room_push_create(room=room)
    return room


@transaction.atomic
def room_update(*, room: Room, **changes: Any) -> Room:
    """Set the given Room fields (``owner`` and ``primary_contact`` keep the member and
    contact flags in step); fields not given keep their value. The upstream fields that
    changed are pushed (``syncing.providers.rooms_platform.push``)."""
    before = push.room_push_snapshot(room)
    for name, value in changes.items():
        setattr(room, name, value)
    room.save()
    if "owner" in changes:
        _room_set_owner(room, room.owner)
    if "primary_contact" in changes:
        _room_set_primary_contact(room, room.primary_contact)
    push.room_push_update(room=room, before=before)
    return room


@transaction.atomic
def room_save(*, room: Room) -> Room:
    """Save a room edited field by field (the admin): a new room gets its slug, and the
    members' and contacts' flags follow ``owner`` and ``primary_contact``. A new room is
    pushed like ``room_create``'s; an edited one like ``room_update``'s."""
    created = not room.slug
    if created:
        _room_insert(room)
    else:
        stored = Room.objects.select_related("status", "label", "company").get(pk=room.pk)
        before = push.room_push_snapshot(stored)
        room.save()
    _room_set_owner(room, room.owner)
    _room_set_primary_contact(room, room.primary_contact)
    if created:
        push.room_push_create(room=room)
    else:
        push.room_push_update(room=room, before=before)
    return room


def room_duplicate(*, room: Room, title: str | None = None) -> Room:
    """A copy of ``room`` (relations, CRM links excepted, and structure) as a new room."""
    return room_create(
        workspace=room.workspace,
        title=title or f"Copy of {room.title}"[:255],
        source=room,
        owner=room.owner,
        status=room.status,
        company=room.company,
        label=room.label,
    )


def room_create_from_template(*, template: Room, title: str | None = None) -> Room:
    return room_create(workspace=template.workspace, title=title or template.title, source=template)


# --- content ------------------------------------------------------------------------------------


def _next_position(queryset: QuerySet) -> int:
    highest = queryset.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def _with_positions(items: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """Items without a position follow the existing ones in the order given."""
    return [{"position": start + index} | item for index, item in enumerate(items)]


def _update(obj: Model, changes: dict[str, Any]) -> Model:
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()
    return obj


def sections_create(*, room: Room, items: list[dict[str, Any]]) -> list[Section]:
    start = _next_position(room.sections.all())
    return Section.objects.bulk_create(
        Section(workspace_id=room.workspace_id, room=room, **item)
        for item in _with_positions(items, start)
    )


def section_update(*, section: Section, **changes: Any) -> Section:
    return _update(section, changes)


def pages_create(*, section: Section, items: list[dict[str, Any]]) -> list[Step]:
    start = _next_position(section.steps.all())
    return Step.objects.bulk_create(
        Step(workspace_id=section.workspace_id, section=section, **item)
        for item in _with_positions(items, start)
    )


def page_update(*, page: Step, **changes: Any) -> Step:
    return _update(page, changes)


def _action_assignees(action: Action, people: Iterable[User | Contact]) -> list[ActionAssignee]:
    return [
        ActionAssignee(
            workspace_id=action.workspace_id,
            action=action,
            user=person if isinstance(person, User) else None,
            contact=person if isinstance(person, Contact) else None,
        )
        for person in people
    ]


def action_items_create(
    *, section: Section, step: Step | None = None, items: list[dict[str, Any]]
) -> list[Action]:
    """Create action items in ``section`` (on ``step`` when given). Each item's ``assignees``
    is a list of emails (see ``people_for_emails``). A fixed number of queries."""
    emails = [email for item in items for email in item.get("assignees", [])]
    people = people_for_emails(workspace=section.workspace, emails=emails)
    start = _next_position(section.actions.all())
    actions, assignees = [], []
    for item in _with_positions(items, start):
        item_emails = item.pop("assignees", [])
        action = Action(workspace_id=section.workspace_id, section=section, step=step, **item)
        actions.append(action)
        unique = dict.fromkeys(email.strip().lower() for email in item_emails)
        assignees += _action_assignees(action, (people[email] for email in unique))
    Action.objects.bulk_create(actions)
    ActionAssignee.objects.bulk_create(assignees)
    return actions


def action_item_update(
    *, action: Action, assignees: list[str] | None = None, **changes: Any
) -> Action:
    """Set the given fields; ``assignees`` (emails), when given, replaces the whole list."""
    _update(action, changes)
    if assignees is not None:
        people = people_for_emails(workspace=action.workspace, emails=assignees)
        action.assignees.all().delete()
        ActionAssignee.objects.bulk_create(_action_assignees(action, people.values()))
    return action


def room_content_delete(*, item: Section | Step | Action) -> None:
    """Delete a section, page or action item with everything under it and its activity,
    keeping the room's totals exact."""
    room_id = item.room_id if isinstance(item, Section) else item.section.room_id
    with transaction.atomic():
        item.delete()
        refresh_room_totals([room_id])
