"""GET /join/{token}: the page a personal login link opens."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import signing

from events.login_links import LOGIN_LINK_SALT, login_link, login_token
from tests.events.factories import RegistrantFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registrant(cast):
    """Ada, registered for a session at 09:00 in New York on 10 June 2026 (13:00Z, EDT),
    two hours, doors open 15 minutes early."""
    session = SessionFactory(
        workspace=cast.workspace,
        event__title="Quarter close <live>",
        date=dt.date(2026, 6, 10),
        time=dt.time(9, 0),
        timezone="America/New_York",
        duration=Decimal(2),
    )
    return RegistrantFactory(session=session, first_name="Ada")


def join_path(token):
    return f"/join/{token}"


@pytest.mark.parametrize(
    ("now", "status", "state"),
    [
        ("2026-06-10T12:44:59Z", 1, "Not open yet"),
        ("2026-06-10T12:45:00Z", 2, "Open now"),
        ("2026-06-10T14:59:59Z", 2, "Open now"),
        ("2026-06-10T15:00:00Z", 3, "Ended"),
    ],
)
def test_a_valid_link_shows_title_local_time_and_access_state(
    client, registrant, now, status, state
):
    with time_machine.travel("2026-06-01T00:00:00Z", tick=False):
        token = login_token(registrant)
    with time_machine.travel(now, tick=False):
        response = client.get(join_path(token))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Quarter close &lt;live&gt;" in page  # escaped
    assert "Wednesday 10 June 2026, 09:00" in page  # New York wall clock, not UTC
    assert "America/New_York, EDT" in page
    assert f'data-access-status="{status}">{state}<' in page
    assert "Welcome, Ada." in page


def test_too_early_page_says_when_doors_open(client, registrant):
    with time_machine.travel("2026-06-09T00:00:00Z", tick=False):
        page = client.get(join_path(login_token(registrant))).content.decode()
    assert "Doors open at 08:45." in page


def test_ended_session_with_replays_says_so(client, cast):
    session = SessionFactory(workspace=cast.workspace, on_demand_replays=True)
    token = login_token(RegistrantFactory(session=session))
    with time_machine.travel("2026-05-06T00:00:00Z", tick=False):
        page = client.get(join_path(token)).content.decode()
    assert "replay is available on demand" in page


def test_the_login_link_is_absolute_with_the_public_base_url(registrant, settings):
    settings.PUBLIC_BASE_URL = "https://events.acme.example"
    link = login_link(registrant)
    assert link.startswith("https://events.acme.example/join/")


def test_an_expired_link_is_410_with_a_clear_page(client, registrant):
    with time_machine.travel("2026-05-01T00:00:00Z", tick=False):
        token = login_token(registrant)
    with time_machine.travel("2026-05-31T00:00:01Z", tick=False):  # 30 days and 1 second
        response = client.get(join_path(token))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "Quarter close" not in response.content.decode()


def test_a_link_just_inside_thirty_days_works(client, registrant):
    with time_machine.travel("2026-05-01T00:00:00Z", tick=False):
        token = login_token(registrant)
    with time_machine.travel("2026-05-30T23:59:59Z", tick=False):
        assert client.get(join_path(token)).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: "x" + token,
        lambda token: token.split(":")[0],  # signature dropped
        lambda token: "garbage",
    ],
)
def test_a_tampered_link_is_400_with_a_clear_page(client, registrant, tamper):
    response = client.get(join_path(tamper(login_token(registrant))))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_a_token_for_another_session_is_rejected(client, cast, registrant):
    other_session = SessionFactory(workspace=cast.workspace)
    forged = signing.dumps(
        {"registrant": registrant.pk, "session": other_session.token}, salt=LOGIN_LINK_SALT
    )
    response = client.get(join_path(forged))
    assert response.status_code == 400


def test_a_token_signed_for_another_purpose_is_rejected(client, registrant):
    other_purpose = signing.dumps(
        {"registrant": registrant.pk, "session": registrant.session.token}, salt="elsewhere"
    )
    assert client.get(join_path(other_purpose)).status_code == 400


def test_a_deleted_registrant_link_is_rejected(client, registrant):
    token = login_token(registrant)
    registrant.delete()
    assert client.get(join_path(token)).status_code == 400


def test_an_unpublished_session_is_404(client, registrant):
    token = login_token(registrant)
    registrant.session.published = False
    registrant.session.save()
    response = client.get(join_path(token))
    assert response.status_code == 404
    assert "not available" in response.content.decode()


def test_each_registrant_gets_its_own_token(registrant):
    other = RegistrantFactory(session=registrant.session)
    assert login_token(registrant) != login_token(other)


def test_post_is_not_allowed(client, registrant):
    assert client.post(join_path(login_token(registrant))).status_code == 405
