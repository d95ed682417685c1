"""Live progress in a browser: "Sync now" on the connection page against the loopback fake
rooms platform, with a real Celery worker. The run page updates itself until the run ends:
succeeded with its counts, or failed with the reason."""

from __future__ import annotations

import pytest

from syncing.models import Connection
from syncing.services import connection_create
from tests.browser.conftest import log_in
from tests.syncing.fakes.rooms_platform import FakeRoomsPlatform


@pytest.fixture
def rooms_fake():
    fake = FakeRoomsPlatform().start()
    yield fake
    fake.stop()


def _sync_now(page, live_server, connection) -> None:
    page.goto(f"{live_server.url}/admin/syncing/connection/{connection.pk}/change/")
    page.click("#sync-streams button:has-text('Sync now')")
    page.wait_for_url("**/admin/syncing/syncrun/*/change/")


@pytest.mark.worker
def test_sync_now_shows_live_progress_until_the_run_ends(
    page, live_server, cast, rooms_fake, celery_worker_process
):
    connection = connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )
    rooms_fake.populate(150)  # two pages
    log_in(page, live_server, cast.owner.user)

    _sync_now(page, live_server, connection)
    run_url = page.url
    page.wait_for_selector("#run-progress[data-status=succeeded]", timeout=90_000)

    assert page.url == run_url  # no reload, no navigation: the panel updated itself
    assert page.inner_text("#run-status") == "Succeeded"
    assert page.inner_text("#run-read") == "150"
    assert page.inner_text("#run-pages") != "0"

    rooms_fake.api_key = "rotated-upstream"  # every call now answers 401
    _sync_now(page, live_server, connection)
    page.wait_for_selector("#run-progress[data-status=failed]", timeout=90_000)

    assert page.inner_text("#run-status") == "Failed"
    assert "HTTP 401" in page.inner_text("#run-errors")
