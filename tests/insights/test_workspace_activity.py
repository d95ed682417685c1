"""POST /api/workspaces/{workspace_id}/activity: contact events and recordings."""

import uuid

import pytest

from insights.models import BookingPage, ContactEvent, Recording
from rooms.models import Contact
from tests.insights.factories import utc
from tests.rooms.factories import ContactFactory, RoomFactory

pytestmark = pytest.mark.django_db


def url(workspace) -> str:
    return f"/api/workspaces/{workspace.pk}/activity"


def post(actor, events, workspace=None):
    return actor.client().post(url(workspace or actor.workspace), {"events": events}, format="json")


@pytest.fixture
def room(cast):
    return RoomFactory(workspace=cast.workspace, title="Team Standup", slug="team-standup")


def join(id, room, email="buyer@customer.example", at="2026-03-01T10:00:00Z", **contact):
    return {
        "id": id,
        "kind": "contact_event",
        "type": "room_join",
        "contact": {"email": email, **contact},
        "roomId": str(room.pk),
        "at": at,
    }


def booking(id, slug, title=None, email="buyer@customer.example", at="2026-03-01T10:00:00Z"):
    page = {"slug": slug, **({"title": title} if title else {})}
    return {
        "id": id,
        "kind": "contact_event",
        "type": "booking",
        "contact": {"email": email},
        "bookingPage": page,
        "metadata": {"source": "widget"},
        "at": at,
    }


def recording(id, room, seconds=1800, **extra):
    return {
        "id": id,
        "kind": "recording",
        "roomId": str(room.pk),
        "durationInSeconds": seconds,
        "at": "2026-03-01T11:00:00Z",
        **extra,
    }


def test_stores_events_contacts_pages_and_recordings(cast, room):
    response = post(
        cast.owner,
        [
            join("e1", room, email="Ada@Customer.Example", name="Ada", at="2026-03-01T10:00:00Z"),
            booking("e2", "intro-call", "30-min Intro Call", email="ada@customer.example"),
            booking("e3", "demo", email="bob@customer.example", at="2026-03-02T09:00:00Z"),
            recording("r1", room, 1800),
            recording("r2", room, 60, status="failed"),
        ],
    )

    assert response.status_code == 200
    assert response.json() == {"accepted": 5, "duplicates": 0}
    ada = Contact.objects.get(email="ada@customer.example")
    assert (ada.workspace, ada.name, ada.created_at) == (
        cast.workspace,
        "Ada",
        utc("2026-03-01T10:00"),
    )
    assert Contact.objects.get(email="bob@customer.example").created_at == utc("2026-03-02T09:00")
    first = ContactEvent.objects.get(client_id="e1")
    assert (first.event_type, first.contact, first.room, first.booking_page) == (
        "room_join",
        ada,
        room,
        None,
    )
    second = ContactEvent.objects.get(client_id="e2")
    assert (second.booking_page.slug, second.booking_page.title) == (
        "intro-call",
        "30-min Intro Call",
    )
    assert second.metadata == {"source": "widget"}
    # A page first seen without a title is named after its slug.
    assert BookingPage.objects.get(slug="demo").title == "demo"
    assert sorted(Recording.objects.values_list("client_id", "duration_seconds", "status")) == [
        ("r1", 1800, "available"),
        ("r2", 60, "failed"),
    ]


def test_existing_contact_matched_case_insensitively_and_left_alone(cast, room):
    existing = ContactFactory(
        workspace=cast.workspace,
        email="ada@customer.example",
        name="Ada L.",
        created_at=utc("2025-01-01T00:00"),
    )

    post(cast.owner, [join("e1", room, email="ADA@customer.example", name="Someone else")])

    existing.refresh_from_db()
    assert (existing.name, existing.created_at) == ("Ada L.", utc("2025-01-01T00:00"))
    assert Contact.objects.filter(workspace=cast.workspace).count() == 1
    assert ContactEvent.objects.get().contact == existing


def test_new_contact_created_at_is_the_earliest_item_or_explicit(cast, room):
    post(
        cast.owner,
        [
            join("e1", room, email="late@x.example", at="2026-03-05T10:00:00Z"),
            join("e2", room, email="late@x.example", at="2026-03-03T10:00:00Z"),
            join("e3", room, email="explicit@x.example", createdAt="2025-12-24T08:00:00Z"),
        ],
    )

    assert Contact.objects.get(email="late@x.example").created_at == utc("2026-03-03T10:00")
    assert Contact.objects.get(email="explicit@x.example").created_at == utc("2025-12-24T08:00")


def test_a_later_title_renames_the_page(cast):
    post(cast.owner, [booking("e1", "demo")])
    post(cast.owner, [booking("e2", "demo", "Demo Session")])
    post(cast.owner, [booking("e3", "demo")])

    assert list(BookingPage.objects.values_list("slug", "title")) == [("demo", "Demo Session")]


def test_replay_changes_nothing(cast, room):
    batch = [join("e1", room), booking("e2", "demo", "Demo"), recording("r1", room)]
    post(cast.owner, batch)

    response = post(cast.member, batch)

    assert response.json() == {"accepted": 0, "duplicates": 3}
    assert ContactEvent.objects.count() == 2
    assert Recording.objects.count() == 1
    assert Contact.objects.count() == 1


def test_ids_are_shared_by_both_kinds(cast, room):
    post(cast.owner, [join("x1", room)])

    response = post(cast.owner, [recording("x1", room), recording("x2", room)])

    assert response.json() == {"accepted": 1, "duplicates": 1}
    assert list(Recording.objects.values_list("client_id", flat=True)) == ["x2"]


@pytest.mark.parametrize(
    ("bad_item", "field"),
    [
        ({**booking("x", "demo"), "roomId": "nope"}, "events.2.roomId"),
        ({**booking("x", "demo"), "contact": {"email": "not-an-email"}}, "events.2.contact.email"),
        ({**booking("x", "demo"), "contact": {}}, "events.2.contact.email"),
        ({**booking("x", "demo"), "type": "Room Join"}, "events.2.type"),
        (
            {**booking("x", "demo"), "bookingPage": {"slug": "has space"}},
            "events.2.bookingPage.slug",
        ),
        ({**booking("x", "demo"), "metadata": [1]}, "events.2.metadata"),
        ({**booking("x", "demo"), "at": "soon"}, "events.2.at"),
        (
            {"id": "x", "kind": "recording", "durationInSeconds": 5, "at": "2026-03-01T00:00Z"},
            "events.2.roomId",
        ),
        ({"id": "x", "kind": "webinar"}, "events.2.kind"),
        ({**booking("e1", "demo")}, "events.2.id"),
    ],
)
def test_one_bad_item_rejects_the_whole_batch(cast, room, bad_item, field):
    response = post(cast.owner, [join("e1", room), booking("e2", "new-page"), bad_item])

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not ContactEvent.objects.exists()
    assert not Contact.objects.exists()
    assert not BookingPage.objects.exists()


@pytest.mark.parametrize(
    ("seconds", "field_ok"), [(-1, False), ("60", False), (1.5, False), (True, False), (0, True)]
)
def test_duration_is_a_whole_non_negative_number(cast, room, seconds, field_ok):
    response = post(cast.owner, [recording("r1", room, seconds)])

    assert (response.status_code == 200) is field_ok
    if not field_ok:
        assert list(response.json()["error"]["fields"]) == ["events.0.durationInSeconds"]


def test_room_of_another_workspace_is_rejected_without_leaking(cast, room):
    foreign = RoomFactory(workspace=cast.other_workspace)
    missing = uuid.uuid4()

    for room_id in (foreign.pk, missing):
        response = post(
            cast.owner, [join("e1", room), {**recording("r1", room), "roomId": str(room_id)}]
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "events.1.roomId": ["No room with this id in the workspace."]
        }
    assert not ContactEvent.objects.exists()
    assert not Contact.objects.exists()


def test_batch_of_more_than_1000_is_400(cast, room):
    response = post(cast.owner, [recording(f"r{n}", room) for n in range(1001)])

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["events"]


def test_other_workspace_key_is_403_and_stores_nothing(cast, room):
    response = post(cast.outsider, [recording("r1", room)], workspace=cast.workspace)

    assert response.status_code == 403
    assert not Recording.objects.exists()


def test_non_member_session_is_403(cast, room):
    response = cast.outsider.session_client().post(
        url(cast.workspace), {"events": [recording("r1", room)]}, format="json"
    )

    assert response.status_code == 403


def test_member_session_can_post(cast, room):
    response = cast.member.session_client().post(
        url(cast.workspace), {"events": [recording("r1", room)]}, format="json"
    )

    assert response.status_code == 200
    assert Recording.objects.get().workspace == cast.workspace


def test_anonymous_is_401(cast, anonymous, room):
    response = anonymous.post(url(cast.workspace), {"events": []}, format="json")

    assert response.status_code == 401


def test_ingested_activity_shows_in_the_analytics(cast, room, time_machine):
    time_machine.move_to("2026-03-02T12:00:00Z", tick=False)
    post(
        cast.owner,
        [
            join("e1", room, email="a@x.example", at="2026-03-01T10:00:00Z"),
            join("e2", room, email="b@x.example", at="2026-03-02T10:00:00Z"),
            booking("e3", "demo", "Demo", email="a@x.example", at="2026-03-02T11:00:00Z"),
            recording("r1", room, 1800),
        ],
    )

    body = cast.owner.client().get(f"/api/workspaces/{cast.workspace.pk}/analytics").json()

    assert body["kpis"] == {
        "rooms": 1,
        "recordings": 1,
        "recordingDuration": 1800,
        "contacts": 2,
        "bookings": 1,
    }
    assert body["activityTimeline"] == [
        {"date": "2026-03-01", "bookings": 0, "room_joins": 1},
        {"date": "2026-03-02", "bookings": 1, "room_joins": 1},
    ]
    # Each contact was created at its first item: a on 03-01, b on 03-02.
    assert body["newContactsTimeline"] == [
        {"date": "2026-03-01", "count": 1},
        {"date": "2026-03-02", "count": 1},
    ]
    assert body["topRooms"] == [
        {"id": str(room.pk), "name": "team-standup", "display_name": "Team Standup", "count": 2}
    ]


def test_query_count_does_not_grow_with_the_batch(cast, room, django_assert_max_num_queries):
    client = cast.owner.client()
    client.post(url(cast.workspace), {"events": [recording("warm-up", room)]}, format="json")
    rooms = [RoomFactory(workspace=cast.workspace) for _ in range(5)]
    big = [
        item
        for n in range(150)
        for item in (
            join(f"j{n}", rooms[n % 5], email=f"c{n}@x.example"),
            booking(f"b{n}", f"page-{n % 7}", f"Page {n % 7}", email=f"c{n}@x.example"),
            recording(f"r{n}", rooms[n % 5]),
        )
    ]
    # room and id check, contact insert, page upsert, 2 inserts (joined to their contact and
    # page in SQL: nothing is read back), the request's and the service's savepoints and
    # their releases
    with django_assert_max_num_queries(9):
        response = client.post(url(cast.workspace), {"events": big}, format="json")
    assert response.json() == {"accepted": 450, "duplicates": 0}
