"""Where the rooms API answered differently from specs 000 and 001: JSON types taken as
declared, blank names as null, one assignee ``type`` in both APIs, views kept out of a
viewership entry's engagements."""

from __future__ import annotations

import pytest

from rooms.models import Action, Room
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import (
    ActionAssigneeFactory,
    ActionFactory,
    ContactFactory,
    SectionFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


# --- wrong JSON types answer 400 instead of being coerced ---------------------------------------


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"title": 0}, "items.0.title"),
        ({"title": "A", "actionType": 0}, "items.0.actionType"),
        ({"title": "A", "description": 12}, "items.0.description"),
        ({"title": "A", "internal": 0}, "items.0.internal"),
        ({"title": "A", "internal": "true"}, "items.0.internal"),
        ({"title": "A", "position": "3"}, "items.0.position"),
        ({"title": "A", "position": True}, "items.0.position"),
        ({"title": "A", "assignees": [0]}, "items.0.assignees.0"),
        ({"title": "A", "dueDate": 0}, "items.0.dueDate"),
    ],
)
def test_action_item_fields_take_only_their_json_type(cast, room, item, field):
    section = SectionFactory(room=room)
    response = cast.owner.client().post(
        "/api/v2/action-items", {"sectionId": str(section.id), "items": [item]}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"isCompleted": 0}, "isCompleted"),
        ({"isCompleted": "false"}, "isCompleted"),
        ({"title": 0}, "title"),
        ({"position": 1.0}, "position"),
    ],
)
def test_section_patch_takes_only_json_types(cast, room, body, field):
    section = SectionFactory(room=room, title="Kept")
    response = cast.owner.client().patch(f"/api/v2/sections/{section.id}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    section.refresh_from_db()
    assert (section.title, section.is_completed) == ("Kept", False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 0}, "title"),
        ({"title": "A", "coverDisabled": "true"}, "coverDisabled"),
        ({"title": "A", "coverTitle": 5}, "coverTitle"),
        ({"title": "A", "email": 5}, "email"),
    ],
)
def test_room_create_takes_only_json_types(cast, body, field):
    response = cast.owner.client().post("/api/v2/rooms", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": 7}, "events.0.id"),
        ({"viewer": {"email": "a@b.example", "name": 0}}, "events.0.viewer.name"),
        ({"durationInSeconds": "5"}, "events.0.durationInSeconds"),
    ],
)
def test_activity_events_take_only_json_types(cast, room, change, field):
    step = StepFactory(section=SectionFactory(room=room))
    event = {
        "id": "e1",
        "kind": "view",
        "viewer": {"email": "a@b.example"},
        "at": "2026-05-05T14:30:44.260Z",
        "stepId": str(step.id),
        "durationInSeconds": 5,
    } | change
    response = cast.owner.client().post(
        f"/api/v2/rooms/{room.id}/activity", {"events": [event]}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


# --- blank names are null ------------------------------------------------------------------------


def test_blank_assignee_names_are_null_in_both_apis(cast, room):
    action = ActionFactory(section=SectionFactory(room=room))
    ActionAssigneeFactory(action=action, contact=ContactFactory(workspace=cast.workspace, name=""))
    nameless = UserFactory(full_name="", job_title="")
    MembershipFactory(workspace=cast.workspace, user=nameless)
    ActionAssigneeFactory(action=action, user=nameless, contact=None)
    client = cast.owner.client()

    listed = client.get("/api/v2/action-items", {"sectionId": str(action.section_id)}).json()
    analytics = client.get(f"/api/v2/rooms/{room.id}/analytics").json()

    assert [person["name"] for person in listed[0]["assignees"]] == [None, None]
    nested = analytics["sections"][0]["actions"][0]["assignees"]
    assert [entry["user"]["name"] for entry in nested] == [None, None]


def test_blank_member_names_and_titles_are_null(cast):
    nameless = UserFactory(full_name="", job_title="")
    MembershipFactory(workspace=cast.workspace, user=nameless)

    page = cast.owner.client().get("/api/v2/users", {"limit": 100}).json()

    listed = next(member for member in page["results"] if member["email"] == nameless.email)
    assert (listed["name"], listed["title"]) == (None, None)


# --- one assignee type in both APIs -------------------------------------------------------------


def test_an_assignee_has_the_same_type_in_action_items_and_analytics(cast, room):
    action = ActionFactory(section=SectionFactory(room=room))
    ActionAssigneeFactory(action=action, user=cast.member.user, contact=None)
    ActionAssigneeFactory(action=action, contact=ContactFactory(workspace=cast.workspace))
    client = cast.owner.client()

    listed = client.get("/api/v2/action-items", {"sectionId": str(action.section_id)}).json()
    analytics = client.get(f"/api/v2/rooms/{room.id}/analytics").json()

    by_email = {person["email"]: person["type"] for person in listed[0]["assignees"]}
    nested = analytics["sections"][0]["actions"][0]["assignees"]
    assert {entry["user"]["email"]: entry["type"] for entry in nested} == by_email
    assert sorted(by_email.values()) == ["contact", "user"]


# --- a viewership entry's engagements ------------------------------------------------------------


def test_views_are_summed_not_listed_as_engagements(cast, room):
    """Spec 000's example: views add up in durationInSeconds and timesViewed; `engagements`
    lists the engagement events only."""
    step = StepFactory(section=SectionFactory(room=room))
    viewer = {"email": "morgan.lee@acme.com"}
    at = "2026-05-05T14:30:{:02d}.000Z"
    events = [
        {
            "id": "v1",
            "kind": "view",
            "viewer": viewer,
            "at": at.format(1),
            "durationInSeconds": 100,
        },
        {"id": "v2", "kind": "view", "viewer": viewer, "at": at.format(2), "durationInSeconds": 44},
        {"id": "t1", "kind": "engagement", "viewer": viewer, "at": at.format(54)}
        | {"type": "TASK_COMPLETED"},
    ]
    client = cast.owner.client()
    for event in events:
        event["stepId"] = str(step.id)
    assert client.post(f"/api/v2/rooms/{room.id}/activity", {"events": events}, format="json")

    analytics = client.get(f"/api/v2/rooms/{room.id}/analytics").json()

    (entry,) = analytics["sections"][0]["steps"][0]["viewership"]
    assert (entry["durationInSeconds"], entry["timesViewed"]) == (144, 2)
    assert entry["engagements"] == [
        {"type": "TASK_COMPLETED", "createdAt": "2026-05-05T14:30:54.000Z"}
    ]
    # The room's breakdown still counts the views (spec 001's engagements.views).
    listed = client.get(f"/api/v2/rooms/{room.id}").json()
    assert (listed["engagements"]["views"], listed["engagements"]["tasksCompleted"]) == (2, 1)
