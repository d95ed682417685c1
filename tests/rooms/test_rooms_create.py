"""POST /api/v2/rooms: the four modes and every validation rule."""

import uuid

import pytest

from rooms.models import Action, ActionAssignee, Contact, Room, RoomContact, RoomMember, Step
from tests.concurrency import insert_committed_while_waited_for
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
    VisitFactory,
)

URL = "/api/v2/rooms"
pytestmark = pytest.mark.django_db

ZERO_ENGAGEMENTS = {
    "clicks": 0,
    "comments": 0,
    "downloads": 0,
    "reactions": 0,
    "shares": 0,
    "views": 0,
    "tasksCompleted": 0,
}


def test_blank_room(cast):
    response = cast.owner.client().post(URL, {"title": "Acme deal"}, format="json")

    assert response.status_code == 201
    body = response.json()
    room = Room.objects.get(pk=body["id"])
    assert room.workspace == cast.workspace
    assert body == {
        "id": str(room.id),
        "title": "Acme deal",
        "userId": None,
        "companyId": None,
        "createdAt": room.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "updatedAt": room.updated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "totalEngagements": 0,
        "lastEngagedAt": None,
        "totalViews": 0,
        "totalUniqueViews": 0,
        "engagements": ZERO_ENGAGEMENTS,
        "coverTitle": None,
        "coverDescription": None,
        "coverDisabled": False,
        "themeColor": None,
        "navColor": None,
        "description": None,
        "statusId": None,
        "labelId": None,
        "hsDealId": None,
        "sfOpportunityId": None,
        "attioDealId": None,
        "isTemplate": False,
        "email": None,
        "slug": "acme-deal",
    }
    assert not room.sections.exists()


def test_room_with_every_field(cast):
    company = CompanyFactory(workspace=cast.workspace)
    status = RoomStatusFactory(workspace=cast.workspace)
    label = LabelFactory(workspace=cast.workspace)
    body = {
        "title": "Acme deal",
        "description": "Mutual plan",
        "companyId": str(company.id),
        "statusId": str(status.id),
        "labelId": str(label.id),
        "userId": str(cast.member.user.id),
        "email": "Morgan.Lee@Acme.example",
        "hsDealId": "123456",
        "sfOpportunityId": "0064x000009abcDAAQ",
        "attioDealId": "deal-abc-123",
        "coverTitle": "Welcome",
        "coverDescription": "Everything in one place",
        "coverDisabled": True,
        "themeColor": "#FF5500",
        "navColor": "target-company-color",
    }

    response = cast.member.client().post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    for name in ("title", "description", "companyId", "statusId", "labelId", "userId"):
        assert data[name] == body[name]
    for name in ("hsDealId", "sfOpportunityId", "attioDealId", "coverTitle", "coverDescription"):
        assert data[name] == body[name]
    assert data["coverDisabled"] is True
    assert data["themeColor"] == "#FF5500"
    assert data["navColor"] == "target-company-color"
    assert data["email"] == "morgan.lee@acme.example"
    room = Room.objects.get(pk=data["id"])
    contact = Contact.objects.get(workspace=cast.workspace)
    assert room.primary_contact == contact
    assert room.owner == cast.member.user
    assert RoomMember.objects.get(room=room).is_room_owner
    assert RoomContact.objects.get(room=room, contact=contact).is_primary_contact


def test_an_existing_contact_is_reused_whatever_the_case(cast):
    contact = ContactFactory(workspace=cast.workspace, email="morgan@acme.example")
    ContactFactory(workspace=cast.other_workspace, email="morgan@acme.example")

    response = cast.owner.client().post(
        URL, {"title": "Acme", "email": "MORGAN@acme.example"}, format="json"
    )

    assert response.status_code == 201
    assert Room.objects.get(pk=response.json()["id"]).primary_contact == contact
    assert Contact.objects.filter(workspace=cast.workspace).count() == 1


def test_the_default_status_is_used_without_status_id(cast):
    RoomStatusFactory(workspace=cast.workspace, title="Other")
    default = RoomStatusFactory(workspace=cast.workspace, title="Open", is_default=True)

    response = cast.owner.client().post(URL, {"title": "Acme"}, format="json")

    assert response.json()["statusId"] == str(default.id)


def test_slugs_are_unique_per_workspace(cast):
    RoomFactory(workspace=cast.workspace, slug="acme")
    RoomFactory(workspace=cast.workspace, slug="acme-2")
    RoomFactory(workspace=cast.other_workspace, slug="acme-3")

    response = cast.owner.client().post(URL, {"title": "Acme"}, format="json")

    assert response.json()["slug"] == "acme-3"


@pytest.mark.django_db(transaction=True)
def test_a_slug_taken_by_a_concurrent_create_is_retried_not_a_500(cast):
    """Another transaction inserts slug "acme" after this request found it free: the
    request's insert waits, hits the unique constraint, and retries with a suffix."""
    with insert_committed_while_waited_for(
        lambda: RoomFactory(workspace=cast.workspace, title="Acme", slug="acme")
    ):
        response = cast.owner.client().post(URL, {"title": "Acme"}, format="json")

    assert response.status_code == 201
    assert response.json()["slug"].startswith("acme-")
    assert Room.objects.for_workspace(cast.workspace).filter(title="Acme").count() == 2


def _structured_room(workspace, **room_fields):
    """A room with two sections, a page, two action items (one on the page, with a contact
    assignee) and activity on all of it."""
    room = RoomFactory(workspace=workspace, **room_fields)
    intro = SectionFactory(room=room, title="Welcome", position=0, access="visible")
    plan = SectionFactory(room=room, title="Plan", position=1, access="hidden", is_completed=True)
    page = StepFactory(section=intro, title="Introduction", position=0, access="locked")
    on_page = ActionFactory(section=intro, step=page, title="Read intro", position=0)
    sign = ActionFactory(section=plan, title="Sign NDA", position=0, status="in_progress")
    ActionAssigneeFactory(action=sign)
    VisitFactory(room=room)
    EngagementFactory(step=page)
    ViewershipFactory(action=on_page)
    return room, {"sections": [intro, plan], "page": page, "actions": [on_page, sign]}


def _structure(room):
    sections = [(s.title, s.position, s.access, s.is_completed) for s in room.sections.all()]
    steps = [(s.section.title, s.title, s.access) for s in Step.objects.filter(section__room=room)]
    actions = sorted(
        (a.section.title, a.step.title if a.step else None, a.title, a.status)
        for a in Action.objects.filter(section__room=room)
    )
    return sections, steps, actions


def test_from_template_copies_structure_and_never_activity(cast):
    template, parts = _structured_room(
        cast.workspace, is_template=True, cover_title="Template cover", theme_color="#123"
    )

    response = cast.owner.client().post(
        URL,
        {"title": "Acme", "templateId": str(template.id), "themeColor": "#abcdef"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    room = Room.objects.get(pk=response.json()["id"])
    assert not room.is_template
    assert _structure(room) == (
        [("Welcome", 0, "visible", False), ("Plan", 1, "hidden", True)],
        [("Welcome", "Introduction", "locked")],
        [
            ("Plan", None, "Sign NDA", "in_progress"),
            ("Welcome", "Introduction", "Read intro", "todo"),
        ],
    )
    new_ids = set(room.sections.values_list("id", flat=True))
    assert new_ids.isdisjoint({section.id for section in parts["sections"]})
    copied_sign = Action.objects.get(section__room=room, title="Sign NDA")
    assert ActionAssignee.objects.get(action=copied_sign).contact == (
        ActionAssignee.objects.get(action=parts["actions"][1]).contact
    )
    assert not room.visits.exists()
    assert not room.engagements.exists()
    assert not room.viewerships.exists()
    assert room.cover_title == "Template cover"  # inherited
    assert room.theme_color == "#abcdef"  # the body wins
    assert _structure(template)[0][0] == ("Welcome", 0, "visible", False)  # untouched


def test_duplicate_wins_over_template(cast):
    template = RoomFactory(workspace=cast.workspace, is_template=True)
    SectionFactory(room=template, title="From the template")
    source, _ = _structured_room(cast.workspace)

    response = cast.owner.client().post(
        URL,
        {"title": "Copy", "templateId": str(template.id), "duplicateFromId": str(source.id)},
        format="json",
    )

    assert response.status_code == 201
    room = Room.objects.get(pk=response.json()["id"])
    assert _structure(room) == _structure(source)
    assert not room.visits.exists()


@pytest.mark.parametrize(
    "template_id",
    [str(uuid.uuid4()), "not-a-uuid", 0, "room"],
    ids=["unknown", "malformed", "wrong type", "not a template"],
)
def test_template_id_is_ignored_when_duplicate_from_id_is_set(cast, template_id):
    """Spec 001: templateId is "Ignored when duplicateFromId is set": not even validated."""
    source, _ = _structured_room(cast.workspace)
    if template_id == "room":
        template_id = str(RoomFactory(workspace=cast.workspace).id)

    response = cast.owner.client().post(
        URL,
        {"title": "Copy", "templateId": template_id, "duplicateFromId": str(source.id)},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert _structure(Room.objects.get(pk=response.json()["id"])) == _structure(source)


def test_with_crm_links(cast):
    response = cast.owner.client().post(
        URL,
        {"title": "Deal", "hsDealId": "987", "sfOpportunityId": "0064x000009abcD"},
        format="json",
    )

    assert response.status_code == 201
    room = Room.objects.get(pk=response.json()["id"])
    assert (room.hs_deal_id, room.sf_opportunity_id, room.attio_deal_id) == (
        "987",
        "0064x000009abcD",
        "",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("themeColor", "#FFF"),
        ("themeColor", "#a1b2c3"),
        ("navColor", "#000"),
        ("navColor", "flow-org-color"),
        ("navColor", "target-company-color"),
        ("sfOpportunityId", "0064x000009abcD"),
        ("sfOpportunityId", "0064x000009abcDAAQ"),
        ("title", "x" * 255),
    ],
)
def test_valid_values(cast, field, value):
    body = {"title": "Acme", field: value}
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 201, response.json()


def _ids(cast):
    """Ids that exist, but in the outsider's workspace."""
    other = cast.other_workspace
    return {
        "companyId": str(CompanyFactory(workspace=other).id),
        "statusId": str(RoomStatusFactory(workspace=other).id),
        "labelId": str(LabelFactory(workspace=other).id),
        "templateId": str(RoomFactory(workspace=other, is_template=True).id),
        "duplicateFromId": str(RoomFactory(workspace=other).id),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"themeColor": "red"}, "themeColor"),
        ({"themeColor": "#12345"}, "themeColor"),
        ({"themeColor": "#GGG"}, "themeColor"),
        ({"themeColor": "#FFFF"}, "themeColor"),
        ({"navColor": "blue"}, "navColor"),
        ({"navColor": "flow-org-colour"}, "navColor"),
        ({"sfOpportunityId": "0064x000009abc"}, "sfOpportunityId"),
        ({"sfOpportunityId": "0064x000009abcDA"}, "sfOpportunityId"),
        ({"sfOpportunityId": "0064x000009abc-"}, "sfOpportunityId"),
        ({"email": "not-an-email"}, "email"),
        ({"coverDisabled": "maybe"}, "coverDisabled"),
        ({"unknownField": 1}, "unknownField"),
        ({"isTemplate": True}, "isTemplate"),
        ({"companyId": "not-a-uuid"}, "companyId"),
        ({"companyId": str(uuid.uuid4())}, "companyId"),
        ({"statusId": str(uuid.uuid4())}, "statusId"),
        ({"labelId": str(uuid.uuid4())}, "labelId"),
        ({"templateId": str(uuid.uuid4())}, "templateId"),
        ({"duplicateFromId": str(uuid.uuid4())}, "duplicateFromId"),
        ({"userId": "abc"}, "userId"),
        ({"userId": "999999999"}, "userId"),
        ({"userId": str(2**70)}, "userId"),
    ],
)
def test_invalid_body(cast, body, field):
    response = cast.owner.client().post(URL, {"title": "Acme"} | body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Room.objects.exists()


def test_title_is_required(cast):
    response = cast.owner.client().post(URL, {"description": "no title"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"title": ["This field is required."]}


@pytest.mark.parametrize(
    "field", ["companyId", "statusId", "labelId", "templateId", "duplicateFromId"]
)
def test_ids_of_another_workspace_do_not_exist(cast, field):
    other_id = _ids(cast)[field]
    rooms_before = Room.objects.count()

    response = cast.owner.client().post(URL, {"title": "Acme", field: other_id}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [f'Object "{other_id}" does not exist.']}
    assert Room.objects.count() == rooms_before


def test_owner_must_be_a_workspace_member(cast):
    stranger = UserFactory()
    outsider_id = cast.outsider.user.id
    for user_id in (stranger.id, outsider_id):
        response = cast.owner.client().post(
            URL, {"title": "Acme", "userId": str(user_id)}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["userId"]
    MembershipFactory(user=stranger, workspace=cast.workspace)
    response = cast.owner.client().post(
        URL, {"title": "Acme", "userId": stranger.id}, format="json"
    )
    assert response.status_code == 201


def test_template_id_must_be_a_template(cast, room):
    response = cast.owner.client().post(
        URL, {"title": "Acme", "templateId": str(room.id)}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "templateId": [f'Room "{room.id}" is not a template.']
    }


def test_a_body_that_is_not_an_object(cast):
    response = cast.owner.client().post(URL, ["title"], format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("actor", ["owner", "member", "outsider"])
@pytest.mark.parametrize("header", ["x-flowla-api-key", "api-secret", "Authorization"])
def test_cast_creates_rooms_in_their_own_workspace(cast, actor, header):
    person = getattr(cast, actor)

    response = person.client(header).post(URL, {"title": "Mine"}, format="json")

    assert response.status_code == 201
    assert Room.objects.get(pk=response.json()["id"]).workspace == person.workspace


def test_session_and_anonymous(cast, anonymous):
    assert cast.member.session_client().post(URL, {"title": "A"}, format="json").status_code == 201
    response = anonymous.post(URL, {"title": "A"}, format="json")
    assert response.status_code == 401
    assert Room.objects.count() == 1
