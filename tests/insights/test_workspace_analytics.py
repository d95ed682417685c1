"""GET /api/workspaces/{workspace_id}/analytics on a hand-built workspace, at a frozen now of
2026-03-25 15:00 UTC: the 30-day window is [2026-02-24 00:00Z, 2026-03-26 00:00Z)."""

import uuid

import pytest

from insights.models import BookingPage
from tests.factories import MembershipFactory
from tests.insights.factories import (
    BookingPageFactory,
    ContactEventFactory,
    RecordingFactory,
    utc,
)
from tests.rooms.factories import ContactFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to("2026-03-25T15:00:00Z", tick=False)


def url(workspace) -> str:
    return f"/api/workspaces/{workspace.pk}/analytics"


def room_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


@pytest.fixture
def dashboard(cast):
    ws = cast.workspace
    r1 = RoomFactory(workspace=ws, id=room_id(1), title="Team Standup", slug="team-standup")
    r2 = RoomFactory(workspace=ws, id=room_id(9), title="Product Demo", slug="product-demo")
    r3 = RoomFactory(workspace=ws, id=room_id(3), title="Quiet Room", slug="quiet-room")
    RoomFactory(workspace=ws, id=room_id(4), title="Template", slug="template", is_template=True)
    for room, seconds in [(r1, 3600), (r1, 1800), (r2, 600)]:
        RecordingFactory(room=room, duration_seconds=seconds)
    # Demo is created first, so it has the lower id.
    demo = BookingPageFactory(workspace=ws, title="Demo Session", slug="demo")
    intro = BookingPageFactory(workspace=ws, title="30-min Intro Call", slug="intro-call")
    BookingPageFactory(workspace=ws, title="Unused", slug="unused")
    c1, c2, c3, c4, c5 = (
        ContactFactory(workspace=ws, created_at=utc(at))
        for at in [
            "2026-01-10T00:00",
            "2026-02-24T00:00",  # first instant of the window
            "2026-02-23T23:59:59",  # 30 days old: out
            "2026-03-25T08:00",  # today
            "2026-03-25T20:00",  # today, later than now
        ]
    )
    for event_type, contact, room, page, at in [
        ("room_join", c1, r1, None, "2026-02-24T00:00"),
        ("room_join", c1, r1, None, "2026-02-23T23:59:59"),
        ("booking", c2, None, intro, "2026-02-24T10:00"),
        ("room_join", c2, r2, None, "2026-03-25T09:00"),
        ("booking", c4, None, intro, "2026-03-25T10:00"),
        ("booking", c4, None, demo, "2026-03-25T11:00"),
        ("room_join", c4, r1, None, "2026-03-25T12:00"),
        ("page_view", c4, None, None, "2026-03-20T10:00"),
        ("booking", c1, None, None, "2026-01-05T00:00"),
        ("room_join", c2, r2, None, "2026-01-05T00:00"),
        ("room_join", c3, r3, None, "2026-01-06T00:00"),
        ("room_join", c3, r3, None, "2026-01-07T00:00"),
        ("booking", c2, None, demo, "2026-01-08T00:00"),
        ("room_join", c5, None, None, "2026-03-25T13:00"),
        ("webinar", c1, None, None, "2026-01-09T00:00"),
    ]:
        ContactEventFactory(
            contact=contact,
            event_type=event_type,
            room=room,
            booking_page=page,
            occurred_at=utc(at),
        )
    # Workspace B's activity must never show in A's figures.
    other_room = RoomFactory(workspace=cast.other_workspace)
    RecordingFactory(room=other_room, duration_seconds=99)
    ContactEventFactory(
        contact=ContactFactory(workspace=cast.other_workspace, created_at=utc("2026-03-25T09:00")),
        room=other_room,
        occurred_at=utc("2026-03-25T09:00"),
    )


EXPECTED = {
    # rooms: 3 (the template is not a room); recordings 3600 + 1800 + 600; contacts c1-c5;
    # bookings: the 5 booking events, with or without a page.
    "kpis": {
        "rooms": 3,
        "recordings": 3,
        "recordingDuration": 6000,
        "contacts": 5,
        "bookings": 5,
    },
    # 02-23 23:59:59 is out; 03-20 has only a page_view; today has 2 bookings and 3 joins
    # (one without a room).
    "activityTimeline": [
        {"date": "2026-02-24", "bookings": 1, "room_joins": 1},
        {"date": "2026-03-25", "bookings": 2, "room_joins": 3},
    ],
    "eventTypeBreakdown": [
        {"type": "room_join", "count": 8},
        {"type": "booking", "count": 5},
        {"type": "page_view", "count": 1},
        {"type": "webinar", "count": 1},
    ],
    # Demo and Intro tie at 2: the lower id (Demo) first; the booking without a page and the
    # unused page are not listed.
    "topBookingPages": [
        {"id": None, "title": "Demo Session", "slug": "demo", "count": 2},
        {"id": None, "title": "30-min Intro Call", "slug": "intro-call", "count": 2},
    ],
    "newContactsTimeline": [
        {"date": "2026-02-24", "count": 1},
        {"date": "2026-03-25", "count": 2},
    ],
    # r1: 3 joins; r3 and r2 tie at 2: ...0003 before ...0009.
    "topRooms": [
        {"id": str(room_id(1)), "name": "team-standup", "display_name": "Team Standup", "count": 3},
        {"id": str(room_id(3)), "name": "quiet-room", "display_name": "Quiet Room", "count": 2},
        {"id": str(room_id(9)), "name": "product-demo", "display_name": "Product Demo", "count": 2},
    ],
}


def expected(cast):
    """EXPECTED with the booking pages' ids, which the database assigns."""
    pages = BookingPage.objects.for_workspace(cast.workspace)
    body = {**EXPECTED, "topBookingPages": [dict(p) for p in EXPECTED["topBookingPages"]]}
    for page in body["topBookingPages"]:
        page["id"] = pages.get(slug=page["slug"]).pk
    return body


def test_every_field_worked_out_by_hand(cast, dashboard):
    response = cast.owner.client("Authorization").get(url(cast.workspace))

    assert response.status_code == 200
    assert response.json() == expected(cast)


def test_members_by_key_or_session(cast, dashboard):
    for client in (cast.member.client(), cast.member.session_client()):
        response = client.get(url(cast.workspace))
        assert response.status_code == 200
        assert response.json() == expected(cast)


def test_session_member_of_two_workspaces_reads_either(cast, dashboard):
    MembershipFactory(user=cast.member.user, workspace=cast.other_workspace)

    response = cast.member.session_client().get(url(cast.other_workspace))

    assert response.status_code == 200
    assert response.json()["kpis"] == {
        "rooms": 1,
        "recordings": 1,
        "recordingDuration": 99,
        "contacts": 1,
        "bookings": 0,
    }
    assert response.json()["topRooms"][0]["count"] == 1


@pytest.mark.parametrize("how", ["key", "session"])
def test_other_workspace_callers_are_403(cast, dashboard, how):
    client = cast.outsider.client() if how == "key" else cast.outsider.session_client()

    response = client.get(url(cast.workspace))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("workspace_id", [987654, 2**70])
def test_unknown_workspace_is_403_like_any_other(cast, workspace_id):
    for client in (cast.owner.client(), cast.owner.session_client()):
        response = client.get(f"/api/workspaces/{workspace_id}/analytics")
        assert response.status_code == 403


def test_anonymous_is_401(cast, anonymous):
    response = anonymous.get(url(cast.workspace))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_empty_workspace(cast):
    response = cast.owner.client().get(url(cast.workspace))

    assert response.json() == {
        "kpis": {"rooms": 0, "recordings": 0, "recordingDuration": 0, "contacts": 0, "bookings": 0},
        "activityTimeline": [],
        "eventTypeBreakdown": [],
        "topBookingPages": [],
        "newContactsTimeline": [],
        "topRooms": [],
    }


def test_top_lists_stop_at_five_ties_by_id(cast):
    ws = cast.workspace
    contact = ContactFactory(workspace=ws, created_at=utc("2026-01-01T00:00"))
    pages = [BookingPageFactory(workspace=ws, slug=f"p{n}") for n in range(6)]
    rooms = [RoomFactory(workspace=ws, id=room_id(100 - n), slug=f"r{n}") for n in range(6)]
    for page, room in zip(pages, rooms, strict=True):
        ContactEventFactory(
            contact=contact,
            event_type="booking",
            booking_page=page,
            occurred_at=utc("2026-01-02T00:00"),
        )
        ContactEventFactory(contact=contact, room=room, occurred_at=utc("2026-01-02T00:00"))

    body = cast.owner.client().get(url(cast.workspace)).json()

    # All tie at 1: pages by ascending id = creation order, p0..p4; rooms by ascending UUID:
    # r5 (95), r4 (96), ..., r1 (99); r0 (100) is sixth.
    assert [p["slug"] for p in body["topBookingPages"]] == ["p0", "p1", "p2", "p3", "p4"]
    assert [r["name"] for r in body["topRooms"]] == ["r5", "r4", "r3", "r2", "r1"]


def test_query_count_is_fixed(cast, dashboard, django_assert_max_num_queries):
    client = cast.owner.client()
    client.get(url(cast.workspace))  # the key's last-used time is written once a minute
    # key lookup + 6 aggregates + 2 lookups of the top five + the savepoint and release
    with django_assert_max_num_queries(11):
        client.get(url(cast.workspace))
    contact = ContactFactory(workspace=cast.workspace)
    for n in range(20):
        room = RoomFactory(workspace=cast.workspace)
        page = BookingPageFactory(workspace=cast.workspace)
        ContactEventFactory(
            contact=contact, room=room, occurred_at=utc(f"2026-03-{n + 1:02d}T00:00")
        )
        ContactEventFactory(
            contact=contact,
            event_type="booking",
            booking_page=page,
            occurred_at=utc(f"2026-03-{n + 1:02d}T00:00"),
        )
    with django_assert_max_num_queries(11):
        response = client.get(url(cast.workspace))
    assert response.json()["kpis"]["bookings"] == 25


@pytest.mark.parametrize("segment", ["abc", "null,null", "-1", "1.0", "٣"])
def test_malformed_workspace_id_is_403(cast, segment):
    response = cast.owner.client().get(f"/api/workspaces/{segment}/analytics")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
