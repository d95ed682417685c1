"""The demo sandbox: the project's fake rooms platform (tests/syncing/fakes/rooms_platform.py),
served on a free loopback port by ``bin/flowsync start`` as its fourth process, with a dozen
rooms, and the demo workspace's "Rooms platform sandbox" connection pointed at it, so "Sync now"
in the admin pulls real-looking upstream data on a fresh install and rooms created in the admin
are pushed there. It keeps everything in memory: a restart serves the same rooms (same ids)
again."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from demo.cast import COMPANIES, DEAL_TOPICS
from syncing.models import Connection
from syncing.services import connection_create
from tests.syncing.fakes.rooms_platform import API_KEY, FakeRoomsPlatform
from workspaces.models import Workspace

CONNECTION_NAME = "Rooms platform sandbox (demo)"
ROOM_COUNT = 12
SEED = 4242
# Room, section, page and action item ids of the sandbox: uuid5 names under this namespace.
NAMESPACE = uuid.UUID("5a4db0c5-0000-4000-8000-000000000000")


def _stable_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def sandbox_populate(fake: FakeRoomsPlatform, *, now: datetime) -> None:
    """A dozen rooms with analytics; the same ids on every start (the fake's generator names
    sections, pages and action items with random UUIDs, replaced here by stable ones)."""
    rng = random.Random(SEED)
    for number in range(1, ROOM_COUNT + 1):
        company, _, color = COMPANIES[-number]
        room_id = _stable_id("room", number)
        at = now - timedelta(hours=number * 7)
        fake.add_room(
            id=room_id,
            at=at,
            title=f"{company}: {rng.choice(DEAL_TOPICS)} (sandbox)",
            description="Pulled from the demo sandbox",
            statusId=rng.choice(["st-open", "st-won"]),
            themeColor=color,
            coverTitle=f"Welcome, {company}",
        )
        analytics = fake.make_analytics(rng, at=at)
        for s, section in enumerate(analytics["sections"]):
            section["id"] = _stable_id(room_id, s)
            for kind in ("steps", "actions"):
                for n, item in enumerate(section[kind]):
                    item["id"] = _stable_id(room_id, s, kind, n)
        fake.analytics[room_id] = analytics


def sandbox_connection_point(*, workspace: Workspace, base_url: str) -> Connection:
    """The workspace's sandbox connection, created on first use, pointed at ``base_url``."""
    connection = Connection.objects.for_workspace(workspace).filter(name=CONNECTION_NAME).first()
    if connection is None:
        return connection_create(
            workspace=workspace,
            provider=Connection.Provider.ROOMS_PLATFORM,
            name=CONNECTION_NAME,
            base_url=base_url,
            api_key=API_KEY,
        )
    connection.base_url = base_url
    connection.full_clean()
    connection.save(update_fields=["base_url", "updated_at"])
    return connection


def sandbox_start(*, workspace: Workspace) -> tuple[FakeRoomsPlatform, Connection]:
    fake = FakeRoomsPlatform()
    sandbox_populate(fake, now=datetime.now(UTC).replace(microsecond=0))
    fake.start()
    return fake, sandbox_connection_point(workspace=workspace, base_url=fake.url)
