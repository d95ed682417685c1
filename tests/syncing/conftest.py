from __future__ import annotations

import pytest

from syncing.coordination import redis_client
from syncing.models import Connection
from syncing.schedules import (
    connection_schedules,
    schedule_every_minutes,
    schedule_name,
    schedule_slots,
)
from syncing.services import connection_create
from tests.factories import WorkspaceFactory
from tests.syncing.fakes.rooms_platform import FakeRoomsPlatform


@pytest.fixture(autouse=True)
def _sync_settings(settings):
    """Short timeouts and backoffs so retries run in milliseconds, and a clean Redis."""
    settings.SYNC_HTTP_CONNECT_TIMEOUT = 2.0
    settings.SYNC_HTTP_READ_TIMEOUT = 0.5
    settings.SYNC_HTTP_RETRIES = 3
    settings.SYNC_HTTP_BACKOFF_FACTOR = 0.01
    settings.SYNC_HTTP_BACKOFF_JITTER = 0.01
    settings.SYNC_HTTP_RETRY_AFTER_MAX = 5
    settings.SYNC_OUTBOX_BACKOFF_BASE = 0.0
    settings.SYNC_BUDGET_MAX_WAIT = 10.0
    client = redis_client()
    for key in client.scan_iter("sync:*"):
        client.delete(key)


@pytest.fixture
def rooms_fake():
    fake = FakeRoomsPlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme Sales", slug="acme-sync")


@pytest.fixture
def rooms_connection(workspace, rooms_fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


@pytest.fixture
def test_handlers():
    from tests.syncing.fakes import handlers

    handlers.register()
    yield handlers
    handlers.unregister()


@pytest.fixture
def webinar_fake():
    from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform

    fake = FakeWebinarPlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def webinar_connection(workspace, webinar_fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="FLOW",
        base_url=webinar_fake.url,
        api_key=webinar_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


# The rooms-platform key of the admin tests' connection, checked absent from every page.
ADMIN_API_KEY = "flowla-live-admin-7c6b5a49"


@pytest.fixture
def staff(cast):
    """The cast, all staff (admin access comes from workspace roles)."""
    for actor in (cast.owner, cast.member, cast.outsider):
        actor.user.is_staff = True
        actor.user.save()
    return cast


@pytest.fixture
def connection(staff, rooms_fake) -> Connection:
    """A rooms-platform connection of the staff's workspace, as the admin tests use it."""
    rooms_fake.api_key = ADMIN_API_KEY
    return connection_create(
        workspace=staff.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Acme Flowla",
        base_url=rooms_fake.url,
        api_key=ADMIN_API_KEY,
        options={"requests_per_second": 100, "burst": 100},
    )


def schedule_form_values(connection) -> dict[str, object]:
    """The Schedules fields of the connection form as the page shows them now."""
    values: dict[str, object] = {}
    tasks = {task.name: task for task in connection_schedules(connection)}
    for slot in schedule_slots(connection.provider):
        task = tasks[schedule_name(connection, slot.key)]
        field = f"schedule_{slot.key.replace(':', '_')}"
        values[f"{field}_every"] = schedule_every_minutes(task) or ""
        if task.enabled:
            values[f"{field}_on"] = "on"
    return values


def admin_edit_connection(client, connection, **changes):
    """POST the connection's admin change form with its current values and ``changes``."""
    data = {
        "workspace": connection.workspace_id,
        "name": connection.name,
        "base_url": connection.base_url,
        "enabled": "on",
        "options": "{}",
        **schedule_form_values(connection),
        **changes,
    }
    return client.post(f"/admin/syncing/connection/{connection.pk}/change/", data)


@pytest.fixture
def short_lock_worker(transactional_db, monkeypatch, request):
    """A real worker whose run locks expire within seconds once it is killed: it reads
    tests.syncing.rooms_pull_worker_settings (SYNC_LOCK_TTL = 5 s)."""
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.syncing.rooms_pull_worker_settings")
    return request.getfixturevalue("celery_worker_process")
