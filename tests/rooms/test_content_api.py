"""Sections, pages, action items and the lookup lists."""

import uuid
from datetime import UTC, datetime

import pytest

from rooms.models import Action, ActionAssignee, Contact, Section, Step
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import (
    ActionAssigneeFactory,
    ActionFactory,
    CompanyFactory,
    ContactFactory,
    EngagementFactory,
    LabelFactory,
    RoomFactory,
    RoomStatusFactory,
    SectionFactory,
    StepFactory,
    ViewershipFactory,
)

pytestmark = pytest.mark.django_db


# --- sections -----------------------------------------------------------------------------------


def test_create_sections_in_order(cast, room):
    SectionFactory(room=room, position=4)

    response = cast.member.client().post(
        "/api/v2/sections",
        {
            "roomId": str(room.id),
            "sections": [
                {"title": "Welcome"},
                {"title": "Plan", "access": "hidden"},
                {"title": "Pinned", "position": 0},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    created = response.json()
    assert [(s["title"], s["position"], s["access"]) for s in created] == [
        ("Welcome", 5, "visible"),
        ("Plan", 6, "hidden"),
        ("Pinned", 0, "visible"),
    ]
    assert created[1]["isVisibleToExternal"] is False
    assert created[0]["roomId"] == str(room.id)
    assert created[0]["isCompleted"] is False
    assert Section.objects.filter(room=room, workspace=cast.workspace).count() == 4


def test_list_sections_by_position(cast, room):
    second = SectionFactory(room=room, position=1, title="Second")
    first = SectionFactory(room=room, position=0, title="First")
    SectionFactory(room=RoomFactory(workspace=cast.workspace))

    response = cast.owner.client().get("/api/v2/sections", {"roomId": str(room.id)})

    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [str(first.id), str(second.id)]


def test_patch_and_delete_a_section(cast, room):
    section = SectionFactory(room=room, title="Old", access="visible")
    step = StepFactory(section=section)
    action = ActionFactory(section=section, step=step)
    EngagementFactory(step=step)
    client = cast.owner.client()

    response = client.patch(
        f"/api/v2/sections/{section.id}",
        {"isCompleted": True, "access": "locked", "position": 3},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["isCompleted"]) == ("Old", True)
    section.refresh_from_db()
    assert (section.access, section.position, section.is_completed) == ("locked", 3, True)

    assert client.delete(f"/api/v2/sections/{section.id}").status_code == 204
    assert not Section.objects.filter(pk=section.pk).exists()
    assert not Step.objects.filter(pk=step.pk).exists()
    assert not Action.objects.filter(pk=action.pk).exists()
    assert not room.engagements.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sections": []}, "sections"),
        ({"sections": [{"title": ""}]}, "sections.0.title"),
        ({"sections": [{"title": "A", "access": "public"}]}, "sections.0.access"),
        ({"sections": [{"title": "A", "position": -1}]}, "sections.0.position"),
        ({"sections": [{"title": "A", "color": "red"}]}, "sections.0.color"),
        ({"sections": [{"title": "A"}], "extra": 1}, "extra"),
        ({"roomId": str(uuid.uuid4()), "sections": [{"title": "A"}]}, "roomId"),
    ],
)
def test_create_sections_validation(cast, room, body, field):
    response = cast.owner.client().post(
        "/api/v2/sections", {"roomId": str(room.id)} | body, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Section.objects.exists()


def test_sections_cast(cast, room, other_room):
    section = SectionFactory(room=room)
    outsider = cast.outsider.client()

    assert outsider.get("/api/v2/sections", {"roomId": str(room.id)}).status_code == 404
    response = outsider.post(
        "/api/v2/sections", {"roomId": str(room.id), "sections": [{"title": "x"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"roomId": [f'Object "{room.id}" does not exist.']}
    assert (
        outsider.patch(f"/api/v2/sections/{section.id}", {"title": "x"}, format="json").status_code
        == 404
    )
    assert outsider.delete(f"/api/v2/sections/{section.id}").status_code == 404
    assert Section.objects.filter(pk=section.pk, title=section.title).exists()
    assert cast.member.client().get("/api/v2/sections", {"roomId": str(room.id)}).status_code == 200
    assert cast.owner.client().get("/api/v2/sections").status_code == 400


# --- pages --------------------------------------------------------------------------------------


def test_pages_create_list_patch_delete(cast, room):
    section = SectionFactory(room=room)
    client = cast.member.client()

    response = client.post(
        "/api/v2/pages",
        {
            "sectionId": str(section.id),
            "pages": [{"title": "Intro"}, {"title": "Pricing", "access": "restricted"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    intro, pricing = response.json()
    assert (intro["position"], pricing["position"], pricing["access"]) == (0, 1, "restricted")
    assert intro["sectionId"] == str(section.id)
    listed = client.get("/api/v2/pages", {"sectionId": str(section.id)}).json()
    assert [p["title"] for p in listed] == ["Intro", "Pricing"]

    response = client.patch(f"/api/v2/pages/{intro['id']}", {"access": "hidden"}, format="json")
    assert response.status_code == 200
    assert response.json()["isVisibleToExternal"] is False

    assert client.delete(f"/api/v2/pages/{pricing['id']}").status_code == 204
    assert list(Step.objects.values_list("title", flat=True)) == ["Intro"]


def test_pages_validation_and_cast(cast, room):
    page = StepFactory(section=SectionFactory(room=room))
    client, outsider = cast.owner.client(), cast.outsider.client()

    response = client.patch(f"/api/v2/pages/{page.id}", {"title": None}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["title"]
    assert client.get("/api/v2/pages", {"sectionId": "nope"}).status_code == 400
    assert client.get("/api/v2/pages", {"sectionId": str(uuid.uuid4())}).status_code == 404
    assert outsider.get("/api/v2/pages", {"sectionId": str(page.section_id)}).status_code == 404
    assert (
        outsider.patch(f"/api/v2/pages/{page.id}", {"title": "x"}, format="json").status_code == 404
    )
    assert outsider.delete(f"/api/v2/pages/{page.id}").status_code == 404
    response = outsider.post(
        "/api/v2/pages",
        {"sectionId": str(page.section_id), "pages": [{"title": "x"}]},
        format="json",
    )
    assert list(response.json()["error"]["fields"]) == ["sectionId"]
    assert Step.objects.count() == 1


# --- action items -------------------------------------------------------------------------------


def test_create_action_items_with_assignees(cast, room):
    section = SectionFactory(room=room)
    existing = ContactFactory(workspace=cast.workspace, email="morgan@acme.example", name="Morgan")
    stranger = UserFactory(email="stranger@example.com")  # a user, but not a member

    response = cast.member.client().post(
        "/api/v2/action-items",
        {
            "sectionId": str(section.id),
            "items": [
                {
                    "title": "Sign NDA",
                    "description": "Countersign",
                    "status": "in_progress",
                    "startDate": "2026-05-01T09:00:00Z",
                    "dueDate": "2026-05-11T22:00:00.000Z",
                    "internal": False,
                    "actionType": "fill-form",
                    "assignees": [
                        cast.owner.user.email.upper(),
                        "MORGAN@acme.example",
                        "new.person@acme.example",
                        "stranger@example.com",
                        "morgan@acme.example",
                    ],
                },
                {"title": "Kickoff", "internal": True},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    nda, kickoff = response.json()
    assert nda["title"] == "Sign NDA"
    assert (nda["status"], nda["actionType"], nda["internal"]) == (
        "in_progress",
        "fill-form",
        False,
    )
    assert nda["startDate"] == "2026-05-01T09:00:00.000Z"
    assert nda["dueDate"] == "2026-05-11T22:00:00.000Z"
    assert (nda["position"], kickoff["position"]) == (0, 1)
    assert nda["pageId"] is None
    assert sorted((a["type"], a["email"]) for a in nda["assignees"]) == [
        ("contact", "morgan@acme.example"),
        ("contact", "new.person@acme.example"),
        ("contact", "stranger@example.com"),
        ("user", cast.owner.user.email),
    ]
    assert (kickoff["status"], kickoff["internal"], kickoff["assignees"]) == ("todo", True, [])
    assert kickoff["dueDate"] is None
    contacts = set(Contact.objects.filter(workspace=cast.workspace).values_list("email", flat=True))
    assert contacts == {"morgan@acme.example", "new.person@acme.example", "stranger@example.com"}
    assert ActionAssignee.objects.get(contact=existing).action_id == uuid.UUID(nda["id"])
    assert not ActionAssignee.objects.filter(user=stranger).exists()


def test_action_items_on_a_page(cast, room):
    page = StepFactory(section=SectionFactory(room=room))
    ActionFactory(section=page.section, title="Section-level")
    client = cast.owner.client()

    response = client.post(
        "/api/v2/action-items",
        {"pageId": str(page.id), "items": [{"title": "On the page"}]},
        format="json",
    )

    assert response.status_code == 201
    created = response.json()[0]
    assert (created["pageId"], created["sectionId"]) == (str(page.id), str(page.section_id))
    on_page = client.get("/api/v2/action-items", {"pageId": str(page.id)}).json()
    assert [a["title"] for a in on_page] == ["On the page"]
    in_section = client.get("/api/v2/action-items", {"sectionId": str(page.section_id)}).json()
    assert [a["title"] for a in in_section] == ["Section-level", "On the page"]


def test_patch_action_item_replaces_assignees(cast, room):
    action = ActionFactory(
        section=SectionFactory(room=room), due_date=datetime(2026, 5, 1, tzinfo=UTC)
    )
    ActionAssigneeFactory(action=action)
    client = cast.owner.client()

    response = client.patch(
        f"/api/v2/action-items/{action.id}",
        {"status": "done", "dueDate": None, "assignees": [cast.member.user.email]},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["dueDate"], body["title"]) == ("done", None, action.title)
    assert body["assignees"] == [
        {"type": "user", "email": cast.member.user.email, "name": cast.member.user.full_name}
    ]

    response = client.patch(
        f"/api/v2/action-items/{action.id}", {"title": "Renamed"}, format="json"
    )
    assert [a["email"] for a in response.json()["assignees"]] == [cast.member.user.email]
    response = client.patch(f"/api/v2/action-items/{action.id}", {"assignees": []}, format="json")
    assert response.json()["assignees"] == []


def test_delete_action_item_with_its_activity(cast, room):
    action = ActionFactory(section=SectionFactory(room=room))
    ViewershipFactory(action=action)

    assert cast.member.client().delete(f"/api/v2/action-items/{action.id}").status_code == 204
    assert not Action.objects.exists()
    assert not room.viewerships.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"title": "A", "status": "blocked"}]}, "items.0.status"),
        ({"items": [{"title": "A", "dueDate": "next week"}]}, "items.0.dueDate"),
        ({"items": [{"title": "A", "assignees": ["not-an-email"]}]}, "items.0.assignees.0"),
        ({"items": [{"description": "no title"}]}, "items.0.title"),
        ({"items": [{"title": "A", "owner": "x"}]}, "items.0.owner"),
        ({"items": []}, "items"),
        ({"pageId": str(uuid.uuid4()), "items": [{"title": "A"}]}, "pageId"),
    ],
)
def test_create_action_items_validation(cast, room, body, field):
    section = SectionFactory(room=room)
    response = cast.owner.client().post(
        "/api/v2/action-items", {"sectionId": str(section.id)} | body, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Action.objects.exists()
    assert not Contact.objects.exists()


def test_action_items_need_exactly_one_parent(cast, room):
    page = StepFactory(section=SectionFactory(room=room))
    client = cast.owner.client()
    both = {"sectionId": str(page.section_id), "pageId": str(page.id)}

    assert client.get("/api/v2/action-items").status_code == 400
    assert client.get("/api/v2/action-items", both).status_code == 400
    response = client.post("/api/v2/action-items", {"items": [{"title": "A"}]}, format="json")
    assert response.status_code == 400


def test_action_items_cast(cast, room):
    action = ActionFactory(section=SectionFactory(room=room))
    outsider = cast.outsider.client()

    assert (
        outsider.get("/api/v2/action-items", {"sectionId": str(action.section_id)}).status_code
        == 404
    )
    assert (
        outsider.patch(
            f"/api/v2/action-items/{action.id}", {"title": "x"}, format="json"
        ).status_code
        == 404
    )
    assert outsider.delete(f"/api/v2/action-items/{action.id}").status_code == 404
    response = outsider.post(
        "/api/v2/action-items",
        {"sectionId": str(action.section_id), "items": [{"title": "x"}]},
        format="json",
    )
    assert list(response.json()["error"]["fields"]) == ["sectionId"]
    assert Action.objects.count() == 1
    member = cast.member.client()
    assert (
        member.get("/api/v2/action-items", {"sectionId": str(action.section_id)}).status_code == 200
    )


def test_action_item_list_query_count_is_fixed(cast, room, django_assert_max_num_queries):
    section = SectionFactory(room=room)
    client = cast.owner.client()
    ActionAssigneeFactory(action=ActionFactory(section=section))
    with django_assert_max_num_queries(9) as small:
        client.get("/api/v2/action-items", {"sectionId": str(section.id)})
    for _ in range(10):
        action = ActionFactory(section=section)
        ActionAssigneeFactory(action=action)
        ActionAssigneeFactory(action=action, user=cast.member.user, contact=None)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/api/v2/action-items", {"sectionId": str(section.id)})
    assert len(response.json()) == 11


def test_bulk_create_query_count_is_fixed(cast, room, django_assert_max_num_queries):
    section = SectionFactory(room=room)
    client = cast.owner.client()

    def create(count):
        items = [
            {"title": f"Item {n}", "assignees": [f"p{n}@acme.example", cast.member.user.email]}
            for n in range(count)
        ]
        return client.post(
            "/api/v2/action-items", {"sectionId": str(section.id), "items": items}, format="json"
        )

    with django_assert_max_num_queries(20) as small:
        create(1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert create(40).status_code == 201


# --- lookups ------------------------------------------------------------------------------------


def test_statuses(cast):
    default = RoomStatusFactory(workspace=cast.workspace, title="Open", is_default=True, position=0)
    won = RoomStatusFactory(workspace=cast.workspace, title="Won", position=1)
    RoomStatusFactory(workspace=cast.other_workspace)

    response = cast.member.client().get("/api/v2/statuses")

    assert response.status_code == 200
    assert response.json() == [
        {"id": str(default.id), "title": "Open", "defaultStatus": True},
        {"id": str(won.id), "title": "Won", "defaultStatus": False},
    ]


def test_companies_labels_templates_paged(cast):
    companies = [CompanyFactory(workspace=cast.workspace, name=f"C{n}") for n in range(3)]
    CompanyFactory(workspace=cast.other_workspace)
    label = LabelFactory(workspace=cast.workspace, name="Hot", color="#f00")
    template = RoomFactory(workspace=cast.workspace, is_template=True, title="Playbook")
    RoomFactory(workspace=cast.workspace)
    client = cast.owner.client()

    page = client.get("/api/v2/companies", {"limit": 2, "page": 2}).json()
    assert (page["total"], page["page"], page["limit"]) == (3, 2, 2)
    assert [c["id"] for c in page["results"]] == [str(companies[2].id)]
    assert set(page["results"][0]) == {"id", "name", "domain", "brandColor"}
    assert client.get("/api/v2/labels").json()["results"] == [
        {"id": str(label.id), "name": "Hot", "color": "#f00"}
    ]
    templates = client.get("/api/v2/templates").json()
    assert [t["id"] for t in templates["results"]] == [str(template.id)]
    assert client.get("/api/v2/companies", {"limit": 0}).status_code == 400


def test_users_are_the_workspace_members(cast):
    MembershipFactory(workspace=cast.other_workspace)

    response = cast.owner.client().get("/api/v2/users")

    results = response.json()["results"]
    assert sorted((u["id"], u["role"]) for u in results) == sorted(
        [(str(cast.owner.user.id), "owner"), (str(cast.member.user.id), "member")]
    )
    assert response.json()["total"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/statuses",
        "/api/v2/companies",
        "/api/v2/labels",
        "/api/v2/users",
        "/api/v2/templates",
    ],
)
def test_lookups_cast(cast, anonymous, path):
    outsider_rows = cast.outsider.client().get(path).json()
    RoomStatusFactory(workspace=cast.workspace)
    CompanyFactory(workspace=cast.workspace)
    LabelFactory(workspace=cast.workspace)
    RoomFactory(workspace=cast.workspace, is_template=True)

    assert cast.member.client().get(path).status_code == 200
    assert cast.outsider.client().get(path).json() == outsider_rows
    assert anonymous.get(path).status_code == 401
