"""GET /api/v2/rooms/{room_id}/analytics: a small hand-built room checked number by number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms.models import Access, Action, Engagement
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import (
    ActionAssigneeFactory,
    ActionFactory,
    ContactFactory,
    EngagementFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    ViewershipFactory,
    VisitFactory,
)

NOW = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def url(room) -> str:
    return f"/api/v2/rooms/{room.id}/analytics"


def member(workspace, email: str, name: str, title: str):
    user = UserFactory(email=email, full_name=name, job_title=title)
    MembershipFactory(workspace=workspace, user=user)
    return user


@pytest.fixture
def sales_room(cast):
    """Two sections (created in reverse order), three pages, eight action items, two members,
    three contacts, visits, viewership and engagements; plus noise in another room."""
    workspace = cast.workspace
    workspace.internal_company_name = "Flowla"
    workspace.save()
    jordan = member(workspace, "jordan@seller.example", "Jordan Avery", "Account Executive")
    delia = member(workspace, "delia@seller.example", "Delia Barbat", "Solutions Engineer")
    morgan = ContactFactory(
        workspace=workspace, email="morgan.lee@acme.com", name="Morgan Lee", job_title="VP of Ops"
    )
    sam = ContactFactory(workspace=workspace, email="sam@acme.com", name="Sam Hill", job_title="")
    pat = ContactFactory(workspace=workspace, email="pat@acme.com", name="", job_title="CFO")
    room = RoomFactory(
        workspace=workspace, title="Flowla <> Acme", owner=jordan, primary_contact=morgan
    )

    plan = SectionFactory(
        room=room, title="Plan", position=1, access=Access.HIDDEN, is_completed=True
    )
    welcome = SectionFactory(room=room, title="Welcome", position=0)
    pricing = StepFactory(section=welcome, title="Pricing", position=1, access=Access.HIDDEN)
    intro = StepFactory(section=welcome, title="Introduction", position=0)
    agenda = StepFactory(section=plan, title="Agenda", position=0, access=Access.LOCKED)

    def action(section, title, position, status, due=None, **fields):
        return ActionFactory(
            section=section,
            title=title,
            position=position,
            status=status,
            due_date=at(due) if due else None,
            **fields,
        )

    nda = action(
        welcome,
        "Sign mutual NDA",
        0,
        Action.Status.IN_PROGRESS,
        "2026-05-11T22:00:00Z",
        description="Review and countersign the NDA before kickoff",
        action_type="fill-form",
    )
    kickoff = action(welcome, "Book kickoff", 1, Action.Status.DONE, "2026-05-01T00:00:00Z")
    security = action(
        plan,
        "Security review",
        0,
        Action.Status.TODO,
        "2026-06-01T00:00:00Z",
        internal=True,
        access=Access.HIDDEN,
    )
    legal = action(plan, "Legal", 1, Action.Status.CANCELLED, "2026-04-01T00:00:00Z")
    deck = action(plan, "Send deck", 2, Action.Status.TODO, "2026-05-12T08:59:59Z")
    due_now = action(plan, "Due now", 3, Action.Status.TODO, "2026-05-12T09:00:00Z")
    action(plan, "Pilot", 4, Action.Status.TODO)
    action(plan, "Demo", 5, Action.Status.IN_PROGRESS)

    ActionAssigneeFactory(action=nda, user=delia, contact=None)
    ActionAssigneeFactory(action=kickoff, contact=sam)
    ActionAssigneeFactory(action=kickoff, contact=morgan)
    ActionAssigneeFactory(action=kickoff, user=jordan, contact=None)

    for visited in ("2026-05-01T10:00:00Z", "2026-05-05T14:30:44.260Z", "2026-05-03T09:00:00Z"):
        VisitFactory(room=room, contact=morgan, at=at(visited))
    VisitFactory(room=room, contact=morgan, at=at("2026-05-04T09:00:00Z"))
    VisitFactory(room=room, contact=pat, at=at("2026-05-06T08:00:00Z"))
    VisitFactory(room=room, user=delia, contact=None, at=at("2026-05-02T12:00:00Z"))

    ViewershipFactory(step=intro, contact=morgan, duration_in_seconds=144, times_viewed=1)
    ViewershipFactory(step=intro, user=delia, contact=None, duration_in_seconds=20, times_viewed=2)
    ViewershipFactory(action=nda, contact=morgan, duration_in_seconds=3, times_viewed=1)
    EngagementFactory(
        step=intro,
        contact=morgan,
        type=Engagement.Type.CLICK,
        created_at=at("2026-05-05T14:31:00Z"),
    )
    EngagementFactory(
        step=intro,
        contact=morgan,
        type=Engagement.Type.TASK_COMPLETED,
        created_at=at("2026-05-05T14:30:54.168Z"),
    )
    EngagementFactory(
        action=nda, contact=pat, type=Engagement.Type.COMMENT, created_at=at("2026-05-06T08:01:00Z")
    )

    # Another room of the workspace: its visits and views must not count here.
    other = RoomFactory(workspace=workspace)
    other_step = StepFactory(section=SectionFactory(room=other))
    VisitFactory(room=other, contact=morgan, at=at("2026-05-10T10:00:00Z"))
    ViewershipFactory(step=other_step, contact=morgan, duration_in_seconds=999)
    return {
        "room": room,
        "welcome": welcome,
        "plan": plan,
        "intro": intro,
        "pricing": pricing,
        "agenda": agenda,
        "nda": nda,
        "kickoff": kickoff,
        "security": security,
        "legal": legal,
        "deck": deck,
        "due_now": due_now,
    }


JORDAN = {
    "belongsTo": "internal_organization",
    "email": "jordan@seller.example",
    "name": "Jordan Avery",
    "isRoomOwner": True,
}
DELIA = {
    "belongsTo": "internal_organization",
    "email": "delia@seller.example",
    "name": "Delia Barbat",
    "isRoomOwner": False,
}
# Morgan visited this room four times, latest 2026-05-05T14:30:44.260Z (the visit to the other
# room on 05-10 does not count).
MORGAN = {
    "belongsTo": "external_organization",
    "email": "morgan.lee@acme.com",
    "name": "Morgan Lee",
    "isPrimaryContact": True,
    "lastSeen": "2026-05-05T14:30:44.260Z",
    "viewCount": 4,
}
SAM = {
    "belongsTo": "external_organization",
    "email": "sam@acme.com",
    "name": "Sam Hill",
    "isPrimaryContact": False,
    "lastSeen": None,
    "viewCount": 0,
}
PAT = {
    "belongsTo": "external_organization",
    "email": "pat@acme.com",
    "name": None,
    "isPrimaryContact": False,
    "lastSeen": "2026-05-06T08:00:00.000Z",
    "viewCount": 1,
}


def _action(action, **fields):
    return {
        "id": str(action.id),
        "title": action.title,
        "status": action.status,
        "description": None,
        "internal": False,
        "dueDate": None,
        "isOverdue": False,
        "isVisibleToExternal": True,
        "actionType": None,
        "assignees": [],
        "viewership": [],
        **fields,
    }


@time_machine.travel(NOW, tick=False)
def test_analytics_of_a_hand_built_room(cast, sales_room):
    r = sales_room
    response = cast.owner.client().get(url(r["room"]))

    assert response.status_code == 200
    body = response.json()
    # 8 action items, 1 cancelled (Legal): 7 counted, 1 done (Book kickoff): 100 / 7 = 14.2857…
    assert body["progressPercentage"] == 14.29
    assert body["title"] == "Flowla <> Acme"
    assert body["internalCompany"] == {"type": "internal", "name": "Flowla"}
    # Owner, primary contact, action assignees in order (Delia; Sam, Morgan again, Jordan
    # again), then visitors latest first (Pat 05-06, Morgan again, Delia again): each once.
    assert body["assignees"] == [
        {**JORDAN, "title": "Account Executive"},
        {**MORGAN, "title": "VP of Ops"},
        {**DELIA, "title": "Solutions Engineer"},
        {**SAM, "title": None},
        {**PAT, "title": "CFO"},
    ]
    welcome, plan = body["sections"]
    assert {key: welcome[key] for key in ("id", "title", "isCompleted", "isVisibleToExternal")} == {
        "id": str(r["welcome"].id),
        "title": "Welcome",
        "isCompleted": False,
        "isVisibleToExternal": True,
    }
    assert (plan["title"], plan["isCompleted"], plan["isVisibleToExternal"]) == (
        "Plan",
        True,
        False,
    )
    assert welcome["steps"] == [
        {
            "id": str(r["intro"].id),
            "title": "Introduction",
            "isVisibleToExternal": True,
            # Viewers ordered by email: delia@ before morgan.lee@; engagements oldest first.
            "viewership": [
                {"user": DELIA, "durationInSeconds": 20, "timesViewed": 2, "engagements": []},
                {
                    "user": MORGAN,
                    "durationInSeconds": 144,
                    "timesViewed": 1,
                    "engagements": [
                        {"type": "TASK_COMPLETED", "createdAt": "2026-05-05T14:30:54.168Z"},
                        {"type": "CLICK", "createdAt": "2026-05-05T14:31:00.000Z"},
                    ],
                },
            ],
        },
        {
            "id": str(r["pricing"].id),
            "title": "Pricing",
            "isVisibleToExternal": False,
            "viewership": [],
        },
    ]
    assert plan["steps"] == [
        {
            "id": str(r["agenda"].id),
            "title": "Agenda",
            "isVisibleToExternal": True,  # locked is not hidden
            "viewership": [],
        }
    ]
    assert welcome["actions"] == [
        _action(
            r["nda"],
            description="Review and countersign the NDA before kickoff",
            dueDate="2026-05-11T22:00:00.000Z",
            isOverdue=True,  # due 11 hours before NOW, in progress
            actionType="fill-form",
            assignees=[{"type": "user", "user": DELIA}],
            viewership=[
                {"user": MORGAN, "durationInSeconds": 3, "timesViewed": 1, "engagements": []},
                # Pat commented without a recorded view.
                {
                    "user": PAT,
                    "durationInSeconds": 0,
                    "timesViewed": 0,
                    "engagements": [{"type": "COMMENT", "createdAt": "2026-05-06T08:01:00.000Z"}],
                },
            ],
        ),
        _action(
            r["kickoff"],
            dueDate="2026-05-01T00:00:00.000Z",
            isOverdue=False,  # past due but done
            assignees=[
                # External contacts are "contact", as in the action items API.
                {"type": "contact", "user": SAM},
                {"type": "contact", "user": MORGAN},
                {"type": "user", "user": JORDAN},
            ],
        ),
    ]
    assert [(a["title"], a["dueDate"], a["isOverdue"]) for a in plan["actions"]] == [
        ("Security review", "2026-06-01T00:00:00.000Z", False),  # not due yet
        ("Legal", "2026-04-01T00:00:00.000Z", False),  # past due but cancelled
        ("Send deck", "2026-05-12T08:59:59.000Z", True),  # one second past due
        ("Due now", "2026-05-12T09:00:00.000Z", False),  # due this instant: not yet passed
        ("Pilot", None, False),
        ("Demo", None, False),
    ]
    security = plan["actions"][0]
    assert (security["internal"], security["isVisibleToExternal"]) == (True, False)


def test_is_overdue_follows_the_clock(cast, sales_room):
    path = url(sales_room["room"])
    with time_machine.travel(datetime(2026, 5, 11, 21, 59, 59, tzinfo=UTC), tick=False):
        before = cast.owner.client().get(path).json()
    with time_machine.travel(datetime(2026, 5, 11, 22, 0, 1, tzinfo=UTC), tick=False):
        after = cast.owner.client().get(path).json()
    assert before["sections"][0]["actions"][0]["isOverdue"] is False
    assert after["sections"][0]["actions"][0]["isOverdue"] is True


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], 0),  # no action items
        (["cancelled", "cancelled"], 0),  # none counted
        (["done", "cancelled"], 100),  # the cancelled one is not counted
        (["done", "todo", "in_progress"], 33.33),  # 100 / 3 = 33.333…
        (["done", "done", "todo"], 66.67),  # 200 / 3 = 66.666…, rounded half up
        (["done"] + ["todo"] * 7, 12.5),
        (["done", "todo", "cancelled", "todo", "in_progress", "cancelled"], 25),
    ],
)
def test_progress_percentage(cast, statuses, expected):
    room = RoomFactory(workspace=cast.workspace)
    first, second = SectionFactory(room=room), SectionFactory(room=room)
    for index, status in enumerate(statuses):
        ActionFactory(section=first if index % 2 else second, status=status)

    body = cast.owner.client().get(url(room)).json()

    assert body["progressPercentage"] == expected


def test_internal_company_falls_back_to_the_workspace_name(cast):
    cast.workspace.internal_company_name = ""
    cast.workspace.save()
    room = RoomFactory(workspace=cast.workspace)

    body = cast.owner.client().get(url(room)).json()

    assert body == {
        "title": room.title,
        "progressPercentage": 0,
        "internalCompany": {"type": "internal", "name": "Acme Sales"},
        "assignees": [],
        "sections": [],
    }


def test_assignees_are_deduplicated_by_email_case_insensitively(cast):
    owner = member(cast.workspace, "alex@seller.example", "Alex Owner", "AE")
    room = RoomFactory(workspace=cast.workspace, owner=owner)
    # A contact with the owner's address in another case: the owner's entry wins.
    twin = ContactFactory(workspace=cast.workspace, email="ALEX@seller.example", name="Alex Twin")
    buyer = ContactFactory(workspace=cast.workspace, email="buyer@acme.com", name="Buyer")
    first, second = ActionFactory(section__room=room), ActionFactory(section__room=room)
    ActionAssigneeFactory(action=first, contact=twin)
    ActionAssigneeFactory(action=first, contact=buyer)
    ActionAssigneeFactory(action=second, contact=buyer)
    VisitFactory(room=room, contact=buyer, at=at("2026-05-01T00:00:00Z"))
    VisitFactory(room=room, contact=buyer, at=at("2026-05-02T00:00:00Z"))

    assignees = cast.owner.client().get(url(room)).json()["assignees"]

    assert [(a["email"], a["belongsTo"]) for a in assignees] == [
        ("alex@seller.example", "internal_organization"),
        ("buyer@acme.com", "external_organization"),
    ]
    assert (assignees[1]["viewCount"], assignees[1]["lastSeen"]) == (
        2,
        "2026-05-02T00:00:00.000Z",
    )


def test_a_visiting_member_is_internal_and_a_room_without_owner_has_only_visitors(cast):
    room = RoomFactory(workspace=cast.workspace)
    VisitFactory(room=room, user=cast.member.user, contact=None)

    assignees = cast.owner.client().get(url(room)).json()["assignees"]

    assert assignees == [
        {
            "belongsTo": "internal_organization",
            "email": cast.member.user.email,
            "name": cast.member.user.full_name,
            "title": cast.member.user.job_title,
            "isRoomOwner": False,
        }
    ]


def _grow(room, *, sections: int, per_section: int, viewers: int) -> None:
    """Add structure and activity to ``room``: every viewer visits, views and clicks every
    page and action item."""
    contacts = [ContactFactory(workspace=room.workspace) for _ in range(viewers)]
    for _ in range(sections):
        section = SectionFactory(room=room)
        for _ in range(per_section):
            step = StepFactory(section=section)
            action = ActionFactory(section=section, due_date=NOW)
            ActionAssigneeFactory(action=action, contact=contacts[0])
            ActionAssigneeFactory(action=action, user=room.owner, contact=None)
            for contact in contacts:
                for target in ({"step": step}, {"action": action}):
                    ViewershipFactory(contact=contact, **target)
                    EngagementFactory(contact=contact, **target)
    for contact in contacts:
        VisitFactory(room=room, contact=contact)


def test_query_count_does_not_grow_with_the_room(cast, django_assert_max_num_queries):
    owner = member(cast.workspace, "owner@seller.example", "Owner", "AE")
    small = RoomFactory(workspace=cast.workspace, owner=owner)
    _grow(small, sections=1, per_section=1, viewers=1)
    large = RoomFactory(workspace=cast.workspace, owner=owner)
    _grow(large, sections=4, per_section=5, viewers=4)
    client = cast.owner.client()

    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(url(small)).status_code == 200
    # Authentication, then: the room with its progress, visitors, viewership, engagements,
    # sections, steps, actions, action assignees.
    with django_assert_max_num_queries(len(small_queries)):
        response = client.get(url(large))

    assert response.status_code == 200
    body = response.json()
    assert len(body["sections"]) == 4
    assert sum(len(section["actions"]) for section in body["sections"]) == 20
    first_step = body["sections"][0]["steps"][0]
    assert len(first_step["viewership"]) == 4
    assert len(first_step["viewership"][0]["engagements"]) == 1
    assert len(small_queries) <= 14


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["x-flowla-api-key", "api-secret", "Authorization"])
def test_owner_and_member_read_analytics_with_any_header(cast, header):
    room = RoomFactory(workspace=cast.workspace, title="Shared")

    for actor in (cast.owner, cast.member):
        response = actor.client(header).get(url(room))
        assert response.status_code == 200
        assert response.json()["title"] == "Shared"


def test_session_client_reads_analytics(cast):
    room = RoomFactory(workspace=cast.workspace)

    assert cast.member.session_client().get(url(room)).status_code == 200


def test_outsider_gets_404_for_another_workspaces_room(cast):
    room = RoomFactory(workspace=cast.workspace)
    own = RoomFactory(workspace=cast.other_workspace)

    response = cast.outsider.client().get(url(room))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert cast.outsider.client().get(url(own)).status_code == 200


def test_unknown_room_is_404_and_anonymous_is_401(cast, anonymous):
    room = RoomFactory(workspace=cast.workspace)

    assert (
        cast.owner.client().get("/api/v2/rooms/00000000-0000-0000-0000-000000000000/analytics")
    ).status_code == 404
    assert cast.owner.client().get("/api/v2/rooms/not-a-uuid/analytics").status_code == 404
    assert anonymous.get(url(room)).status_code == 401
