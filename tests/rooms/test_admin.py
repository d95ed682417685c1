"""The rooms admin: scoped lists, search and filters, nested editing, the engagement summary
and the two room actions."""

import pytest

from rooms.models import Action, Label, Room, RoomMember, Step
from tests.rooms.factories import (
    ActionFactory,
    CompanyFactory,
    ContactFactory,
    EngagementFactory,
    LabelFactory,
    RoomContactFactory,
    RoomFactory,
    RoomStatusFactory,
    SectionFactory,
    StepFactory,
    VisitFactory,
    room_admin_form,
)

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/rooms/room/"


def _staff(actor):
    actor.user.is_staff = True
    actor.user.save()
    return actor.user


@pytest.fixture
def owner_client(client, cast):
    client.force_login(_staff(cast.owner))
    return client


@pytest.fixture
def member_client(client, cast):
    client.force_login(_staff(cast.member))
    return client


def _listed(response):
    return list(response.context["cl"].result_list)


def test_changelist_is_scoped_and_shows_totals(owner_client, room, other_room):
    VisitFactory(room=room)
    VisitFactory(room=room)
    EngagementFactory(step=StepFactory(section=SectionFactory(room=room)))

    response = owner_client.get(CHANGELIST)

    assert response.status_code == 200
    (listed,) = _listed(response)
    assert listed == room
    assert (listed.total_views, listed.total_unique_views, listed.total_engagements) == (2, 2, 1)
    assert other_room.title not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("hs-77", "linked"),
        ("0064x000009abcD", "linked"),
        ("attio-9", "linked"),
        ("Initech", "linked"),
        ("buyer@initech.example", "linked"),
        ("Unrelated", "other"),
    ],
)
def test_search(owner_client, cast, query, match):
    rooms = {
        "linked": RoomFactory(
            workspace=cast.workspace,
            title="Linked",
            hs_deal_id="hs-77",
            sf_opportunity_id="0064x000009abcD",
            attio_deal_id="attio-9",
            company=CompanyFactory(workspace=cast.workspace, name="Initech"),
        ),
        "other": RoomFactory(workspace=cast.workspace, title="Unrelated"),
    }
    RoomContactFactory(
        room=rooms["linked"],
        contact=ContactFactory(workspace=cast.workspace, email="buyer@initech.example"),
    )

    assert _listed(owner_client.get(CHANGELIST, {"q": query})) == [rooms[match]]


def test_filters(owner_client, cast):
    status = RoomStatusFactory(workspace=cast.workspace)
    label = LabelFactory(workspace=cast.workspace)
    with_status = RoomFactory(workspace=cast.workspace, status=status, label=label)
    template = RoomFactory(workspace=cast.workspace, is_template=True)
    archived = RoomFactory(workspace=cast.workspace, archived=True, owner=cast.member.user)

    def listed(**params):
        return _listed(owner_client.get(CHANGELIST, params))

    assert listed(status__id__exact=status.id) == [with_status]
    assert listed(label__id__exact=label.id) == [with_status]
    assert listed(owner__id__exact=cast.member.user.id) == [archived]
    assert listed(is_template__exact=1) == [template]
    assert listed(archived__exact=1) == [archived]


def test_change_page_shows_the_engagement_summary(owner_client, room):
    VisitFactory(room=room)

    response = owner_client.get(f"{CHANGELIST}{room.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Unique viewers" in page
    assert "Task completed" in page


def test_add_page_renders(owner_client):
    response = owner_client.get(f"{CHANGELIST}add/")
    assert response.status_code == 200
    assert "engagement summary" in response.content.decode().lower()


def test_a_new_section_on_the_add_page_offers_its_own_pages_and_action_items(owner_client):
    """The template of a new section carries its nested "add another" rows, so a section,
    its pages and action items are added in one save (tests/browser/test_room_page.py)."""
    page = owner_client.get(f"{CHANGELIST}add/").content.decode()
    assert 'name="sections-__prefix__-steps-__prefix__-title"' in page
    assert 'name="sections-__prefix__-actions-__prefix__-title"' in page
    assert page.count('class="add-row') == 3  # sections, and a new section's pages and actions


def test_another_workspace_room_cannot_be_opened(owner_client, other_room):
    response = owner_client.get(f"{CHANGELIST}{other_room.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert other_room.title not in response.content.decode()


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_nested_editing_of_sections_pages_and_actions(owner_client, cast, room):
    section = SectionFactory(room=room, title="Welcome", position=0)
    data = room_admin_form(
        room.workspace_id,
        title=room.title,
        **{"sections-TOTAL_FORMS": 2, "sections-INITIAL_FORMS": 1},
    )
    data |= {
        "sections-0-id": section.id,
        "sections-0-room": room.id,
        "sections-0-title": "Welcome (edited)",
        "sections-0-access": "visible",
        "sections-0-position": 0,
        **_management("sections-0-steps", 1),
        "sections-0-steps-0-section": section.id,
        "sections-0-steps-0-title": "Intro",
        "sections-0-steps-0-access": "locked",
        "sections-0-steps-0-position": 0,
        **_management("sections-0-actions", 1),
        "sections-0-actions-0-section": section.id,
        "sections-0-actions-0-title": "Sign NDA",
        "sections-0-actions-0-status": "todo",
        "sections-0-actions-0-access": "visible",
        "sections-0-actions-0-description": "",
        "sections-0-actions-0-action_type": "",
        "sections-0-actions-0-position": 0,
        "sections-1-room": room.id,
        "sections-1-title": "Plan",
        "sections-1-access": "hidden",
        "sections-1-position": 1,
        **_management("sections-1-steps", 1),
        "sections-1-steps-0-title": "Timeline",
        "sections-1-steps-0-access": "visible",
        "sections-1-steps-0-position": 0,
        **_management("sections-1-actions", 0),
    }

    response = owner_client.post(f"{CHANGELIST}{room.pk}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    sections = list(room.sections.all())
    assert [(s.title, s.access) for s in sections] == [
        ("Welcome (edited)", "visible"),
        ("Plan", "hidden"),
    ]
    steps = Step.objects.filter(section__room=room).order_by("title")
    assert [(s.section.title, s.title, s.access) for s in steps] == [
        ("Welcome (edited)", "Intro", "locked"),
        ("Plan", "Timeline", "visible"),
    ]
    action = Action.objects.get(section=section)
    assert action.title == "Sign NDA"
    for row in [*sections, *steps, action]:
        assert row.workspace_id == cast.workspace.id


def test_adding_a_room_generates_the_slug_and_owner_flag(owner_client, cast):
    RoomFactory(workspace=cast.workspace, slug="big-deal")
    data = room_admin_form(cast.workspace.pk, title="Big deal")
    data["owner"] = cast.member.user.id

    response = owner_client.post(f"{CHANGELIST}add/", data)

    assert response.status_code == 302
    room = Room.objects.get(title="Big deal", slug="big-deal-2")
    assert RoomMember.objects.get(room=room).user == cast.member.user


def test_staff_cannot_add_a_room_to_another_workspace(owner_client, cast):
    data = room_admin_form(cast.other_workspace.pk, title="Sneaky")
    owner_client.post(f"{CHANGELIST}add/", data)
    assert not Room.objects.filter(title="Sneaky").exists()


def test_duplicate_room_action(owner_client, room):
    section = SectionFactory(room=room, title="Welcome")
    ActionFactory(section=section, title="Sign")
    VisitFactory(room=room)

    response = owner_client.post(
        CHANGELIST, {"action": "duplicate_rooms", "_selected_action": [room.pk]}
    )

    assert response.status_code == 302
    copy = Room.objects.get(title=f"Copy of {room.title}")
    assert [s.title for s in copy.sections.all()] == ["Welcome"]
    assert Action.objects.get(section__room=copy).title == "Sign"
    assert not copy.visits.exists()


def test_create_room_from_template_action(owner_client, cast, room):
    template = RoomFactory(workspace=cast.workspace, title="Playbook", is_template=True)
    SectionFactory(room=template, title="Discovery")

    response = owner_client.post(
        CHANGELIST,
        {"action": "create_from_templates", "_selected_action": [template.pk, room.pk]},
        follow=True,
    )

    created = Room.objects.get(title="Playbook", is_template=False)
    assert [s.title for s in created.sections.all()] == ["Discovery"]
    assert Room.objects.filter(title=room.title).count() == 1  # not a template: skipped
    assert "Skipped rooms that are not templates." in response.content.decode()


def test_a_member_may_view_but_not_change(member_client, room):
    assert member_client.get(f"{CHANGELIST}{room.pk}/change/").status_code == 200
    member_client.post(CHANGELIST, {"action": "duplicate_rooms", "_selected_action": [room.pk]})
    response = member_client.post(
        f"{CHANGELIST}{room.pk}/change/", room_admin_form(room.workspace_id, title="X")
    )
    assert response.status_code == 403
    assert Room.objects.get().title == room.title


@pytest.mark.parametrize(
    ("path", "factory"),
    [
        ("company", CompanyFactory),
        ("contact", ContactFactory),
        ("roomstatus", RoomStatusFactory),
        ("label", LabelFactory),
    ],
)
def test_lookup_admins_are_scoped(owner_client, cast, path, factory):
    mine = factory(workspace=cast.workspace)
    theirs = factory(workspace=cast.other_workspace)

    response = owner_client.get(f"/admin/rooms/{path}/")

    assert response.status_code == 200
    assert _listed(response) == [mine]
    assert owner_client.get(f"/admin/rooms/{path}/{theirs.pk}/change/").status_code in (302, 404)


def test_labels_are_editable(owner_client, cast):
    response = owner_client.post(
        "/admin/rooms/label/add/", {"workspace": cast.workspace.id, "name": "Hot", "color": "#f00"}
    )

    assert response.status_code == 302
    assert Label.objects.get(name="Hot").workspace == cast.workspace
