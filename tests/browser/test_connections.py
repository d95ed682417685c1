"""A connection's page in the browser: Test connection's success and failure messages, and the
Connect with HubSpot round trip through a fake authorization server on loopback."""

from __future__ import annotations

import pytest

from syncing.models import Connection
from syncing.services import connection_create
from tests.browser.conftest import log_in
from tests.syncing.fakes.hubspot import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeHubSpot
from tests.syncing.fakes.rooms_platform import FakeRoomsPlatform


@pytest.fixture
def rooms_fake():
    fake = FakeRoomsPlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def hubspot_fake():
    fake = FakeHubSpot().start()
    yield fake
    fake.stop()


def open_connection(page, live_server, connection: Connection) -> None:
    page.goto(f"{live_server.url}/admin/syncing/connection/{connection.pk}/change/")


def test_test_connection_says_what_works_and_what_does_not(page, live_server, cast, rooms_fake):
    connection = connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
    )
    log_in(page, live_server, cast.owner.user)
    open_connection(page, live_server, connection)
    assert page.locator("#connection-status").inner_text() == "Never run"

    page.click("#test-connection")
    page.wait_for_selector("text=Test of Flowla: 2 room statuses readable")
    assert page.locator("#connection-status").inner_text() == "OK"

    rooms_fake.api_key = "revoked-upstream"
    page.click("#test-connection")
    page.wait_for_selector("text=refused the credentials; enter them again: HTTP 401")
    assert page.locator("#connection-status").inner_text() == "Needs re-authentication"


def test_connect_with_hubspot_round_trip(page, live_server, cast, hubspot_fake, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SYNC_OAUTH_HUBSPOT_AUTHORIZE_URL = f"{hubspot_fake.url}/oauth/authorize"
    connection = connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.HUBSPOT,
        name="HubSpot",
        base_url=hubspot_fake.url,
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    log_in(page, live_server, cast.owner.user)
    open_connection(page, live_server, connection)

    page.click("#oauth-connect")

    page.wait_for_selector("text=HubSpot is connected.")
    assert page.url == f"{live_server.url}/admin/syncing/connection/{connection.pk}/change/"
    assert page.locator("text=Test of HubSpot: 0 deals readable").count() == 1
    assert len(hubspot_fake.authorization.authorize_requests) == 1
    connection.refresh_from_db()
    assert connection.credentials["refresh_token"] == REFRESH_TOKEN
    assert REFRESH_TOKEN not in page.content()
