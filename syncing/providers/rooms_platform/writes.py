"""The rooms stream's writes: one page of changed rooms, set-based (``syncing.upsert``).

Each table takes a fixed number of statements per page, whatever the number of rooms: one
``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE`` (a value differs) from the page's rows,
and for the tables a page replaces, one ``DELETE`` of the rows it no longer has. Rows are
matched by upstream id (rooms, sections, steps, actions, statuses, labels, companies; children
find their parent by its upstream id in the statement), by lower-cased email (contacts), or by
their natural key (room people, action assignees, viewership, engagements). Unchanged rows are
not rewritten; ``updated_at`` moves only with a change (a room's is upstream's).

Only what came from upstream is mirrored: sections, steps and actions without an upstream id,
and engagements with a client id (ingested through the activity API), are left alone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable

from django.db import connection, models, transaction
from django.db.models.functions import Lower
from django.utils.text import slugify

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
    Viewership,
)
from rooms.totals import refresh_room_totals
from syncing.providers.rooms_platform.mapping import STEP, Person, PulledRoom
from syncing.upsert import Staged, any_of, delete_absent, upsert
from workspaces.models import User, Workspace

# ``upstream_hash`` of a room the pull archived: it never equals a digest, so the room is
# written (and un-archived) if it shows up upstream again.
ARCHIVED_MARK = "archived"

# The upstream-id constraints are partial (rows never synced have none): their predicate, as
# the migrations wrote it (SQLite matches a conflict target's predicate by its text), names
# them in ON CONFLICT and lets a join by upstream id use their index.
SYNCED = "NOT (upstream_id = '')"


def _synced(alias: str) -> str:
    return f"NOT ({alias}.upstream_id = '')"


ROOM_COLUMNS = [
    "title",
    "description",
    "is_template",
    "hs_deal_id",
    "sf_opportunity_id",
    "attio_deal_id",
    "cover_title",
    "cover_description",
    "cover_disabled",
    "theme_color",
    "nav_color",
    "created_at",
    "upstream_views",
    "upstream_unique_views",
]

# A viewer: ("user", pk) or ("contact", pk).
Viewer = tuple[str, object]


def rooms_known(*, workspace: Workspace, upstream_ids: list[str]) -> dict[str, dict]:
    """The workspace's rooms with these upstream ids: what ``rooms_write`` needs of them."""
    rows = Room.objects.filter(workspace=workspace, upstream_id__in=upstream_ids).values(
        "id", "upstream_id", "upstream_hash"
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
    current = set(
        RoomStatus.objects.filter(
            workspace=workspace, upstream_id__in=[status["id"] for status in statuses]
        ).values_list("upstream_id", "title", "position")
    )
    rows = [(status["id"], status["title"], n) for n, status in enumerate(statuses)]
    rows = [row for row in rows if row not in current]  # so an unchanged list sends no write
    if rows:
        upsert(
            RoomStatus,
            Staged(_fields(RoomStatus, "upstream_id", "title", "position"), rows),
            values={"upstream_id": "s.upstream_id", "title": "s.title", "position": "s.position"},
            constants={"workspace_id": workspace.pk},
            conflict=["workspace_id", "upstream_id"],
            conflict_where=SYNCED,
            update=["title", "position"],
        )


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


def _fields(model: type[models.Model], *names: str, **renamed: str) -> dict[str, models.Field]:
    """Staged columns typed by ``model``'s fields: ``names`` as they are, ``renamed`` as
    staged name -> field name."""
    pairs = [(name, name) for name in names] + list(renamed.items())
    return {staged: model._meta.get_field(name) for staged, name in pairs}


def _slug(room: PulledRoom) -> str:
    """Unique by construction (upstream ids are), so no look-up per room."""
    digest = hashlib.sha256(room.upstream_id.encode()).hexdigest()[:12]
    return f"{slugify(room.fields['title'])[:280] or 'room'}-{digest}"


def _access(visible: bool) -> str:
    return Access.VISIBLE if visible else Access.HIDDEN


def _keep_local_access(table: str) -> str:
    """Upstream knows only visible or not: a hidden part is ``hidden``; a visible one keeps a
    local restricted/locked access, else is ``visible``."""
    return (
        f"CASE WHEN EXCLUDED.access = '{Access.HIDDEN}' THEN '{Access.HIDDEN}' "
        f"WHEN {table}.access IN ('{Access.RESTRICTED}', '{Access.LOCKED}') "
        f"THEN {table}.access ELSE '{Access.VISIBLE}' END"
    )


def _by_upstream_id(table: str, alias: str, staged_column: str, *, left: bool = False) -> str:
    """A join to ``table``'s synced row whose upstream id is the staged one (one %s: the
    workspace)."""
    join = "LEFT JOIN" if left else "JOIN"
    return (
        f"{join} {table} {alias} ON {alias}.workspace_id = %s AND {_synced(alias)} "
        f"AND {alias}.upstream_id = s.{staged_column}"
    )


# Activity rows name their target by the step's or the action's upstream id (one is null).
_TARGETS = (
    _by_upstream_id("rooms_step", "st", "step_uid", left=True)
    + " "
    + _by_upstream_id("rooms_action", "ac", "action_uid", left=True)
)


class _PageWriter:
    def __init__(self, workspace: Workspace, rooms: list[PulledRoom], known: dict[str, dict]):
        self.workspace = workspace
        self.ws = workspace.pk
        self.rooms = rooms
        self.known = known
        self.viewers: dict[str, Viewer] = {}
        self.room_ids: dict[str, uuid.UUID] = {}
        self.rewritten: list[uuid.UUID] = []

    def write(self) -> None:
        self._resolve_people()
        self._write_rooms()
        self._write_room_people()
        self._write_structure()
        self._write_assignees()
        self._write_viewership()
        self._write_engagements()
        refresh_room_totals(self.room_ids.values())

    # --- people -------------------------------------------------------------------------

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
        outside = sorted(people.keys() - members.keys())
        if not outside:
            return
        keep_if_blank = "CASE WHEN EXCLUDED.{0} <> '' THEN EXCLUDED.{0} ELSE rooms_contact.{0} END"
        # Returns the contacts inserted or changed; the others are read after.
        contacts = dict(
            upsert(
                Contact,
                Staged(
                    _fields(Contact, "email", "name", "job_title", "internal"),
                    [
                        (email, people[email].name, people[email].job_title, people[email].internal)
                        for email in outside
                    ],
                ),
                values={"email": "s.email", "name": "s.name", "job_title": "s.job_title"}
                | {"internal": "s.internal"},
                constants={"workspace_id": self.ws},
                conflict=["lower(email)", "workspace_id"],
                update={
                    "name": keep_if_blank.format("name"),
                    "job_title": keep_if_blank.format("job_title"),
                    "internal": "",
                },
                returning=["lower(email)", "id"],
            )
        )
        if len(contacts) < len(outside):
            contacts |= dict(
                Contact.objects.filter(workspace=self.workspace)
                .annotate(email_lower=Lower("email"))
                .filter(email_lower__in=[email for email in outside if email not in contacts])
                .values_list("email_lower", "id")
            )
        self.viewers |= {email: ("contact", pk) for email, pk in contacts.items()}

    # --- rooms --------------------------------------------------------------------------

    def _write_rooms(self) -> None:
        """The rooms, with their status, label and company found by upstream id (one the
        workspace lacks is created, named after the id: staff may rename it, the pull never
        does). A room archived here stays archived; one the pull archived comes back."""
        for model, name, attribute in (
            (RoomStatus, "title", "status_id"),
            (Label, "name", "label_id"),
            (Company, "name", "company_id"),
        ):
            ids = sorted({getattr(room, attribute) for room in self.rooms} - {None})
            if ids:
                upsert(
                    model,
                    Staged(_fields(model, "upstream_id"), [(each,) for each in ids]),
                    values={"upstream_id": "s.upstream_id", name: "s.upstream_id"},
                    constants={"workspace_id": self.ws},
                    conflict=["workspace_id", "upstream_id"],
                    conflict_where=SYNCED,
                )
        rows = []
        for room in self.rooms:
            known = self.known.get(room.upstream_id)
            owner = self.viewers.get(room.owner_email or "")
            contact = self.viewers.get(room.primary_contact_email or "")
            rows.append(
                (
                    known["id"] if known else uuid.uuid4(),
                    room.upstream_id,
                    room.digest,
                    _slug(room),
                    room.updated_at,
                    owner[1] if owner and owner[0] == "user" else None,
                    contact[1] if contact and contact[0] == "contact" else None,
                    room.status_id,
                    room.label_id,
                    room.company_id,
                    *(room.fields[column] for column in ROOM_COLUMNS),
                )
            )
        columns = _fields(
            Room,
            "id",
            "upstream_id",
            "upstream_hash",
            "slug",
            "updated_at",
            owner_id="owner",
            primary_contact_id="primary_contact",
            status_uid="upstream_id",
            label_uid="upstream_id",
            company_uid="upstream_id",
        ) | _fields(Room, *ROOM_COLUMNS)
        plain = ["upstream_hash", "updated_at", "owner_id", "primary_contact_id", *ROOM_COLUMNS]
        written = upsert(
            Room,
            Staged(columns, rows),
            values={column: f"s.{column}" for column in ["id", "upstream_id", "slug", *plain]}
            | {"status_id": "st.id", "label_id": "lb.id", "company_id": "co.id"}
            | {"archived": "FALSE"},
            constants={"workspace_id": self.ws},
            joins=" ".join(
                [
                    _by_upstream_id("rooms_roomstatus", "st", "status_uid", left=True),
                    _by_upstream_id("rooms_label", "lb", "label_uid", left=True),
                    _by_upstream_id("rooms_company", "co", "company_uid", left=True),
                ]
            ),
            params=[self.ws] * 3,
            conflict=["workspace_id", "upstream_id"],
            conflict_where=SYNCED,
            update=dict.fromkeys([*plain, "status_id", "label_id", "company_id"], "")
            | {
                "archived": f"rooms_room.archived AND rooms_room.upstream_hash <> '{ARCHIVED_MARK}'"
            },
            returning=["upstream_id", "id"],
        )
        # Every room here differs from its row (its digest does), so every one is returned.
        self.room_ids = dict(written)
        # Only rooms written before can have rows a page replaces (a part that moved in from
        # another room keeps that room's activity there).
        self.rewritten = [
            self.room_ids[room.upstream_id] for room in self.rooms if room.upstream_id in self.known
        ]

    def _write_room_people(self) -> None:
        """The room's members and contacts with upstream's flags (owner, primary contact,
        last seen, view count), replaced by upstream's list."""
        if self.rewritten:
            RoomMember.objects.filter(room_id__in=self.rewritten).delete()
            RoomContact.objects.filter(room_id__in=self.rewritten).delete()
        members, contacts = [], []
        for room in self.rooms:
            room_id = self.room_ids[room.upstream_id]
            for email, on_room in room.people_on_room.items():
                kind, pk = self.viewers[email]
                if kind == "user":
                    members.append((room_id, pk, on_room.is_owner))
                else:
                    contacts.append(
                        (
                            room_id,
                            pk,
                            on_room.is_primary,
                            on_room.is_owner,
                            on_room.last_seen,
                            on_room.view_count,
                        )
                    )
        for model, rows, names in (
            (RoomMember, members, ["room_id", "user_id", "is_room_owner"]),
            (
                RoomContact,
                contacts,
                [
                    "room_id",
                    "contact_id",
                    "is_primary_contact",
                    "is_room_owner",
                    "upstream_last_seen",
                    "upstream_view_count",
                ],
            ),
        ):
            if rows:
                upsert(
                    model,
                    Staged(_fields(model, *names), rows),
                    values={name: f"s.{name}" for name in names},
                    constants={"workspace_id": self.ws},
                )

    # --- sections, steps, actions -------------------------------------------------------

    def _write_structure(self) -> None:
        """Per table: delete the synced rows of these rooms upstream no longer has (with what
        hangs on them), then upsert the page's. A part that moved between rooms upstream is
        moved, not recreated."""
        sections, steps, actions = [], [], []
        for room in self.rooms:
            room_id = self.room_ids[room.upstream_id]
            for s in room.sections:
                sections.append(
                    (
                        room_id,
                        s.upstream_id,
                        s.title,
                        s.position,
                        _access(s.visible),
                        s.is_completed,
                    )
                )
                steps += [
                    (s.upstream_id, p.upstream_id, p.title, p.position, _access(p.visible))
                    for p in s.steps
                ]
                actions += [
                    (
                        s.upstream_id,
                        a.upstream_id,
                        a.title,
                        a.position,
                        _access(a.visible),
                        a.status,
                        a.description,
                        a.internal,
                        a.due_date,
                        a.action_type,
                    )
                    for a in s.actions
                ]
        section_uid = {"section_uid": Section._meta.get_field("upstream_id")}
        for model, rows, columns, parent in (
            (
                Section,
                sections,
                _fields(
                    Section, "room_id", "upstream_id", "title", "position", "access", "is_completed"
                ),
                None,
            ),
            (
                Step,
                steps,
                section_uid | _fields(Step, "upstream_id", "title", "position", "access"),
                "section_uid",
            ),
            (
                Action,
                actions,
                section_uid
                | _fields(
                    Action,
                    "upstream_id",
                    "title",
                    "position",
                    "access",
                    "status",
                    "description",
                    "internal",
                    "due_date",
                    "action_type",
                ),
                "section_uid",
            ),
        ):
            in_rooms = (
                {"room_id__in": self.rewritten}
                if model is Section
                else {"section__room_id__in": self.rewritten}
            )
            gone = (
                model.objects.filter(workspace=self.workspace, **in_rooms)
                .exclude(upstream_id="")
                .exclude(upstream_id__in=[row[1] for row in rows])
            )
            if self.rewritten:
                gone.delete()
            if not rows:
                continue
            table = model._meta.db_table
            fields = [column for column in columns if column != parent]
            upsert(
                model,
                Staged(columns, rows),
                values={column: f"s.{column}" for column in fields}
                | ({"section_id": "se.id"} if parent else {}),
                constants={"workspace_id": self.ws},
                joins=_by_upstream_id("rooms_section", "se", parent) if parent else "",
                params=[self.ws] if parent else [],
                conflict=["workspace_id", "upstream_id"],
                conflict_where=SYNCED,
                update={column: "" for column in fields if column not in ("upstream_id", "access")}
                | ({"section_id": ""} if parent else {})
                | {"access": _keep_local_access(table)},
                touch=["updated_at"],
            )

    # --- activity -----------------------------------------------------------------------

    def _ids_of_page(self, model: type[Step | Action]) -> tuple[str, list]:
        """A subquery: the ids of the page's steps or actions (found by upstream id)."""
        uids = [
            part.upstream_id
            for room in self.rooms
            for section in room.sections
            for part in (section.steps if model is Step else section.actions)
        ]
        uids_in, params = any_of(model._meta.get_field("upstream_id"), uids)
        table = model._meta.db_table
        return (
            f"(SELECT t.id FROM {table} t WHERE t.workspace_id = %s AND {_synced('t')} "
            f"AND t.upstream_id {uids_in})",
            [self.ws, *params],
        )

    def _on_page_targets(self, table: str) -> tuple[str, list]:
        """SQL over ``table``: its row is in one of the page's rooms written before (its
        index narrows the rows first), on one of the page's steps or actions."""
        rooms_in, params = any_of(Room._meta.pk, self.rewritten)
        steps, step_params = self._ids_of_page(Step)
        actions, action_params = self._ids_of_page(Action)
        return (
            f"{table}.room_id {rooms_in} AND ({table}.step_id IN {steps} "
            f"OR {table}.action_id IN {actions})",
            [*params, *step_params, *action_params],
        )

    def _viewer(self, email: str) -> tuple:
        kind, pk = self.viewers[email]
        return (pk, None) if kind == "user" else (None, pk)

    @staticmethod
    def _target(target: tuple[str, str]) -> tuple:
        kind, upstream_id = target
        return (upstream_id, None) if kind == STEP else (None, upstream_id)

    def _activity_columns(self, model: type[models.Model], *names: str) -> dict:
        return (
            {
                "step_uid": Step._meta.get_field("upstream_id"),
                "action_uid": Action._meta.get_field("upstream_id"),
            }
            | _fields(model, user_id="user", contact_id="contact")
            | _fields(model, *names)
        )

    def _write_assignees(self) -> None:
        rows = {
            (action.upstream_id, *self._viewer(email))
            for room in self.rooms
            for section in room.sections
            for action in section.actions
            for email in action.assignees
        }
        staged = Staged(
            {"action_uid": Action._meta.get_field("upstream_id")}
            | _fields(ActionAssignee, user_id="user", contact_id="contact"),
            sorted(rows, key=str),
        )
        actions, params = self._ids_of_page(Action)
        delete_absent(
            ActionAssignee,
            staged,
            scope=f"rooms_actionassignee.action_id IN {actions}",
            scope_params=params,
            joins=_by_upstream_id("rooms_action", "ac", "action_uid"),
            params=[self.ws],
            match="rooms_actionassignee.action_id = ac.id"
            " AND rooms_actionassignee.user_id IS NOT DISTINCT FROM s.user_id"
            " AND rooms_actionassignee.contact_id IS NOT DISTINCT FROM s.contact_id",
        )
        if rows:
            upsert(
                ActionAssignee,
                staged,
                values={"action_id": "ac.id", "user_id": "s.user_id", "contact_id": "s.contact_id"},
                constants={"workspace_id": self.ws},
                joins=_by_upstream_id("rooms_action", "ac", "action_uid"),
                params=[self.ws],
            )

    def _write_viewership(self) -> None:
        """Rows that differ are replaced (deleted, then inserted)."""
        wanted: dict[tuple, tuple] = {}
        for room in self.rooms:
            room_id = self.room_ids[room.upstream_id]
            for viewing in room.viewings:
                key = (*self._target(viewing.target), *self._viewer(viewing.email))
                wanted[key] = (room_id, viewing.seconds, viewing.times)
        staged = Staged(
            self._activity_columns(Viewership, "room_id", "duration_in_seconds", "times_viewed"),
            [(*key, *values) for key, values in wanted.items()],
        )
        scope, scope_params = self._on_page_targets("rooms_viewership")
        same = (
            "COALESCE(rooms_viewership.step_id, rooms_viewership.action_id)"
            " = COALESCE(st.id, ac.id)"
            " AND rooms_viewership.user_id IS NOT DISTINCT FROM s.user_id"
            " AND rooms_viewership.contact_id IS NOT DISTINCT FROM s.contact_id"
            " AND rooms_viewership.duration_in_seconds = s.duration_in_seconds"
            " AND rooms_viewership.times_viewed = s.times_viewed"
        )
        if self.rewritten:
            delete_absent(
                Viewership,
                staged,
                scope=scope,
                scope_params=scope_params,
                joins=_TARGETS,
                params=[self.ws] * 2,
                match=same,
            )
        if wanted:
            upsert(
                Viewership,
                staged,
                values={"step_id": "st.id", "action_id": "ac.id"}
                | {c: f"s.{c}" for c in ("room_id", "user_id", "contact_id")}
                | {c: f"s.{c}" for c in ("duration_in_seconds", "times_viewed")},
                constants={"workspace_id": self.ws},
                joins=_TARGETS,
                params=[self.ws] * 2,
            )

    def _write_engagements(self) -> None:
        """Engagements have no upstream id: (target, viewer, type, time) is their key, counted
        (the same key may occur twice): the n-th row of a key is kept when upstream has an
        n-th, deleted otherwise; the missing ones are inserted. Rows with a client id came
        from ingestion: kept."""
        seen: Counter = Counter()
        rows = []
        for room in self.rooms:
            room_id = self.room_ids[room.upstream_id]
            for engaged in room.engagements:
                key = (
                    *self._target(engaged.target),
                    *self._viewer(engaged.email),
                    engaged.type,
                    engaged.created_at,
                )
                seen[key] += 1
                rows.append((*key, room_id, seen[key]))
        staged = Staged(
            self._activity_columns(Engagement, "type", "created_at", "room_id")
            | {"n": Engagement._meta.pk},
            rows,
        )
        source, source_params = staged.relation()
        scope, scope_params = self._on_page_targets("e")
        key = "COALESCE(e.step_id, e.action_id), e.user_id, e.contact_id, e.type, e.created_at"
        current = (
            f"SELECT e.id, COALESCE(e.step_id, e.action_id) AS target, e.user_id, e.contact_id,"
            f" e.type, e.created_at, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY e.id) AS n"
            f" FROM rooms_engagement e WHERE e.client_id IS NULL AND {scope}"
        )
        wanted = (
            f"SELECT s.room_id, st.id AS step_id, ac.id AS action_id, s.user_id, s.contact_id,"
            f" s.type, s.created_at, s.n FROM {source} {_TARGETS}"
        )
        same = (
            "w.n = c.n AND COALESCE(w.step_id, w.action_id) = c.target AND w.type = c.type"
            " AND w.created_at = c.created_at AND w.user_id IS NOT DISTINCT FROM c.user_id"
            " AND w.contact_id IS NOT DISTINCT FROM c.contact_id"
        )
        params = [*scope_params, *source_params, self.ws, self.ws]
        with connection.cursor() as cursor:
            if self.rewritten:
                cursor.execute(
                    f"WITH c AS ({current}), w AS ({wanted}) DELETE FROM rooms_engagement"
                    f" WHERE id IN (SELECT c.id FROM c WHERE NOT EXISTS"
                    f" (SELECT 1 FROM w WHERE {same}))",
                    params,
                )
            if rows:
                cursor.execute(
                    f"WITH c AS ({current}), w AS ({wanted}) INSERT INTO rooms_engagement"
                    " (workspace_id, room_id, step_id, action_id, user_id, contact_id, type,"
                    " created_at) SELECT %s, w.room_id, w.step_id, w.action_id, w.user_id,"
                    f" w.contact_id, w.type, w.created_at FROM w WHERE NOT EXISTS"
                    f" (SELECT 1 FROM c WHERE {same})",
                    [*params, self.ws],
                )
