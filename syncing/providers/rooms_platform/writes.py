"""The rooms stream's writes: set-based upserts of one page of changed rooms.

Rows are matched by upstream id (rooms, sections, steps, actions, statuses, labels,
companies), by lower-cased email (contacts), or by their natural key (room people, action
assignees, viewership, engagements). Each table takes a fixed number of queries per page: read
the current rows, delete the ones upstream no longer has, then one ``bulk_create`` with
``update_conflicts`` on the primary key, which inserts the new rows and updates the known ones
(each known row is given its own id first). The upstream-id constraints are partial (rows never
synced have none), which ON CONFLICT cannot name, hence the conflict target is the id.

Only what came from upstream is mirrored: sections, steps and actions without an upstream id,
and engagements with a client id (ingested through the activity API), are left alone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.text import slugify

from rooms.models import (
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
    Viewership,
)
from rooms.totals import refresh_room_totals
from syncing.providers.rooms_platform.mapping import (
    ACTION,
    STEP,
    Person,
    PulledRoom,
    access_for,
)
from workspaces.models import User, Workspace

# ``upstream_hash`` of a room the pull archived: it never equals a digest, so the room is
# written (and un-archived) if it shows up upstream again.
ARCHIVED_MARK = "archived"

ROOM_FIELDS = [
    "title",
    "description",
    "is_template",
    "owner",
    "company",
    "status",
    "label",
    "primary_contact",
    "hs_deal_id",
    "sf_opportunity_id",
    "attio_deal_id",
    "cover_title",
    "cover_description",
    "cover_disabled",
    "theme_color",
    "nav_color",
    "created_at",
    "archived",
    "upstream_hash",
    "upstream_views",
    "upstream_unique_views",
]

# A viewer: ("user", pk) or ("contact", pk).
Viewer = tuple[str, object]


def rooms_known(*, workspace: Workspace, upstream_ids: list[str]) -> dict[str, dict]:
    """The workspace's rooms with these upstream ids: what ``rooms_write`` needs of them."""
    rows = Room.objects.filter(workspace=workspace, upstream_id__in=upstream_ids).values(
        "id", "upstream_id", "upstream_hash", "archived", "slug"
    )
    return {row["upstream_id"]: row for row in rows}


def rooms_write(
    *, workspace: Workspace, rooms: list[PulledRoom], known: dict[str, dict]
) -> dict[str, int]:
    """Write one page of changed rooms (``known``: ``rooms_known`` of the page) in one
    transaction; returns the counts created and updated."""
    created = sum(1 for room in rooms if room.upstream_id not in known)
    if rooms:
        with transaction.atomic():
            _PageWriter(workspace, rooms, known).write()
    return {"created": created, "updated": len(rooms) - created}


def room_statuses_write(*, workspace: Workspace, statuses: list[dict]) -> None:
    """Upsert the upstream's statuses (title and order). Which status is the default for
    rooms created here stays a local choice."""
    current = {
        row["upstream_id"]: row
        for row in RoomStatus.objects.filter(
            workspace=workspace, upstream_id__in=[status["id"] for status in statuses]
        ).values("id", "upstream_id", "title", "position")
    }
    rows = []
    for position, status in enumerate(statuses):
        row = current.get(status["id"], {})
        if (row.get("title"), row.get("position")) != (status["title"], position):
            rows.append(
                RoomStatus(
                    id=row.get("id") or uuid.uuid4(),
                    workspace=workspace,
                    upstream_id=status["id"],
                    title=status["title"],
                    position=position,
                )
            )
    _upsert(RoomStatus, rows, ["title", "position"])


def upstream_room_ids(*, workspace: Workspace) -> set[str]:
    """Upstream ids of the workspace's rooms that came from upstream and are not archived."""
    return set(
        Room.objects.filter(workspace=workspace, archived=False)
        .exclude(upstream_id="")
        .values_list("upstream_id", flat=True)
    )


def rooms_archive(*, workspace: Workspace, upstream_ids: Iterable[str]) -> int:
    return Room.objects.filter(
        workspace=workspace, upstream_id__in=list(upstream_ids), archived=False
    ).update(archived=True, upstream_hash=ARCHIVED_MARK)


def _upsert(model: type[models.Model], rows: list, update_fields: list[str]) -> None:
    if rows:
        model.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["id"], update_fields=update_fields
        )


def _slug(room: PulledRoom) -> str:
    """Unique by construction (upstream ids are), so no look-up per room."""
    digest = hashlib.sha256(room.upstream_id.encode()).hexdigest()[:12]
    return f"{slugify(room.fields['title'])[:280] or 'room'}-{digest}"


class _PageWriter:
    def __init__(self, workspace: Workspace, rooms: list[PulledRoom], known: dict[str, dict]):
        self.workspace = workspace
        self.rooms = rooms
        self.known = known
        self.viewers: dict[str, Viewer] = {}
        self.room_ids: dict[str, uuid.UUID] = {}
        self.section_ids: dict[str, uuid.UUID] = {}
        self.step_ids: dict[str, uuid.UUID] = {}
        self.action_ids: dict[str, uuid.UUID] = {}

    def write(self) -> None:
        self._resolve_people()
        self._write_rooms()
        self._write_room_people()
        self._write_structure()
        self._write_assignees()
        self._write_viewership()
        self._write_engagements()
        refresh_room_totals(self.room_ids.values())

    # --- people and references ----------------------------------------------------------

    def _resolve_people(self) -> None:
        """People upstream puts on the seller's side who are members of the workspace are
        users; anyone else a contact, internal or not as upstream says (created, or their
        name, job title and side brought up to date when upstream gives them)."""
        people: dict[str, Person] = {}
        for room in self.rooms:
            for email, person in room.people.items():
                merged = people.setdefault(email, Person(email=email))
                merged.name = person.name or merged.name
                merged.job_title = person.job_title or merged.job_title
                merged.internal |= person.internal
        members = dict(
            User.objects.annotate(email_lower=Lower("email"))
            .filter(
                memberships__workspace=self.workspace,
                email_lower__in=[email for email, person in people.items() if person.internal],
            )
            .values_list("email_lower", "id")
        )
        self.viewers = {email: ("user", pk) for email, pk in members.items()}
        outside = people.keys() - members.keys()
        contacts = self._contacts(outside)
        missing = outside - contacts.keys()
        if missing:
            # ignore_conflicts: an API request may create the same contact meanwhile.
            Contact.objects.bulk_create(
                [
                    Contact(
                        workspace=self.workspace,
                        email=email,
                        name=people[email].name,
                        job_title=people[email].job_title,
                        internal=people[email].internal,
                    )
                    for email in sorted(missing)
                ],
                ignore_conflicts=True,
            )
            contacts |= self._contacts(missing)
        stale = []
        for email, contact in contacts.items():
            name = people[email].name or contact.name
            job_title = people[email].job_title or contact.job_title
            internal = people[email].internal
            if (name, job_title, internal) != (contact.name, contact.job_title, contact.internal):
                contact.name, contact.job_title, contact.internal = name, job_title, internal
                stale.append(contact)
        if stale:
            Contact.objects.bulk_update(stale, ["name", "job_title", "internal"])
        self.viewers |= {email: ("contact", contact.pk) for email, contact in contacts.items()}

    def _contacts(self, emails: Iterable[str]) -> dict[str, Contact]:
        rows = (
            Contact.objects.filter(workspace=self.workspace)
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=list(emails))
            .only("id", "email", "name", "job_title", "internal")
        )
        return {contact.email_lower: contact for contact in rows}

    def _references(
        self, model: type[models.Model], ids: set[str], new: Callable[[str], models.Model]
    ) -> dict[str, uuid.UUID]:
        """Rows of ``model`` by upstream id; one the workspace lacks is created from ``new``
        (a placeholder named after the id, which staff may rename; the pull never does)."""
        if not ids:
            return {}
        scoped = model.objects.filter(workspace=self.workspace)
        found = dict(scoped.filter(upstream_id__in=ids).values_list("upstream_id", "id"))
        missing = ids - found.keys()
        if missing:
            model.objects.bulk_create(
                [new(each) for each in sorted(missing)], ignore_conflicts=True
            )
            found |= dict(scoped.filter(upstream_id__in=missing).values_list("upstream_id", "id"))
        return found

    # --- rooms --------------------------------------------------------------------------

    def _write_rooms(self) -> None:
        ws = self.workspace
        statuses = self._references(
            RoomStatus,
            {room.status_id for room in self.rooms if room.status_id},
            lambda upstream_id: RoomStatus(
                workspace=ws, title=upstream_id, upstream_id=upstream_id
            ),
        )
        labels = self._references(
            Label,
            {room.label_id for room in self.rooms if room.label_id},
            lambda upstream_id: Label(workspace=ws, name=upstream_id, upstream_id=upstream_id),
        )
        companies = self._references(
            Company,
            {room.company_id for room in self.rooms if room.company_id},
            lambda upstream_id: Company(workspace=ws, name=upstream_id, upstream_id=upstream_id),
        )
        rows = []
        for room in self.rooms:
            known = self.known.get(room.upstream_id)
            owner = self.viewers.get(room.owner_email or "")
            contact = self.viewers.get(room.primary_contact_email or "")
            rows.append(
                Room(
                    id=known["id"] if known else uuid.uuid4(),
                    workspace=ws,
                    upstream_id=room.upstream_id,
                    upstream_hash=room.digest,
                    slug=known["slug"] if known else _slug(room),
                    # A room archived here stays archived; one the pull archived comes back.
                    archived=bool(known)
                    and known["archived"]
                    and known["upstream_hash"] != ARCHIVED_MARK,
                    owner_id=owner[1] if owner and owner[0] == "user" else None,
                    primary_contact_id=contact[1] if contact and contact[0] == "contact" else None,
                    status_id=statuses.get(room.status_id or ""),
                    label_id=labels.get(room.label_id or ""),
                    company_id=companies.get(room.company_id or ""),
                    **room.fields,
                )
            )
            self.room_ids[room.upstream_id] = rows[-1].id
        _upsert(Room, rows, ROOM_FIELDS)
        # updated_at is auto_now (bulk_create stamps it); a pulled room keeps upstream's.
        for row, room in zip(rows, self.rooms, strict=True):
            row.updated_at = room.updated_at
        Room.objects.bulk_update(rows, ["updated_at"])

    def _write_room_people(self) -> None:
        """The room's members and contacts with upstream's flags (owner, primary contact,
        last seen, view count), replaced by upstream's list."""
        room_ids = list(self.room_ids.values())
        RoomMember.objects.filter(room_id__in=room_ids).delete()
        RoomContact.objects.filter(room_id__in=room_ids).delete()
        members, contacts = [], []
        for room in self.rooms:
            room_id = self.room_ids[room.upstream_id]
            for email, on_room in room.people_on_room.items():
                kind, pk = self.viewers[email]
                if kind == "user":
                    members.append(
                        RoomMember(
                            workspace=self.workspace,
                            room_id=room_id,
                            user_id=pk,
                            is_room_owner=on_room.is_owner,
                        )
                    )
                else:
                    contacts.append(
                        RoomContact(
                            workspace=self.workspace,
                            room_id=room_id,
                            contact_id=pk,
                            is_primary_contact=on_room.is_primary,
                            is_room_owner=on_room.is_owner,
                            upstream_last_seen=on_room.last_seen,
                            upstream_view_count=on_room.view_count,
                        )
                    )
        RoomMember.objects.bulk_create(members)
        RoomContact.objects.bulk_create(contacts)

    # --- sections, steps, actions -------------------------------------------------------

    def _write_structure(self) -> None:
        room_ids = list(self.room_ids.values())
        sections, steps, actions = [], [], []
        for room in self.rooms:
            for section in room.sections:
                sections.append((self.room_ids[room.upstream_id], section))
                steps += [(section.upstream_id, step) for step in section.steps]
                actions += [(section.upstream_id, action) for action in section.actions]

        current = self._current(Section, Q(room_id__in=room_ids), [s for _, s in sections])
        self.section_ids = self._ids(current)
        _upsert(
            Section,
            [
                Section(
                    id=self.section_ids[section.upstream_id],
                    workspace=self.workspace,
                    room_id=room_id,
                    upstream_id=section.upstream_id,
                    title=section.title,
                    position=section.position,
                    access=access_for(
                        section.visible, current.get(section.upstream_id, {}).get("access")
                    ),
                    is_completed=section.is_completed,
                )
                for room_id, section in sections
            ],
            ["room", "title", "position", "access", "is_completed", "updated_at"],
        )

        current = self._current(Step, Q(section__room_id__in=room_ids), [s for _, s in steps])
        self.step_ids = self._ids(current)
        _upsert(
            Step,
            [
                Step(
                    id=self.step_ids[step.upstream_id],
                    workspace=self.workspace,
                    section_id=self.section_ids[section_id],
                    upstream_id=step.upstream_id,
                    title=step.title,
                    position=step.position,
                    access=access_for(
                        step.visible, current.get(step.upstream_id, {}).get("access")
                    ),
                )
                for section_id, step in steps
            ],
            ["section", "title", "position", "access", "updated_at"],
        )

        current = self._current(Action, Q(section__room_id__in=room_ids), [a for _, a in actions])
        self.action_ids = self._ids(current)
        _upsert(
            Action,
            [
                Action(
                    id=self.action_ids[action.upstream_id],
                    workspace=self.workspace,
                    section_id=self.section_ids[section_id],
                    upstream_id=action.upstream_id,
                    title=action.title,
                    position=action.position,
                    access=access_for(
                        action.visible, current.get(action.upstream_id, {}).get("access")
                    ),
                    status=action.status,
                    description=action.description,
                    internal=action.internal,
                    due_date=action.due_date,
                    action_type=action.action_type,
                )
                for section_id, action in actions
            ],
            [
                "section",
                "title",
                "position",
                "access",
                "status",
                "description",
                "internal",
                "due_date",
                "action_type",
                "updated_at",
            ],
        )

    def _current(self, model: type[models.Model], of_rooms: Q, wanted: list) -> dict[str, dict]:
        """The synced rows of ``model`` in these rooms or with a wanted upstream id (one may
        have moved between rooms upstream); those upstream no longer has are deleted (with
        what hangs on them). Two queries, the delete only when there is something to delete."""
        wanted_ids = {item.upstream_id for item in wanted}
        rows = {
            row["upstream_id"]: row
            for row in model.objects.filter(workspace=self.workspace)
            .filter(of_rooms | Q(upstream_id__in=wanted_ids))
            .exclude(upstream_id="")
            .values("id", "upstream_id", "access")
        }
        gone = [row["id"] for upstream_id, row in rows.items() if upstream_id not in wanted_ids]
        if gone:
            model.objects.filter(pk__in=gone).delete()
        return {upstream_id: rows[upstream_id] for upstream_id in wanted_ids & rows.keys()}

    @staticmethod
    def _ids(current: dict[str, dict]) -> defaultdict[str, uuid.UUID]:
        """Known rows keep their id; a new upstream id gets a fresh one."""
        ids: defaultdict[str, uuid.UUID] = defaultdict(uuid.uuid4)
        ids.update({upstream_id: row["id"] for upstream_id, row in current.items()})
        return ids

    # --- activity -----------------------------------------------------------------------

    def _target(self, target: tuple[str, str]) -> tuple[str, uuid.UUID]:
        kind, upstream_id = target
        return kind, (self.step_ids if kind == STEP else self.action_ids)[upstream_id]

    def _on_synced_targets(self) -> Q:
        return Q(room_id__in=list(self.room_ids.values())) & (
            Q(step_id__in=list(self.step_ids.values()))
            | Q(action_id__in=list(self.action_ids.values()))
        )

    @staticmethod
    def _viewer_of(row: dict) -> Viewer:
        return ("user", row["user_id"]) if row["user_id"] else ("contact", row["contact_id"])

    @staticmethod
    def _target_of(row: dict) -> tuple[str, object]:
        return (STEP, row["step_id"]) if row["step_id"] else (ACTION, row["action_id"])

    @staticmethod
    def _viewer_fields(viewer: Viewer) -> dict:
        kind, pk = viewer
        return {"user_id": pk} if kind == "user" else {"contact_id": pk}

    @staticmethod
    def _target_fields(target: tuple[str, object]) -> dict:
        kind, pk = target
        return {"step_id": pk} if kind == STEP else {"action_id": pk}

    def _write_assignees(self) -> None:
        wanted = {
            (self.action_ids[action.upstream_id], self.viewers[email])
            for room in self.rooms
            for section in room.sections
            for action in section.actions
            for email in action.assignees
        }
        current = {
            (row["action_id"], self._viewer_of(row)): row["id"]
            for row in ActionAssignee.objects.filter(
                action_id__in=list(self.action_ids.values())
            ).values("id", "action_id", "user_id", "contact_id")
        }
        gone = [pk for key, pk in current.items() if key not in wanted]
        if gone:
            ActionAssignee.objects.filter(pk__in=gone).delete()
        ActionAssignee.objects.bulk_create(
            [
                ActionAssignee(
                    workspace=self.workspace, action_id=action_id, **self._viewer_fields(viewer)
                )
                for action_id, viewer in wanted - current.keys()
            ]
        )

    def _write_viewership(self) -> None:
        wanted: dict[tuple, tuple[uuid.UUID, int, int]] = {}
        for room in self.rooms:
            for viewing in room.viewings:
                key = (self._target(viewing.target), self.viewers[viewing.email])
                wanted[key] = (self.room_ids[room.upstream_id], viewing.seconds, viewing.times)
        current = {
            (self._target_of(row), self._viewer_of(row)): row
            for row in Viewership.objects.filter(self._on_synced_targets()).values(
                "id",
                "step_id",
                "action_id",
                "user_id",
                "contact_id",
                "duration_in_seconds",
                "times_viewed",
            )
        }
        gone = [row["id"] for key, row in current.items() if key not in wanted]
        if gone:
            Viewership.objects.filter(pk__in=gone).delete()
        rows = []
        for (target, viewer), (room_id, seconds, times) in wanted.items():
            row = current.get((target, viewer))
            if row and (row["duration_in_seconds"], row["times_viewed"]) == (seconds, times):
                continue
            rows.append(
                Viewership(
                    id=row["id"] if row else None,
                    workspace=self.workspace,
                    room_id=room_id,
                    duration_in_seconds=seconds,
                    times_viewed=times,
                    **self._target_fields(target),
                    **self._viewer_fields(viewer),
                )
            )
        _upsert(Viewership, rows, ["duration_in_seconds", "times_viewed"])

    def _write_engagements(self) -> None:
        """Engagements have no upstream id: (target, viewer, type, time) is their key, counted
        (the same key may occur twice). Rows with a client id came from ingestion: kept."""
        wanted: Counter = Counter()
        room_of: dict[tuple, uuid.UUID] = {}
        for room in self.rooms:
            for engaged in room.engagements:
                key = (
                    self._target(engaged.target),
                    self.viewers[engaged.email],
                    engaged.type,
                    engaged.created_at,
                )
                wanted[key] += 1
                room_of[key] = self.room_ids[room.upstream_id]
        current: defaultdict[tuple, list] = defaultdict(list)
        for row in Engagement.objects.filter(
            self._on_synced_targets(), client_id__isnull=True
        ).values("id", "step_id", "action_id", "user_id", "contact_id", "type", "created_at"):
            key = (self._target_of(row), self._viewer_of(row), row["type"], row["created_at"])
            current[key].append(row["id"])
        gone = [pk for key, pks in current.items() for pk in pks[wanted[key] :]]
        if gone:
            Engagement.objects.filter(pk__in=gone).delete()
        Engagement.objects.bulk_create(
            [
                Engagement(
                    workspace=self.workspace,
                    room_id=room_of[key],
                    type=type_,
                    created_at=created_at,
                    **self._target_fields(target),
                    **self._viewer_fields(viewer),
                )
                for key, count in wanted.items()
                for (target, viewer, type_, created_at) in [key]
                for _ in range(count - len(current.get(key, [])))
            ]
        )
