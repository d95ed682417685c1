"""Setting a connection up from its admin page alone: the provider first, one write-only field
per secret, the base URL prefilled, "never run" until tested, a test on save and a Test
connection button whose messages are flowsync's own words, schedules edited in place."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django_celery_beat.models import PeriodicTask

from syncing.models import Connection
from syncing.schedules import schedule_every_minutes
from syncing.services import connection_create
from tests.syncing.conftest import ADMIN_API_KEY, admin_edit_connection
from tests.syncing.fakes.attio import API_KEY as ATTIO_KEY
from tests.syncing.fakes.attio import FakeAttio
from tests.syncing.fakes.hubspot import CLIENT_ID as HUBSPOT_CLIENT_ID
from tests.syncing.fakes.hubspot import CLIENT_SECRET as HUBSPOT_CLIENT_SECRET
from tests.syncing.fakes.hubspot import REFRESH_TOKEN as HUBSPOT_REFRESH_TOKEN
from tests.syncing.fakes.hubspot import FakeHubSpot
from tests.syncing.fakes.salesforce import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeSalesforce,
)

pytestmark = pytest.mark.django_db

ADD = "/admin/syncing/connection/add/"


@pytest.fixture
def owner_client(client, staff):
    client.force_login(staff.owner.user)
    return client


@pytest.fixture
def attio_fake():
    fake = FakeAttio().start()
    yield fake
    fake.stop()


def change_page(client, connection) -> str:
    return client.get(f"/admin/syncing/connection/{connection.pk}/change/").content.decode()


def test_adding_starts_by_choosing_the_provider(owner_client):
    page = owner_client.get(ADD).content.decode()

    for provider in Connection.Provider.values:
        assert f'href="?provider={provider}"' in page


def test_a_member_cannot_add_a_connection(client, staff):
    client.force_login(staff.member.user)

    assert client.get(ADD).status_code == 403


@pytest.mark.parametrize(
    ("provider", "origin", "labels"),
    [
        (
            "hubspot",
            "https://api.hubapi.com",
            [
                "Private app access token",
                "App client id",
                "App client secret",
                "OAuth refresh token",
            ],
        ),
        ("salesforce", "https://login.salesforce.com", ["Login host", "Consumer key"]),
        ("attio", "https://api.attio.com", ["Access token", "Webhook secret"]),
        ("rooms_platform", "https://api.flowla.com", ["API key"]),
    ],
)
def test_the_form_asks_for_each_secret_of_the_provider_and_prefills_its_origin(
    owner_client, provider, origin, labels
):
    page = owner_client.get(f"{ADD}?provider={provider}").content.decode()

    assert f'value="{origin}"' in page
    for label in labels:
        assert label in page
    assert "Other credentials" not in page
    assert 'type="password"' in page


def test_a_webinar_connection_has_no_prefilled_origin(owner_client):
    page = owner_client.get(f"{ADD}?provider=webinar_platform").content.decode()

    assert 'name="base_url" value=' not in page


def test_attio_secrets_are_entered_once_each_kept_encrypted_and_never_shown(
    owner_client, staff, attio_fake
):
    owner_client.post(
        f"{ADD}?provider=attio",
        {
            "workspace": staff.workspace.pk,
            "provider": "attio",
            "name": "Attio",
            "base_url": attio_fake.url,
            "api_key": ATTIO_KEY,
            "webhook_secret": "whsec-attio-1",
            "enabled": "on",
            "options": '{"requests_per_second": 100, "burst": 100}',
        },
    )
    connection = Connection.objects.get(name="Attio")
    assert connection.credentials == {"api_key": ATTIO_KEY, "webhook_secret": "whsec-attio-1"}

    admin_edit_connection(owner_client, connection, webhook_secret="whsec-attio-2")

    connection.refresh_from_db()
    assert connection.credentials == {"api_key": ATTIO_KEY, "webhook_secret": "whsec-attio-2"}
    page = change_page(owner_client, connection)
    assert "stored (encrypted): api_key, webhook_secret" in page
    for secret in (ATTIO_KEY, "whsec-attio-1", "whsec-attio-2"):
        assert secret not in page
    assert page.count("Stored (encrypted); leave blank to keep it.") == 2


def test_a_new_connection_is_never_run_until_tested_and_saving_tests_it(
    owner_client, staff, rooms_fake
):
    rooms_fake.api_key = ADMIN_API_KEY
    response = owner_client.post(
        ADD,
        {
            "workspace": staff.workspace.pk,
            "provider": "rooms_platform",
            "name": "Flowla",
            "base_url": rooms_fake.url,
            "api_key": "a-mistyped-key",
            "enabled": "on",
            "options": "{}",
            "schedule_rooms_every": "15",
            "schedule_rooms_on": "on",
        },
        follow=True,
    )

    connection = Connection.objects.get(name="Flowla")
    assert (
        "Test of Flowla: Rooms platform (Flowla API v2) refused the credentials; "
        "enter them again: HTTP 401" in response.content.decode()
    )
    assert connection.status == Connection.Status.NEEDS_REAUTH

    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.NEVER_RUN)
    assert "Never run" in owner_client.get("/admin/syncing/connection/").content.decode()

    page = admin_edit_connection(owner_client, connection, api_key=ADMIN_API_KEY)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.OK
    assert page.status_code == 302


def test_the_test_button_reports_success_and_failure_in_its_own_words(
    owner_client, connection, rooms_fake
):
    test_url = f"/admin/syncing/connection/{connection.pk}/test/"

    ok = owner_client.post(test_url, follow=True).content.decode()
    assert "Test of Acme Flowla: 2 room statuses readable" in ok
    assert 'id="connection-status">OK<' in ok

    rooms_fake.inject("503", path="/api/v2/statuses", times=20)  # beyond the call's retries
    failed = owner_client.post(test_url, follow=True).content.decode()
    assert (
        "Rooms platform (Flowla API v2) is unavailable right now; try again later: HTTP 503"
        in failed
    )
    assert "Failing" in failed
    # The fake's error body ({"message": "Upstream trouble"}) never reaches the page.
    assert "Upstream trouble" not in failed


def test_a_member_cannot_test_a_connection(client, staff, connection, rooms_fake):
    client.force_login(staff.member.user)

    response = client.post(f"/admin/syncing/connection/{connection.pk}/test/")

    assert response.status_code == 403
    assert rooms_fake.requests == []


def test_each_schedule_is_edited_as_every_n_minutes_and_on_off(owner_client, connection):
    admin_edit_connection(owner_client, connection, schedule_rooms_every="5", schedule_rooms_on="")

    task = PeriodicTask.objects.get(name=f"sync:{connection.pk}:rooms")
    assert (schedule_every_minutes(task), task.enabled) == (5, False)
    page = change_page(owner_client, connection)
    assert 'name="schedule_rooms_every" value="5"' in page

    admin_edit_connection(owner_client, connection, schedule_rooms_every="0")
    task.refresh_from_db()
    assert schedule_every_minutes(task) == 5  # refused: at least one minute


def test_salesforce_shows_the_login_host_and_the_instance_learned_from_the_token(
    owner_client, staff
):
    fake = FakeSalesforce().start()
    try:
        response = owner_client.post(
            f"{ADD}?provider=salesforce",
            {
                "workspace": staff.workspace.pk,
                "provider": "salesforce",
                "name": "Salesforce",
                "base_url": fake.url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": REFRESH_TOKEN,
                "enabled": "on",
                "options": "{}",
            },
            follow=True,
        )
    finally:
        fake.stop()

    connection = Connection.objects.get(name="Salesforce")
    assert "Test of Salesforce: Opportunity readable" in response.content.decode()
    page = change_page(owner_client, connection)
    assert "Instance URL (learned from the token)" in page
    assert connection.credentials["instance_url"] in page
    # Both schedules of the deals stream are on the page, the daily one included.
    assert 'name="schedule_deals_full_refresh_every" value="1440"' in page
    assert CLIENT_SECRET not in page
    assert REFRESH_TOKEN not in page


# --- the CRM's own lists: stages and write-back fields ----------------------------------------


@pytest.fixture
def hubspot_fake():
    fake = FakeHubSpot().start()
    yield fake
    fake.stop()


def crm_connection(workspace, provider: str, fake, **credentials) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=provider,
        name=f"Acme {provider}",
        base_url=fake.url,
        credentials=credentials,
        options={"requests_per_second": 100, "burst": 100},
    )


def test_hubspot_test_reads_stages_and_missing_properties_and_create_fields_adds_them(
    owner_client, staff, hubspot_fake
):
    hubspot_fake.properties -= {"flowsync_total_views", "flowsync_last_engaged_at"}
    connection = crm_connection(
        staff.workspace, "hubspot", hubspot_fake, access_token=hubspot_fake.api_key
    )

    tested = owner_client.post(f"/admin/syncing/connection/{connection.pk}/test/", follow=True)

    page = tested.content.decode()
    assert "4 stages in 1 pipeline; write-back fields missing: flowsync_total_views, " in page
    assert 'id="create-fields"' in page
    rule_form = owner_client.get("/admin/syncing/dealroomrule/add/").content.decode()
    assert f'value="{connection.pk}:contractsent"' in rule_form
    assert "Sales Pipeline: Contract Sent" in rule_form

    created = owner_client.post(
        f"/admin/syncing/connection/{connection.pk}/create-fields/", follow=True
    ).content.decode()

    assert "all 6 write-back fields exist" in created
    assert {(p["name"], p["type"], p["fieldType"]) for p in hubspot_fake.properties_created} == {
        ("flowsync_total_views", "number", "number"),
        ("flowsync_last_engaged_at", "datetime", "date"),
    }
    connection.refresh_from_db()
    assert connection.crm_catalog["missingFields"] == {}


def test_attio_create_fields_adds_the_missing_attributes(owner_client, staff, attio_fake):
    attio_fake.attributes.discard("flowsync_room_url")
    connection = crm_connection(staff.workspace, "attio", attio_fake, api_key=ATTIO_KEY)
    owner_client.post(f"/admin/syncing/connection/{connection.pk}/test/")

    owner_client.post(f"/admin/syncing/connection/{connection.pk}/create-fields/")

    [created] = attio_fake.attributes_created
    assert (created["api_slug"], created["type"]) == ("flowsync_room_url", "text")
    connection.refresh_from_db()
    assert connection.crm_catalog["missingFields"] == {}
    stages = [stage["id"] for stage in connection.crm_catalog["stages"]]
    assert stages == attio_fake.stages


def test_salesforce_missing_fields_come_with_set_up_instructions(owner_client, staff):
    fake = FakeSalesforce().start()
    try:
        fake.custom_fields.discard("Room_Total_Views__c")
        connection = crm_connection(
            staff.workspace,
            "salesforce",
            fake,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            refresh_token=REFRESH_TOKEN,
        )
        page = owner_client.post(
            f"/admin/syncing/connection/{connection.pk}/test/", follow=True
        ).content.decode()
    finally:
        fake.stop()

    assert "write-back fields missing: Room_Total_Views__c" in page
    assert "Object Manager → Opportunity → Fields &amp; Relationships → New" in page
    assert "<code>Room_Total_Views__c</code> (Field Name <code>Room_Total_Views</code>)" in page
    assert 'id="create-fields"' not in page
    connection.refresh_from_db()
    assert [s["id"] for s in connection.crm_catalog["stages"]] == fake.stages


# --- Connect with HubSpot / Salesforce: the authorization-code flow -------------------------


def consent(owner_client, connection) -> str:
    """Press the Connect button; the URL of the CRM's consent page."""
    response = owner_client.post(f"/admin/syncing/connection/{connection.pk}/oauth/")
    assert response.status_code == 302
    return response["Location"]


def authorize(url: str) -> str:
    """The fake authorization server approves at once: the callback path and query."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


@pytest.fixture
def hubspot_app(staff, hubspot_fake, settings) -> Connection:
    settings.SYNC_OAUTH_HUBSPOT_AUTHORIZE_URL = f"{hubspot_fake.url}/oauth/authorize"
    return crm_connection(
        staff.workspace,
        "hubspot",
        hubspot_fake,
        client_id=HUBSPOT_CLIENT_ID,
        client_secret=HUBSPOT_CLIENT_SECRET,
    )


def test_connect_with_hubspot_stores_the_granted_tokens_and_tests_them(
    owner_client, hubspot_app, hubspot_fake, settings
):
    url = consent(owner_client, hubspot_app)

    query = parse_qs(urlsplit(url).query)
    assert url.startswith(settings.SYNC_OAUTH_HUBSPOT_AUTHORIZE_URL + "?")
    assert query["client_id"] == [HUBSPOT_CLIENT_ID]
    assert query["redirect_uri"] == [
        f"{settings.PUBLIC_BASE_URL}/admin/syncing/connection/oauth/callback/"
    ]
    callback = authorize(url)
    page = owner_client.get(callback, follow=True)

    assert page.redirect_chain[-1][0] == f"/admin/syncing/connection/{hubspot_app.pk}/change/"
    text = page.content.decode()
    assert "Acme hubspot is connected." in text
    assert "Test of Acme hubspot: 0 deals readable" in text
    hubspot_app.refresh_from_db()
    assert hubspot_app.status == Connection.Status.OK
    credentials = hubspot_app.credentials
    assert credentials["refresh_token"] == HUBSPOT_REFRESH_TOKEN
    assert credentials["access_token"] in hubspot_fake.valid_tokens
    for secret in (HUBSPOT_REFRESH_TOKEN, credentials["access_token"], HUBSPOT_CLIENT_SECRET):
        assert secret not in text
        assert secret not in hubspot_app.credentials_encrypted

    # The state is good once: the same callback again changes nothing.
    again = owner_client.get(callback, follow=True).content.decode()
    assert "could not be matched to this session" in again


def test_a_callback_with_a_state_of_another_session_is_refused(owner_client, staff, hubspot_app):
    callback = authorize(consent(owner_client, hubspot_app))
    other = Client()  # the same person in another browser: another session
    other.force_login(staff.owner.user)

    page = other.get(callback, follow=True).content.decode()

    assert "could not be matched to this session" in page
    hubspot_app.refresh_from_db()
    assert "refresh_token" not in hubspot_app.credentials


def test_consent_refused_at_hubspot_changes_nothing(owner_client, hubspot_app, hubspot_fake):
    hubspot_fake.authorization.denied = True

    page = owner_client.get(authorize(consent(owner_client, hubspot_app)), follow=True)

    assert "HubSpot did not grant access; nothing changed." in page.content.decode()
    hubspot_app.refresh_from_db()
    assert "refresh_token" not in hubspot_app.credentials


def test_connect_needs_the_app_client_id_and_secret_first(owner_client, staff, hubspot_fake):
    connection = crm_connection(
        staff.workspace, "hubspot", hubspot_fake, access_token=hubspot_fake.api_key
    )

    page = owner_client.post(
        f"/admin/syncing/connection/{connection.pk}/oauth/", follow=True
    ).content.decode()

    assert "Save the app&#x27;s client_id and client_secret first." in page


def test_connect_with_salesforce_learns_the_instance_from_the_login_host(owner_client, staff):
    fake = FakeSalesforce().start()
    try:
        connection = crm_connection(
            staff.workspace,
            "salesforce",
            fake,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
        url = consent(owner_client, connection)
        assert url.startswith(f"{fake.url}/services/oauth2/authorize?")
        page = owner_client.get(authorize(url), follow=True).content.decode()
    finally:
        fake.stop()

    assert "Test of Acme salesforce: Opportunity readable" in page
    connection.refresh_from_db()
    assert connection.credentials["refresh_token"] in fake.refresh_tokens
    assert connection.credentials["instance_url"] == fake.url
    assert connection.credentials["refresh_token"] not in page


def test_the_page_gives_the_urls_to_register_in_the_crm(owner_client, staff, settings):
    hubspot = connection_create(
        workspace=staff.workspace,
        provider="hubspot",
        name="HubSpot",
        base_url="http://127.0.0.1:9",
        credentials={"client_id": "id"},
    )

    page = change_page(owner_client, hubspot)

    base = settings.PUBLIC_BASE_URL
    assert f"<code>{base}/admin/syncing/connection/oauth/callback/</code>" in page
    assert f"<code>{base}/webhooks/crm/hubspot/{hubspot.pk}</code>" in page
