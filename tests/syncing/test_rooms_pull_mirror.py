"""The pulled rooms as our API serves them equal the upstream's own answers (specs 000 and 001):
the mirror must not rewrite upstream's data. Compared through the API, not the tables, so what
a reader sees is what is checked."""

from __future__ import annotations

import pytest

from rooms.models import Room, RoomMember
from syncing.models import Connection
from syncing.services import connection_create
from syncing.streams import stream_run
from tests.factories import MembershipFactory, UserFactory
from tests.syncing.fakes.rooms_platform import INTERNAL

pytestmark = pytest.mark.django_db

# What spec 000 lists per side of an assignee (the nested forms drop the job title).
SIDE_FIELDS = {
    "internal_organization": ("belongsTo", "email", "name", "isRoomOwner"),
    "external_organization": (
        "belongsTo",
        "email",
        "name",
        "isPrimaryContact",
        "lastSeen",
        "viewCount",
    ),
}


@pytest.fixture
def pulled(cast, rooms_fake):
    """Twenty rooms pulled into the cast's workspace, where two of the seller's three people
    are members (the third is not). A member is shown with their own profile here, which is
    theirs upstream too."""
    for email, name, title in INTERNAL[:2]:
        user = UserFactory(email=email, full_name=name, job_title=title)
        MembershipFactory(workspace=cast.workspace, user=user)
    rooms_fake.populate(20)
    connection = connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )
    run = stream_run(connection=connection, stream="rooms", full_refresh=True)
    assert run.status == "succeeded", run.errors
    return {str(pk): upstream for pk, upstream in Room.objects.values_list("id", "upstream_id")}


def person(user: dict, *, with_title: bool = False) -> tuple:
    fields = SIDE_FIELDS[user["belongsTo"]] + (("title",) if with_title else ())
    return tuple((name, user.get(name) or None) for name in fields)


def test_pulled_rooms_list_upstreams_view_totals(cast, rooms_fake, pulled):
    listed = cast.owner.client().get("/api/v2/rooms", {"limit": 100}).json()["results"]

    assert {
        pulled[room["id"]]: (room["totalViews"], room["totalUniqueViews"]) for room in listed
    } == {
        room_id: (record["totalViews"], record["totalUniqueViews"])
        for room_id, record in rooms_fake.rooms.items()
        if not record["isTemplate"]  # the list shows rooms; templates are listed apart
    }
    assert any(record["totalViews"] for record in rooms_fake.rooms.values())


def test_analytics_list_everyone_on_the_room_with_upstreams_side_and_flags(
    cast, rooms_fake, pulled
):
    client = cast.owner.client()
    for room_id, upstream_id in pulled.items():
        ours = client.get(f"/api/v2/rooms/{room_id}/analytics").json()
        theirs = rooms_fake.analytics[upstream_id]

        assert sorted(person(a, with_title=True) for a in ours["assignees"]) == sorted(
            person(a, with_title=True) for a in theirs["assignees"]
        ), upstream_id
        ours_actions = [a for section in ours["sections"] for a in section["actions"]]
        theirs_actions = [a for section in theirs["sections"] for a in section["actions"]]
        assert [
            sorted(person(a["user"]) for a in action["assignees"]) for action in ours_actions
        ] == [
            sorted(person(a["user"]) for a in action["assignees"]) for action in theirs_actions
        ], upstream_id


def test_internal_people_are_linked_to_the_members_that_match(cast, rooms_fake, pulled):
    linked = set(RoomMember.objects.values_list("user__email", flat=True))

    assert linked == {email for email, *_ in INTERNAL[:2]}
