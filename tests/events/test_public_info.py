"""GET /api/v1/events/sessions/public/{sessionToken}: public event info, accessStatus."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from tests.events.factories import OperatorFactory, SessionFactory, SessionOperatorFactory

pytestmark = pytest.mark.django_db


def url(session_or_token):
    token = getattr(session_or_token, "token", session_or_token)
    return f"/api/v1/events/sessions/public/{token}"


@pytest.fixture
def tokyo_session(cast):
    """20:00 JST on 5 May 2026 (11:00Z), 2 hours, doors open 30 minutes early (10:30Z)."""
    return SessionFactory(
        workspace=cast.workspace,
        date=dt.date(2026, 5, 5),
        time=dt.time(20, 0),
        timezone="Asia/Tokyo",
        duration=Decimal(2),
        early_access_period=30,
    )


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ("2026-05-05T10:29:59.999Z", 1),
        ("2026-05-05T10:30:00Z", 2),
        ("2026-05-05T11:00:00Z", 2),
        ("2026-05-05T12:59:59.999Z", 2),
        ("2026-05-05T13:00:00Z", 3),
        ("2026-06-01T00:00:00Z", 3),
    ],
)
def test_access_status_at_each_boundary(anonymous, tokyo_session, now, status):
    with time_machine.travel(now, tick=False):
        response = anonymous.get(url(tokyo_session))
    assert response.status_code == 200
    assert response.json()["accessStatus"] == status


def test_anonymous_gets_the_event_info(anonymous, cast):
    creator = OperatorFactory(workspace=cast.workspace, first_name="Cleo", permission=10)
    session = SessionFactory(workspace=cast.workspace, event__creator=creator)
    SessionOperatorFactory(session=session, operator=creator, role=10)
    SessionOperatorFactory(session=session, role=5, mic_enabled=False)

    body = anonymous.get(url(session)).json()

    assert body["token"] == session.token
    assert body["eventToken"] == session.event.token
    assert body["creator"]["firstName"] == "Cleo"
    assert body["creator"]["permission"] == 10
    assert [(op["role"], op["micEnabled"]) for op in body["operators"]] == [(10, True), (5, False)]
    assert body["date"] == "2026-05-05"
    assert body["time"] == "14:00:00"
    assert body["timezone"] == "UTC"


def test_unknown_token_is_404(anonymous, db):
    response = anonymous.get(url("no-such-token"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_draft_is_404_for_the_public(anonymous, cast):
    draft = SessionFactory(workspace=cast.workspace, published=False)
    assert anonymous.get(url(draft)).status_code == 404


def test_a_draft_is_visible_with_its_workspace_key(cast):
    draft = SessionFactory(workspace=cast.workspace, published=False)
    response = cast.member.client("api-secret").get(url(draft))
    assert response.status_code == 200
    assert response.json()["published"] is False


def test_a_draft_is_404_with_another_workspace_key(cast):
    draft = SessionFactory(workspace=cast.workspace, published=False)
    assert cast.outsider.client("api-secret").get(url(draft)).status_code == 404


def test_another_workspace_key_still_sees_published_sessions(cast, session_a):
    # The info is public: a key adds drafts, it never hides published sessions.
    assert cast.outsider.client().get(url(session_a)).status_code == 200


def test_a_bad_key_is_401(anonymous, session_a):
    anonymous.credentials(HTTP_API_SECRET="fs_nope_nope")
    assert anonymous.get(url(session_a)).status_code == 401


def test_public_info_is_throttled_per_client_address(anonymous, session_a, settings):
    settings.PUBLIC_THROTTLE_RATE = "3/min"
    statuses = [anonymous.get(url(session_a)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other_address = anonymous.get(url(session_a), REMOTE_ADDR="10.9.8.7")
    assert other_address.status_code == 200
