"""Fill a (separate, PostgreSQL) database with a benchmark workspace of rooms and activity.

At --scale 1: 10,000 rooms (every 50th has 50 sections, 50 pages and 50 action items, the others
3 sections with 6 pages and 6 action items), 20,000 contacts, 200,000 viewership rows,
1,000,000 engagements and 300,000 visits. The first room is the largest: 100 viewers on all of
its 100 pages and action items (10,000 viewership rows, 5%), 2% of the engagements and 2,000
visits.
Rows are written with COPY, so generation takes a minute or two at full scale.

    createdb -h 127.0.0.1 -U postgres fs_rooms_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench manage.py migrate
    DATABASE_URL=... manage.py bench_rooms_generate --scale 1
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from rooms.models import (
    Action,
    ActionAssignee,
    Company,
    Contact,
    Engagement,
    Room,
    Section,
    Step,
    Viewership,
    Visit,
)
from rooms.totals import refresh_room_totals
from workspaces.models import Membership, User, Workspace

BIG_ROOM_EVERY = 50
BIG_ROOM_SECTIONS = 50
LARGEST_ROOM_VIEWERS = 100
# The largest room's share of each kind of activity.
LARGEST_ROOM_SHARE = {"viewership": 0.05, "engagements": 0.02, "visits": 2_000 / 300_000}
ROOM_VIEWERS = 4
MEMBERS = 20
END = datetime(2026, 5, 1, tzinfo=UTC)
SPAN_SECONDS = 180 * 24 * 3600


class Command(BaseCommand):
    help = "Generate a benchmark workspace of rooms with activity (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1 = 10,000 rooms, 1M eng.")
        parser.add_argument("--workspace", default="bench", help="Slug of the new workspace.")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, scale: float, workspace: str, seed: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The generator writes with COPY: point DATABASE_URL at PostgreSQL.")
        if Workspace.objects.filter(slug=workspace).exists():
            raise CommandError(f'Workspace "{workspace}" exists; use a fresh database or slug.')
        started = time.monotonic()
        with transaction.atomic():
            counts = _Generator(random.Random(seed), scale).run(workspace)
        with connection.cursor() as cursor:
            # VACUUM sets the visibility map a table under autovacuum has, so the list's
            # index-only scans do not visit the freshly loaded heap (not possible inside a
            # transaction, as in the smoke test).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
        self.stdout.write(f"Generated {summary} in {time.monotonic() - started:.1f} s.")


def _when(rng: random.Random) -> datetime:
    return END - timedelta(seconds=rng.randrange(SPAN_SECONDS))


class _Generator:
    def __init__(self, rng: random.Random, scale: float):
        self.rng = rng
        self.rooms = max(2, round(10_000 * scale))
        self.contacts = max(LARGEST_ROOM_VIEWERS, round(20_000 * scale))
        self.viewership = round(200_000 * scale)
        self.engagements = round(1_000_000 * scale)
        self.visits = round(300_000 * scale)
        self.counts: dict[str, int] = {}

    def run(self, slug: str) -> dict[str, int]:
        workspace = Workspace.objects.create(
            name="Bench", slug=slug, internal_company_name="Bench Inc."
        )
        self.workspace_id = workspace.pk
        members = [
            User.objects.create_user(f"member{n}@{slug}.example", full_name=f"Member {n}")
            for n in range(MEMBERS)
        ]
        Membership.objects.bulk_create(Membership(user=u, workspace=workspace) for u in members)
        self.member_ids = [user.pk for user in members]
        self.company_ids = self._copy_with_ids(
            Company,
            ("name", "domain", "brand_color", "created_at"),
            [(f"Buyer {n}", f"buyer{n}.example", "#336699", END) for n in range(500)],
        )
        self.contact_ids = self._copy_with_ids(
            Contact,
            ("email", "name", "job_title", "created_at"),
            [
                (f"buyer{n}@customers.example", f"Buyer {n}", "VP of Operations", END)
                for n in range(self.contacts)
            ],
        )
        rooms = self._rooms()
        targets = self._structure(rooms)
        pairs = self._viewership(rooms, targets)
        self._engagements(rooms, pairs)
        self._visits(rooms)
        # COPY writes around the app's writers: the totals are refreshed as a data load must.
        refresh_room_totals(room["id"] for room in rooms)
        return self.counts

    # --- writing ---------------------------------------------------------------------------

    def _copy(self, model, columns: tuple[str, ...], rows) -> None:
        """COPY ``rows`` (tuples in ``columns`` order, plus the workspace) into the table; the
        columns not listed that have no database default (upstream ids, flags added later) get
        their model default, as Django would write them."""
        fields = [model._meta.get_field(name) for name in ("workspace", *columns)]
        defaulted = [
            field
            for field in model._meta.concrete_fields
            if field not in fields
            and not field.null
            and not field.has_db_default()
            and not isinstance(field, models.AutoField | models.BigAutoField)
        ]
        names = ", ".join(connection.ops.quote_name(field.column) for field in fields + defaulted)
        blanks = tuple(field.get_default() for field in defaulted)
        count = 0
        with connection.cursor() as cursor:
            copy_sql = (
                f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row((self.workspace_id, *row, *blanks))
                    count += 1
        label = model._meta.verbose_name_plural
        self.counts[label] = self.counts.get(label, 0) + count

    def _copy_with_ids(self, model, columns: tuple[str, ...], rows: list[tuple]) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in rows]
        self._copy(model, ("id", *columns), [(pk, *row) for pk, row in zip(ids, rows, strict=True)])
        return ids

    # --- rooms and their structure ---------------------------------------------------------

    def _rooms(self) -> list[dict]:
        rng = self.rng
        rooms = []
        for n in range(self.rooms):
            largest = n == 0
            viewers = rng.sample(
                self.contact_ids, LARGEST_ROOM_VIEWERS if largest else ROOM_VIEWERS
            )
            created = _when(rng)
            rooms.append(
                {
                    "id": uuid.uuid4(),
                    "big": n % BIG_ROOM_EVERY == 0,
                    "viewers": viewers,
                    "row": (
                        f"Bench room {n}",
                        "",
                        False,
                        rng.choice(self.member_ids),
                        rng.choice(self.company_ids),
                        viewers[0],
                        f"bench-room-{n}",
                        created,
                        created + timedelta(days=rng.randrange(30)),
                    ),
                }
            )
        columns = (
            "id",
            "title",
            "description",
            "is_template",
            "owner",
            "company",
            "primary_contact",
            "slug",
            "created_at",
            "updated_at",
        )
        blank = ("", "", "", "", "", False, "", "", False)
        blank_columns = (
            "hs_deal_id",
            "sf_opportunity_id",
            "attio_deal_id",
            "cover_title",
            "cover_description",
            "cover_disabled",
            "theme_color",
            "nav_color",
            "archived",
        )
        self._copy(
            Room,
            columns + blank_columns,
            ((room["id"], *room["row"], *blank) for room in rooms),
        )
        return rooms

    def _structure(self, rooms: list[dict]) -> dict:
        """Sections, pages, action items (one assignee each); returns each room's targets as
        [("step" | "action", id), ...]."""
        sections, steps, actions, assignees = [], [], [], []
        targets: dict = {}
        statuses = Action.Status.values
        for room in rooms:
            room_targets = targets[room["id"]] = []
            shape = (BIG_ROOM_SECTIONS, 1) if room["big"] else (3, 2)
            for position in range(shape[0]):
                section_id = uuid.uuid4()
                sections.append(
                    (
                        section_id,
                        room["id"],
                        f"Section {position}",
                        position,
                        "visible",
                        False,
                        END,
                        END,
                    )
                )
                for index in range(shape[1]):
                    step_id, action_id = uuid.uuid4(), uuid.uuid4()
                    steps.append((step_id, section_id, f"Page {index}", index, "visible", END, END))
                    due = _when(self.rng) + timedelta(days=60)
                    actions.append(
                        (
                            action_id,
                            section_id,
                            f"Action {index}",
                            "",
                            self.rng.choice(statuses),
                            False,
                            due,
                            "",
                            "visible",
                            index,
                            END,
                            END,
                        )
                    )
                    assignee = self.rng.choice(room["viewers"])
                    assignees.append((action_id, None, assignee))
                    room_targets += [("step", step_id), ("action", action_id)]
        self._copy(
            Section,
            (
                "id",
                "room",
                "title",
                "position",
                "access",
                "is_completed",
                "created_at",
                "updated_at",
            ),
            sections,
        )
        self._copy(
            Step,
            ("id", "section", "title", "position", "access", "created_at", "updated_at"),
            steps,
        )
        self._copy(
            Action,
            (
                "id",
                "section",
                "title",
                "description",
                "status",
                "internal",
                "due_date",
                "action_type",
                "access",
                "position",
                "created_at",
                "updated_at",
            ),
            actions,
        )
        self._copy(ActionAssignee, ("action", "user", "contact"), assignees)
        return targets

    # --- activity --------------------------------------------------------------------------

    def _per_room(self, total: int, largest: int) -> list[int]:
        """``total`` spread over the rooms, ``largest`` of it in the first room."""
        rest = max(0, total - largest)
        others = self.rooms - 1
        return [largest] + [rest // others + (1 if n < rest % others else 0) for n in range(others)]

    def _viewership(self, rooms: list[dict], targets: dict) -> dict:
        """Distinct (target, viewer) pairs per room, each with a viewership row."""
        largest = rooms[0]
        largest_pairs = len(targets[largest["id"]]) * len(largest["viewers"])
        share = round(self.viewership * LARGEST_ROOM_SHARE["viewership"])
        quotas = self._per_room(self.viewership, min(largest_pairs, share))
        pairs: dict = {}
        rows = []
        for room, quota in zip(rooms, quotas, strict=True):
            every = [(t, v) for t in targets[room["id"]] for v in room["viewers"]]
            chosen = every if len(every) <= quota else self.rng.sample(every, quota)
            pairs[room["id"]] = chosen
            for (kind, target_id), viewer in chosen:
                step_id, action_id = (target_id, None) if kind == "step" else (None, target_id)
                rows.append(
                    (
                        room["id"],
                        step_id,
                        action_id,
                        None,
                        viewer,
                        self.rng.randrange(1, 600),
                        self.rng.randrange(1, 10),
                    )
                )
        columns = ("room", "step", "action", "user", "contact", "duration_in_seconds")
        self._copy(Viewership, (*columns, "times_viewed"), rows)
        return pairs

    def _engagements(self, rooms: list[dict], pairs: dict) -> None:
        share = round(self.engagements * LARGEST_ROOM_SHARE["engagements"])
        quotas = self._per_room(self.engagements, share)
        types = Engagement.Type.values
        rng = self.rng

        def rows():
            for room, quota in zip(rooms, quotas, strict=True):
                room_pairs = pairs[room["id"]]
                if not room_pairs:
                    continue
                for _ in range(quota):
                    (kind, target_id), viewer = rng.choice(room_pairs)
                    step_id, action_id = (target_id, None) if kind == "step" else (None, target_id)
                    yield (
                        room["id"],
                        step_id,
                        action_id,
                        None,
                        viewer,
                        rng.choice(types),
                        _when(rng),
                    )

        self._copy(
            Engagement, ("room", "step", "action", "user", "contact", "type", "created_at"), rows()
        )

    def _visits(self, rooms: list[dict]) -> None:
        quotas = self._per_room(self.visits, round(self.visits * LARGEST_ROOM_SHARE["visits"]))
        rng = self.rng

        def rows():
            for room, quota in zip(rooms, quotas, strict=True):
                for _ in range(quota):
                    yield (room["id"], None, rng.choice(room["viewers"]), _when(rng))

        self._copy(Visit, ("room", "user", "contact", "at"), rows())
