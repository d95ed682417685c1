"""GET /api/v1/events/sessions: period windows in each session's own timezone, analytics."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.events.factories import (
    EventFactory,
    OperatorFactory,
    RegistrantFactory,
    SessionFactory,
    SessionOperatorFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/sessions"
NOW = "2026-05-05T12:00:00Z"


@pytest.fixture
def around_noon(cast):
    """Four sessions of workspace A; at 12:00Z on 5 May 2026 they are, in their own zones:"""
    ws = cast.workspace
    return {
        # 14:10 CEST = 12:10Z, doors at 11:55Z: open.
        "berlin": SessionFactory(
            workspace=ws, date=dt.date(2026, 5, 5), time=dt.time(14, 10), timezone="Europe/Berlin"
        ),
        # 08:20 EDT = 12:20Z, doors at 12:05Z: not yet.
        "new_york": SessionFactory(
            workspace=ws,
            date=dt.date(2026, 5, 5),
            time=dt.time(8, 20),
            timezone="America/New_York",
        ),
        # 16:00 IST = 10:30Z, 1.5 h: ended at exactly 12:00Z.
        "kolkata": SessionFactory(
            workspace=ws,
            date=dt.date(2026, 5, 5),
            time=dt.time(16, 0),
            timezone="Asia/Kolkata",
            duration=Decimal("1.5"),
        ),
        # 20:45 JST = 11:45Z, until 12:45Z: open.
        "tokyo": SessionFactory(
            workspace=ws, date=dt.date(2026, 5, 5), time=dt.time(20, 45), timezone="Asia/Tokyo"
        ),
    }


def tokens(response):
    return {item["token"] for item in response.json()}


@pytest.mark.parametrize("name", ["period", "periodName"])
@time_machine.travel(NOW, tick=False)
def test_period_windows_follow_each_session_timezone(cast, around_noon, name):
    client = cast.owner.client("api-secret")
    s = around_noon

    current = client.get(URL, {name: "current"})
    assert current.status_code == 200
    assert tokens(current) == {s["berlin"].token, s["tokyo"].token}
    assert tokens(client.get(URL, {name: "future"})) == {s["new_york"].token}
    assert tokens(client.get(URL, {name: "past"})) == {s["kolkata"].token}


@time_machine.travel(NOW, tick=False)
def test_no_period_lists_all_in_start_order(cast, around_noon):
    s = around_noon
    body = cast.owner.client().get(URL).json()
    # Starts: Kolkata 10:30Z, Tokyo 11:45Z, Berlin 12:10Z, New York 12:20Z.
    assert [item["token"] for item in body] == [
        s["kolkata"].token,
        s["tokyo"].token,
        s["berlin"].token,
        s["new_york"].token,
    ]
    assert [item["accessStatus"] for item in body] == [3, 2, 2, 1]


@pytest.mark.parametrize(
    ("now", "period"),
    [
        ("2026-03-29T00:14:59Z", "future"),  # doors open at 00:15Z (01:15 CET)
        ("2026-03-29T00:15:00Z", "current"),
        ("2026-03-29T02:15:00Z", "current"),  # 04:15 CEST on the wall, 1 h 45 in
        ("2026-03-29T02:29:59Z", "current"),
        ("2026-03-29T02:30:00Z", "past"),  # two elapsed hours after 01:30 CET
    ],
)
def test_a_session_spanning_the_spring_forward_change(cast, now, period):
    session = SessionFactory(
        workspace=cast.workspace,
        date=dt.date(2026, 3, 29),
        time=dt.time(1, 30),
        timezone="Europe/Berlin",
        duration=Decimal(2),
    )
    with time_machine.travel(now, tick=False):
        assert tokens(cast.owner.client().get(URL, {"period": period})) == {session.token}


def test_session_object_has_every_spec_field(cast):
    creator = OperatorFactory(
        workspace=cast.workspace, email="cleo@acme.example", first_name="Cleo", last_name="C"
    )
    event = EventFactory(
        workspace=cast.workspace, creator=creator, title="Pipeline 101", description="Why."
    )
    session = SessionFactory(
        event=event,
        date=dt.date(2026, 5, 5),
        time=dt.time(16, 30),
        timezone="Europe/Berlin",
        duration=Decimal("1.5"),
        early_access_period=10,
        ref_sources=["linkedin", "newsletter"],
        questions=["Company size?"],
        redirect_url="https://acme.example/thanks",
        privatize_chat=2,
        email_message="See you!",
        has_qna=True,
    )
    presenter = SessionOperatorFactory(
        session=session, operator=creator, role=10, screen_sharing_enabled=True
    )

    with time_machine.travel("2026-05-05T08:00:00Z", tick=False):
        [item] = cast.owner.client().get(URL).json()

    assert item == {
        "title": "Pipeline 101",
        "description": "Why.",
        "time": "16:30:00",
        "published": True,
        "eventToken": event.token,
        "timezone": "Europe/Berlin",
        "duration": 1.5,
        "earlyAccessPeriod": 10,
        "creator": {
            "id": creator.id,
            "email": "cleo@acme.example",
            "firstName": "Cleo",
            "lastName": "C",
            "permission": 0,
        },
        "token": session.token,
        "date": "2026-05-05",
        "createDate": event.created_at.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{event.created_at.microsecond // 1000:03d}Z",
        "refSources": ["linkedin", "newsletter"],
        "operators": [
            {
                "id": creator.id,
                "email": "cleo@acme.example",
                "firstName": "Cleo",
                "lastName": "C",
                "permission": 0,
                "role": 10,
                "micEnabled": True,
                "camEnabled": True,
                "screenSharingEnabled": True,
            }
        ],
        "accessStatus": 1,
        "videoRecord": False,
        "onDemandReplays": False,
        "privatizeChat": 2,
        "emailMessage": "See you!",
        "hasQnA": True,
        "useAdvancedQna": False,
        "redirectUrl": "https://acme.example/thanks",
        "qnaPublicByDefault": False,
        "reminderOne": 24,
        "reminderTwo": 1,
        "hasRecording": False,
        "questions": ["Company size?"],
    }
    assert presenter.pk


def test_simple_analytics_counts_registrants_and_attendees(cast):
    three = SessionFactory(workspace=cast.workspace, time=dt.time(9, 0))
    RegistrantFactory.create_batch(2, session=three, attended=True)
    RegistrantFactory(session=three, attended=False)
    four = SessionFactory(workspace=cast.workspace, time=dt.time(10, 0))
    RegistrantFactory(session=four, attended=True)
    RegistrantFactory.create_batch(3, session=four, attended=False)
    empty = SessionFactory(workspace=cast.workspace, time=dt.time(11, 0))

    body = cast.owner.client().get(URL, {"simple_analytics": "1"}).json()

    analytics = {item["token"]: item["analytics"] for item in body}
    assert analytics == {
        three.token: {"registrants": 3, "attendees": 2, "attendanceRate": 66.67},
        four.token: {"registrants": 4, "attendees": 1, "attendanceRate": 25.0},
        empty.token: {"registrants": 0, "attendees": 0, "attendanceRate": 0.0},
    }


@pytest.mark.parametrize("value", [None, "0"])
def test_without_simple_analytics_there_is_no_analytics_key(cast, session_a, value):
    params = {} if value is None else {"simple_analytics": value}
    [item] = cast.owner.client().get(URL, params).json()
    assert "analytics" not in item


def test_analytics_with_period_filter(cast, around_noon):
    RegistrantFactory(session=around_noon["berlin"], attended=True)
    with time_machine.travel(NOW, tick=False):
        body = cast.owner.client().get(URL, {"period": "current", "simple_analytics": "1"}).json()
    assert {item["token"]: item["analytics"]["registrants"] for item in body} == {
        around_noon["berlin"].token: 1,
        around_noon["tokyo"].token: 0,
    }


def _count_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_sessions(cast):
    client = cast.owner.client()
    params = {"simple_analytics": "1", "period": "past"}
    first = SessionFactory(workspace=cast.workspace, date=dt.date(2026, 1, 1))
    SessionOperatorFactory(session=first)
    RegistrantFactory(session=first)
    client.get("/api/whoami")  # the key's last-use time is written at most once a minute
    one = _count_queries(client, params)

    for day in range(2, 12):
        session = SessionFactory(workspace=cast.workspace, date=dt.date(2026, 1, day))
        SessionOperatorFactory.create_batch(2, session=session)
        RegistrantFactory.create_batch(3, session=session, attended=True)
    many = _count_queries(client, params)

    assert many == one
    assert many <= 8  # key lookup, savepoints, sessions with analytics, operators


def test_list_query_count_with_django_assert(cast, django_assert_max_num_queries):
    for day in range(1, 21):
        session = SessionFactory(workspace=cast.workspace, date=dt.date(2026, 1, day))
        SessionOperatorFactory(session=session)
        RegistrantFactory(session=session)
    client = cast.owner.client()
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, {"simple_analytics": "1"}).json()) == 20


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "yesterday"}, "period"),
        ({"periodName": "soon"}, "periodName"),
        ({"period": "past", "periodName": "future"}, "periodName"),
        ({"simple_analytics": "yes"}, "simple_analytics"),
        ({"simple_analytics": "2"}, "simple_analytics"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(cast, params, field):
    response = cast.owner.client().get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_same_period_in_both_names_is_fine(cast, session_a):
    with time_machine.travel("2026-05-05T14:30:00Z", tick=False):
        response = cast.owner.client().get(URL, {"period": "current", "periodName": "current"})
    assert tokens(response) == {session_a.token}


@pytest.mark.parametrize("actor", ["owner", "member"])
@pytest.mark.parametrize("header", ["api-secret", "x-flowla-api-key", "Authorization"])
def test_workspace_members_see_their_sessions_only(cast, session_a, session_b, actor, header):
    response = getattr(cast, actor).client(header).get(URL)
    assert response.status_code == 200
    assert tokens(response) == {session_a.token}


def test_outsider_sees_only_their_workspace(cast, session_a, session_b):
    assert tokens(cast.outsider.client().get(URL)) == {session_b.token}


def test_session_login_works(cast, session_a):
    assert tokens(cast.member.session_client().get(URL)) == {session_a.token}


def test_anonymous_is_401(anonymous, session_a):
    response = anonymous.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_drafts_are_listed_for_the_workspace(cast):
    draft = SessionFactory(workspace=cast.workspace, published=False)
    [item] = cast.owner.client().get(URL).json()
    assert item["token"] == draft.token
    assert item["published"] is False
