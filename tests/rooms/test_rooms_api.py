"""GET/PATCH /api/v2/rooms/{id} and GET /api/v2/rooms (paging, sorting, totals)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from rooms.models import Engagement, Room, RoomMember
from tests.rooms.factories import (
    ActionFactory,
    CompanyFactory,
    ContactFactory,
    EngagementFactory,
    LabelFactory,
    RoomFactory,
    RoomStatusFactory,
    SectionFactory,
    StepFactory,
    VisitFactory,
)

URL = "/api/v2/rooms"
pytestmark = pytest.mark.django_db
T0 = datetime(2026, 5, 5, 14, 30, 44, 260000, tzinfo=UTC)


def url(room):
    return f"{URL}/{room.id}"


# --- GET one ------------------------------------------------------------------------------------


def test_get_a_room_with_its_totals(cast):
    contact = ContactFactory(workspace=cast.workspace, email="morgan@acme.example")
    room = RoomFactory(
        workspace=cast.workspace,
        title="Flowla <> Acme",
        description="Plan",
        primary_contact=contact,
        status=RoomStatusFactory(workspace=cast.workspace),
        label=LabelFactory(workspace=cast.workspace),
        owner=cast.member.user,
        hs_deal_id="42",
        created_at=T0,
    )
    step = StepFactory(section=SectionFactory(room=room))
    VisitFactory(room=room, contact=contact, at=T0 + timedelta(hours=1))
    VisitFactory(room=room, contact=contact, at=T0 + timedelta(hours=2))
    VisitFactory(room=room, user=cast.member.user, contact=None, at=T0)
    EngagementFactory(step=step, contact=contact, type="CLICK", created_at=T0)
    EngagementFactory(step=step, contact=contact, type="SHARE", created_at=T0 + timedelta(hours=3))

    response = cast.member.client().get(url(room))

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Flowla <> Acme"
    assert body["description"] == "Plan"
    assert body["email"] == "morgan@acme.example"
    assert body["userId"] == str(cast.member.user.id)
    assert body["statusId"] == str(room.status_id)
    assert body["labelId"] == str(room.label_id)
    assert body["hsDealId"] == "42"
    assert body["sfOpportunityId"] is None
    assert body["isTemplate"] is False
    assert body["createdAt"] == "2026-05-05T14:30:44.260Z"
    assert body["totalViews"] == 3  # three visits
    assert body["totalUniqueViews"] == 2  # the contact and the member
    assert body["totalEngagements"] == 2
    assert body["lastEngagedAt"] == "2026-05-05T17:30:44.260Z"  # the share, 3 h after T0
    assert body["engagements"] == {
        "clicks": 1,
        "comments": 0,
        "downloads": 0,
        "reactions": 0,
        "shares": 1,
        "views": 0,
        "tasksCompleted": 0,
    }


def test_last_engaged_at_is_the_latest_visit_when_it_is_later(cast, room):
    step = StepFactory(section=SectionFactory(room=room))
    EngagementFactory(step=step, created_at=T0)
    VisitFactory(room=room, at=T0 + timedelta(minutes=5))

    assert cast.owner.client().get(url(room)).json()["lastEngagedAt"] == (
        "2026-05-05T14:35:44.260Z"
    )


@pytest.mark.parametrize("actor", ["owner", "member"])
def test_members_of_the_workspace_get_the_room(cast, room, actor):
    assert getattr(cast, actor).client().get(url(room)).status_code == 200


def test_another_workspace_or_an_unknown_id_is_404(cast, room, other_room):
    for client, target in ((cast.outsider.client(), room), (cast.owner.client(), other_room)):
        response = client.get(url(target))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert cast.owner.client().get(f"{URL}/{uuid.uuid4()}").status_code == 404
    assert cast.owner.client().get(f"{URL}/not-a-uuid").status_code == 404


def test_anonymous_is_401(anonymous, room):
    assert anonymous.get(url(room)).status_code == 401


# --- PATCH --------------------------------------------------------------------------------------


@pytest.fixture
def full_room(cast):
    return RoomFactory(
        workspace=cast.workspace,
        title="Before",
        description="Old description",
        company=CompanyFactory(workspace=cast.workspace),
        status=RoomStatusFactory(workspace=cast.workspace),
        owner=cast.owner.user,
        hs_deal_id="1",
        cover_title="Cover",
        theme_color="#123",
        nav_color="flow-org-color",
        cover_disabled=True,
    )


def test_patch_changes_only_the_fields_given(cast, full_room):
    response = cast.member.client().patch(url(full_room), {"title": "After"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "After"
    full_room.refresh_from_db()
    assert full_room.title == "After"
    assert full_room.description == "Old description"
    assert full_room.company is not None
    assert full_room.status is not None
    assert full_room.owner == cast.owner.user
    assert (full_room.hs_deal_id, full_room.cover_title, full_room.theme_color) == (
        "1",
        "Cover",
        "#123",
    )
    assert full_room.cover_disabled is True
    assert body["companyId"] == str(full_room.company_id)


def test_patch_explicit_null_clears(cast, full_room):
    body = {
        "description": None,
        "companyId": None,
        "statusId": None,
        "userId": None,
        "hsDealId": None,
        "coverTitle": None,
        "themeColor": None,
        "navColor": None,
    }

    response = cast.owner.client().patch(url(full_room), body, format="json")

    assert response.status_code == 200
    data = response.json()
    for name in ("description", "companyId", "statusId", "userId", "hsDealId"):
        assert data[name] is None, name
    for name in ("coverTitle", "themeColor", "navColor"):
        assert data[name] is None, name
    full_room.refresh_from_db()
    assert (full_room.company, full_room.status, full_room.owner) == (None, None, None)
    assert (full_room.description, full_room.theme_color) == ("", "")
    assert full_room.title == "Before"
    assert full_room.cover_disabled is True
    assert not RoomMember.objects.filter(room=full_room, is_room_owner=True).exists()


def test_patch_sets_every_field(cast, full_room):
    company = CompanyFactory(workspace=cast.workspace)
    status = RoomStatusFactory(workspace=cast.workspace)
    body = {
        "title": "New",
        "description": "New description",
        "statusId": str(status.id),
        "userId": str(cast.member.user.id),
        "companyId": str(company.id),
        "hsDealId": "77",
        "sfOpportunityId": "0064x000009abcD",
        "attioDealId": "deal-1",
        "coverTitle": "New cover",
        "coverDescription": "Text",
        "coverDisabled": False,
        "themeColor": "#abcdef",
        "navColor": "#fff",
    }

    response = cast.owner.client().patch(url(full_room), body, format="json")

    assert response.status_code == 200, response.json()
    data = response.json()
    for name, value in body.items():
        assert data[name] == value, name
    members = {m.user: m.is_room_owner for m in RoomMember.objects.filter(room=full_room)}
    assert members == {cast.member.user: True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"themeColor": "orange"}, "themeColor"),
        ({"navColor": "#12"}, "navColor"),
        ({"sfOpportunityId": "short"}, "sfOpportunityId"),
        ({"coverDisabled": None}, "coverDisabled"),
        ({"companyId": str(uuid.uuid4())}, "companyId"),
        ({"statusId": "nope"}, "statusId"),
        ({"userId": "0"}, "userId"),
        ({"labelId": None}, "labelId"),  # not in the spec's PATCH list
        ({"email": "a@b.example"}, "email"),  # not in the spec's PATCH list
        ({"templateId": None}, "templateId"),
        ({"isTemplate": True}, "isTemplate"),
    ],
)
def test_patch_validation(cast, full_room, body, field):
    response = cast.owner.client().patch(url(full_room), {"title": "Changed"} | body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    full_room.refresh_from_db()
    assert full_room.title == "Before"


def test_patch_ids_of_another_workspace_do_not_exist(cast, full_room):
    company = CompanyFactory(workspace=cast.other_workspace)

    response = cast.owner.client().patch(
        url(full_room), {"companyId": str(company.id)}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "companyId": [f'Object "{company.id}" does not exist.']
    }


def test_patch_by_the_outsider_is_404(cast, full_room, anonymous):
    response = cast.outsider.client().patch(url(full_room), {"title": "Hacked"}, format="json")
    assert response.status_code == 404
    assert anonymous.patch(url(full_room), {"title": "x"}, format="json").status_code == 401
    full_room.refresh_from_db()
    assert full_room.title == "Before"


# --- list ---------------------------------------------------------------------------------------


def _ids(response):
    return [item["id"] for item in response.json()["results"]]


def test_list_defaults_and_envelope(cast):
    rooms = [
        RoomFactory(workspace=cast.workspace, created_at=T0 + timedelta(minutes=n))
        for n in range(12)
    ]
    RoomFactory(workspace=cast.workspace, is_template=True)
    RoomFactory(workspace=cast.other_workspace)

    response = cast.member.client().get(URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["page"], body["limit"], body["total"]) == (1, 10, 12)
    newest_first = [str(room.id) for room in reversed(rooms)]
    assert _ids(response) == newest_first[:10]
    item = body["results"][0]
    assert set(item) == {
        "id",
        "title",
        "userId",
        "companyId",
        "createdAt",
        "updatedAt",
        "totalEngagements",
        "lastEngagedAt",
        "totalViews",
        "totalUniqueViews",
        "engagements",
        "coverTitle",
        "coverDescription",
        "coverDisabled",
        "themeColor",
        "navColor",
    }
    assert (item["totalViews"], item["totalUniqueViews"], item["totalEngagements"]) == (0, 0, 0)
    assert item["lastEngagedAt"] is None


def test_paging(cast):
    rooms = [
        RoomFactory(workspace=cast.workspace, created_at=T0 + timedelta(minutes=n))
        for n in range(25)
    ]
    oldest_first = [str(room.id) for room in rooms]
    client = cast.owner.client()

    pages = [
        _ids(client.get(URL, {"limit": 10, "page": page, "sortDirection": "asc"}))
        for page in (1, 2, 3, 4)
    ]

    assert pages == [oldest_first[:10], oldest_first[10:20], oldest_first[20:], []]
    last = client.get(URL, {"limit": 10, "page": 3}).json()
    assert (last["page"], last["limit"], last["total"]) == (3, 10, 25)
    assert len(_ids(client.get(URL, {"limit": 100}))) == 25


def test_templates_are_listed_only_with_is_template(cast, room):
    template = RoomFactory(workspace=cast.workspace, is_template=True)
    RoomFactory(workspace=cast.other_workspace, is_template=True)
    client = cast.owner.client()

    assert _ids(client.get(URL, {"isTemplate": "true"})) == [str(template.id)]
    assert _ids(client.get(URL, {"isTemplate": "false"})) == [str(room.id)]
    assert _ids(client.get(URL)) == [str(room.id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": ""}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sortBy": "views"}, "sortBy"),
        ({"sortBy": "created_at"}, "sortBy"),
        ({"sortDirection": "up"}, "sortDirection"),
        ({"sortDirection": ""}, "sortDirection"),
        ({"isTemplate": "maybe"}, "isTemplate"),
    ],
)
def test_list_bad_parameters(cast, params, field):
    response = cast.owner.client().get(URL, params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_the_outsider_sees_only_their_rooms(cast, room, other_room):
    assert _ids(cast.outsider.client().get(URL)) == [str(other_room.id)]
    assert _ids(cast.owner.client().get(URL)) == [str(room.id)]


@pytest.fixture
def sortable(cast):
    """Four rooms whose every sort key is known; ties on purpose (by id then)."""
    a = RoomFactory(workspace=cast.workspace, title="beta", created_at=T0)
    b = RoomFactory(workspace=cast.workspace, title="Alpha", created_at=T0 + timedelta(days=1))
    c = RoomFactory(workspace=cast.workspace, title="delta", created_at=T0 + timedelta(days=2))
    d = RoomFactory(workspace=cast.workspace, title="Charlie", created_at=T0 + timedelta(days=3))
    for room, days in ((a, 9), (b, 7), (c, 8), (d, 6)):
        Room.objects.filter(pk=room.pk).update(updated_at=T0 + timedelta(days=days))
    step_a = StepFactory(section=SectionFactory(room=a))
    step_c = StepFactory(section=SectionFactory(room=c))
    action_d = ActionFactory(section=SectionFactory(room=d))
    morgan = ContactFactory(workspace=cast.workspace)
    # visits: a 3 by one person; c 3 by three people; d 1; b none
    for _ in range(3):
        VisitFactory(room=a, contact=morgan, at=T0 + timedelta(hours=1))
        VisitFactory(room=c, at=T0 + timedelta(hours=2))
    VisitFactory(room=d, contact=morgan, at=T0 + timedelta(hours=10))
    # engagements: a 2, c 1, d 2; b none
    EngagementFactory(step=step_a, type=Engagement.Type.CLICK, created_at=T0)
    EngagementFactory(step=step_a, type=Engagement.Type.VIEW, created_at=T0)
    EngagementFactory(step=step_c, type=Engagement.Type.COMMENT, created_at=T0 + timedelta(1))
    EngagementFactory(action=action_d, type=Engagement.Type.DOWNLOAD, created_at=T0)
    EngagementFactory(action=action_d, type=Engagement.Type.SHARE, created_at=T0)
    return {"a": a, "b": b, "c": c, "d": d}


def _by_id(*rooms, reverse=False):
    return sorted(rooms, key=lambda room: room.id, reverse=reverse)


@pytest.mark.parametrize(
    ("sort_by", "ascending"),
    [
        ("createdAt", lambda r: [r["a"], r["b"], r["c"], r["d"]]),
        ("updatedAt", lambda r: [r["d"], r["b"], r["c"], r["a"]]),
        ("title", lambda r: [r["b"], r["a"], r["d"], r["c"]]),
        # b never engaged (null, first ascending); a (T0+1h), d (T0+10h), c (T0+1 day)
        ("lastEngagedAt", lambda r: [r["b"], r["a"], r["d"], r["c"]]),
        # b 0, d 1, then a and c with 3 each (tie: by id)
        ("totalViews", lambda r: [r["b"], r["d"], *_by_id(r["a"], r["c"])]),
        # b 0, a 1 person, d 1 person (tie), c 3 people
        ("totalUniqueViews", lambda r: [r["b"], *_by_id(r["a"], r["d"]), r["c"]]),
        # b 0, c 1, a 2 and d 2 (tie)
        ("totalEngagements", lambda r: [r["b"], r["c"], *_by_id(r["a"], r["d"])]),
    ],
)
def test_every_sort_key_in_both_directions(cast, sortable, sort_by, ascending):
    client = cast.owner.client()
    expected_asc = [str(room.id) for room in ascending(sortable)]

    asc = client.get(URL, {"sortBy": sort_by, "sortDirection": "ASC"})
    desc = client.get(URL, {"sortBy": sort_by, "sortDirection": "desc"})

    assert _ids(asc) == expected_asc
    assert _ids(desc) == list(reversed(expected_asc))


def test_ties_keep_pages_stable(cast):
    rooms = [RoomFactory(workspace=cast.workspace, created_at=T0) for _ in range(7)]
    client = cast.owner.client()

    pages = [_ids(client.get(URL, {"limit": 3, "page": page})) for page in (1, 2, 3)]

    assert [item for page in pages for item in page] == [
        str(room.id) for room in _by_id(*rooms, reverse=True)
    ]


def test_list_totals_per_room(cast, sortable):
    body = cast.owner.client().get(URL, {"sortBy": "createdAt", "sortDirection": "ASC"}).json()
    a, b, c, d = body["results"]

    assert (a["totalViews"], a["totalUniqueViews"], a["totalEngagements"]) == (3, 1, 2)
    assert a["engagements"] == {
        "clicks": 1,
        "comments": 0,
        "downloads": 0,
        "reactions": 0,
        "shares": 0,
        "views": 1,
        "tasksCompleted": 0,
    }
    assert a["lastEngagedAt"] == "2026-05-05T15:30:44.260Z"
    assert (b["totalViews"], b["totalEngagements"], b["lastEngagedAt"]) == (0, 0, None)
    assert (c["totalViews"], c["totalUniqueViews"], c["engagements"]["comments"]) == (3, 3, 1)
    assert c["lastEngagedAt"] == "2026-05-06T14:30:44.260Z"
    assert (d["engagements"]["downloads"], d["engagements"]["shares"]) == (1, 1)


def _busy_rooms(workspace, count, activity):
    for _ in range(count):
        room = RoomFactory(workspace=workspace)
        step = StepFactory(section=SectionFactory(room=room))
        for _ in range(activity):
            VisitFactory(room=room)
            EngagementFactory(step=step)


@pytest.mark.parametrize("sort_by", ["createdAt", "totalViews", "lastEngagedAt"])
def test_list_query_count_is_fixed(cast, django_assert_max_num_queries, sort_by):
    client = cast.owner.client()
    _busy_rooms(cast.workspace, 2, 1)
    # Authentication's queries, then the page's ids, its rooms and the count: nothing per room
    # or per row.
    with django_assert_max_num_queries(7) as small:
        client.get(URL, {"sortBy": sort_by})
    _busy_rooms(cast.workspace, 30, 4)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL, {"sortBy": sort_by, "limit": 100})
    assert len(response.json()["results"]) == 32


# --- transactions -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reads_run_without_a_transaction_and_writes_in_one(cast):
    """The hot reads pay no BEGIN/COMMIT; a write stays all or nothing."""
    client = cast.owner.client()
    room = RoomFactory(workspace=cast.workspace)
    in_transaction = []

    def record(execute, sql, params, many, context):
        in_transaction.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    for path in (URL, url(room), f"{url(room)}/analytics"):
        in_transaction.clear()
        with connection.execute_wrapper(record):
            assert client.get(path).status_code == 200
        assert in_transaction, path
        assert not any(in_transaction), path
    in_transaction.clear()
    with connection.execute_wrapper(record):
        assert client.patch(url(room), {"title": "Renamed"}, format="json").status_code == 200
    assert all(in_transaction)
