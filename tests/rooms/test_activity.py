"""POST /api/v2/rooms/{room_id}/activity: idempotent, all-or-nothing ingestion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms.models import Contact, Engagement, Viewership, Visit
from tests.concurrency import insert_committed_while_waited_for
from tests.rooms.factories import (
    ActionFactory,
    ContactFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    ViewershipFactory,
)

AT = "2026-05-05T14:30:44.260Z"
AT_DATETIME = datetime(2026, 5, 5, 14, 30, 44, 260000, tzinfo=UTC)


def url(room) -> str:
    return f"/api/v2/rooms/{room.id}/activity"


@pytest.fixture
def live_room(cast):
    """A room of workspace A with one page and one action item (``.step``, ``.action``)."""
    room = RoomFactory(workspace=cast.workspace)
    section = SectionFactory(room=room)
    room.step = StepFactory(section=section)
    room.action = ActionFactory(section=section)
    return room


def visit(event_id: str, email: str = "morgan.lee@acme.com", **fields) -> dict:
    return {"id": event_id, "kind": "visit", "viewer": {"email": email}, "at": AT, **fields}


def view(event_id: str, seconds: int, email: str = "morgan.lee@acme.com", **target) -> dict:
    return {
        "id": event_id,
        "kind": "view",
        "viewer": {"email": email},
        "at": AT,
        "durationInSeconds": seconds,
        **target,
    }


def engagement(event_id: str, type_: str, email: str = "morgan.lee@acme.com", **target) -> dict:
    return {
        "id": event_id,
        "kind": "engagement",
        "viewer": {"email": email},
        "at": AT,
        "type": type_,
        **target,
    }


def post(actor, room, events):
    return actor.client().post(url(room), {"events": events}, format="json")


def stored() -> dict:
    """Everything ingestion can write, for before/after comparisons."""
    return {
        "contacts": sorted(Contact.objects.values_list("email", "name")),
        "visits": sorted(Visit.objects.values_list("client_id", "user_id", "contact_id", "at")),
        "engagements": sorted(
            Engagement.objects.values_list("client_id", "type", "step_id", "action_id")
        ),
        "viewership": sorted(
            (str(step), str(action), str(contact), user, seconds, times)
            for step, action, contact, user, seconds, times in Viewership.objects.values_list(
                "step_id",
                "action_id",
                "contact_id",
                "user_id",
                "duration_in_seconds",
                "times_viewed",
            )
        ),
    }


def test_stores_visits_views_and_engagements(cast, live_room):
    step, action = str(live_room.step.id), str(live_room.action.id)
    events = [
        {**visit("v1"), "viewer": {"email": "Morgan.Lee@Acme.com", "name": "Morgan Lee"}},
        view("w1", 144, stepId=step),
        view("w2", 3, actionId=action),
        engagement("e1", "TASK_COMPLETED", stepId=step),
    ]

    response = post(cast.owner, live_room, events)

    assert response.status_code == 200
    assert response.json() == {"accepted": 4, "duplicates": 0}
    morgan = Contact.objects.get()
    # Created on first sight, lower-cased, named by the first event that names it.
    assert (morgan.workspace, morgan.email, morgan.name) == (
        cast.workspace,
        "morgan.lee@acme.com",
        "Morgan Lee",
    )
    visit_row = Visit.objects.get()
    assert (visit_row.room, visit_row.contact, visit_row.user, visit_row.at) == (
        live_room,
        morgan,
        None,
        AT_DATETIME,
    )
    assert visit_row.client_id == "v1"
    # A view is a VIEW engagement (its id is stored there) and adds to the viewership row.
    assert sorted(
        Engagement.objects.values_list("client_id", "type", "step_id", "action_id", "contact_id")
    ) == [
        ("e1", "TASK_COMPLETED", live_room.step.id, None, morgan.id),
        ("w1", "VIEW", live_room.step.id, None, morgan.id),
        ("w2", "VIEW", None, live_room.action.id, morgan.id),
    ]
    assert Engagement.objects.filter(created_at=AT_DATETIME, room=live_room).count() == 3
    assert sorted(
        Viewership.objects.values_list(
            "step_id", "action_id", "contact_id", "duration_in_seconds", "times_viewed"
        ),
        key=str,
    ) == sorted(
        [
            (live_room.step.id, None, morgan.id, 144, 1),
            (None, live_room.action.id, morgan.id, 3, 1),
        ],
        key=str,
    )


def test_views_add_up_on_the_viewership_row(cast, live_room):
    step = str(live_room.step.id)
    ViewershipFactory(
        step=live_room.step, contact=ContactFactory(workspace=cast.workspace), times_viewed=5
    )

    # Two views of one pair in a batch, then a third in another batch.
    first = post(cast.owner, live_room, [view("a", 10, stepId=step), view("b", 20, stepId=step)])
    second = post(cast.owner, live_room, [view("c", 5, stepId=step)])

    assert first.json() == {"accepted": 2, "duplicates": 0}
    assert second.json() == {"accepted": 1, "duplicates": 0}
    row = Viewership.objects.get(contact__email="morgan.lee@acme.com")
    assert (row.duration_in_seconds, row.times_viewed) == (10 + 20 + 5, 3)
    # The other viewer's row is untouched.
    assert Viewership.objects.exclude(pk=row.pk).get().times_viewed == 5


def test_a_members_email_is_an_internal_viewer(cast, live_room):
    email = cast.member.user.email.upper()
    events = [
        visit("v1", email=email),
        view("w1", 7, email=email, actionId=str(live_room.action.id)),
    ]

    assert post(cast.owner, live_room, events).json() == {"accepted": 2, "duplicates": 0}

    assert Contact.objects.count() == 0
    assert Visit.objects.get().user == cast.member.user
    row = Viewership.objects.get()
    assert (row.user, row.contact, row.duration_in_seconds, row.times_viewed) == (
        cast.member.user,
        None,
        7,
        1,
    )


def test_an_outsiders_member_email_is_a_contact_here(cast, live_room):
    """Membership of another workspace does not make a viewer internal."""
    email = cast.outsider.user.email

    post(cast.owner, live_room, [visit("v1", email=email)])

    assert Visit.objects.get().contact.email == email


def test_an_existing_contact_is_reused_whatever_the_case(cast, live_room):
    morgan = ContactFactory(workspace=cast.workspace, email="morgan.lee@acme.com", name="")
    other_workspace_twin = ContactFactory(
        workspace=cast.other_workspace, email="morgan.lee@acme.com"
    )

    post(
        cast.owner,
        live_room,
        [
            {
                **visit("v1", email="MORGAN.LEE@acme.com"),
                "viewer": {"email": "MORGAN.LEE@acme.com", "name": "Morgan"},
            }
        ],
    )

    assert Visit.objects.get().contact == morgan
    assert Contact.objects.count() == 2
    morgan.refresh_from_db()
    other_workspace_twin.refresh_from_db()
    assert morgan.name == "Morgan"  # a blank name is filled in
    assert other_workspace_twin.name != "Morgan"


def test_replaying_a_batch_changes_nothing(cast, live_room):
    step, action = str(live_room.step.id), str(live_room.action.id)
    events = [
        visit("v1"),
        view("w1", 144, stepId=step),
        view("w2", 3, actionId=action),
        engagement("e1", "CLICK", actionId=action),
    ]
    assert post(cast.owner, live_room, events).json() == {"accepted": 4, "duplicates": 0}
    before = stored()

    replay = post(cast.owner, live_room, events)
    # A replay with one new event: only that one counts.
    partly_new = post(cast.owner, live_room, [*events, view("w3", 6, stepId=step)])

    assert replay.status_code == 200
    assert replay.json() == {"accepted": 0, "duplicates": 4}
    assert partly_new.json() == {"accepted": 1, "duplicates": 4}
    after = stored()
    assert after["visits"] == before["visits"]
    assert len(after["engagements"]) == len(before["engagements"]) + 1
    row = Viewership.objects.get(step=live_room.step)
    assert (row.duration_in_seconds, row.times_viewed) == (144 + 6, 2)


def test_ids_are_unique_per_workspace_across_kinds_and_within_a_batch(cast, live_room):
    step = str(live_room.step.id)
    post(cast.owner, live_room, [visit("shared")])

    response = post(
        cast.owner,
        live_room,
        [
            view("shared", 10, stepId=step),
            view("twice", 1, stepId=step),
            view("twice", 2, stepId=step),
        ],
    )

    assert response.json() == {"accepted": 1, "duplicates": 2}
    row = Viewership.objects.get()
    assert (row.duration_in_seconds, row.times_viewed) == (1, 1)  # the first "twice" only


def test_ids_of_another_workspace_do_not_collide(cast, live_room):
    outsider_room = RoomFactory(workspace=cast.other_workspace)
    post(cast.outsider, outsider_room, [visit("v1")])

    assert post(cast.owner, live_room, [visit("v1")]).json() == {"accepted": 1, "duplicates": 0}
    assert Visit.objects.count() == 2


def test_one_invalid_event_rejects_the_whole_batch(cast, live_room):
    step = str(live_room.step.id)
    events = [
        visit("v1"),
        view("w1", 10, stepId=step),
        engagement("e1", "CLICK", stepId=step),
        {**visit("v2"), "at": "yesterday"},
    ]

    response = post(cast.owner, live_room, events)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["events.3.at"]
    assert error["message"].startswith("events.3.at: ")
    assert stored() == {"contacts": [], "visits": [], "engagements": [], "viewership": []}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"kind": "visit", "viewer": {"email": "a@b.co"}, "at": AT}, "id"),
        ({**visit("x"), "id": ""}, "id"),
        ({**visit("x"), "id": "x" * 256}, "id"),
        ({**visit("x"), "kind": "click"}, "kind"),
        ({**visit("x"), "viewer": {"email": "not-an-email"}}, "viewer.email"),
        ({**visit("x"), "viewer": {"name": "No Email"}}, "viewer.email"),
        ({**visit("x"), "viewer": {"email": "a@b.co", "phone": "1"}}, "viewer.phone"),
        ({**visit("x"), "at": None}, "at"),
        ({**visit("x"), "colour": "red"}, "colour"),
        ({**visit("x"), "durationInSeconds": 3}, "durationInSeconds"),
        ({**visit("x"), "type": "CLICK"}, "type"),
        ({**view("x", 3), "stepId": "not-a-uuid"}, "stepId"),
        (view("x", 3), "stepId"),  # neither stepId nor actionId
        ({**view("x", -1), "stepId": "STEP"}, "durationInSeconds"),
        ({**view("x", 86401), "stepId": "STEP"}, "durationInSeconds"),
        ({**view("x", 3), "stepId": "STEP", "actionId": "ACTION"}, "actionId"),
        ({**view("x", 3), "stepId": "STEP", "type": "CLICK"}, "type"),
        ({**engagement("x", "WAVE"), "stepId": "STEP"}, "type"),
        (
            {**engagement("x", "CLICK"), "actionId": "ACTION", "durationInSeconds": 1},
            "durationInSeconds",
        ),
        (
            {
                "id": "x",
                "kind": "engagement",
                "viewer": {"email": "a@b.co"},
                "at": AT,
                "stepId": "STEP",
            },
            "type",
        ),
        (
            {"id": "x", "kind": "view", "viewer": {"email": "a@b.co"}, "at": AT, "stepId": "STEP"},
            "durationInSeconds",
        ),
    ],
)
def test_each_invalid_event_is_named_by_index_and_field(cast, live_room, event, field):
    targets = {"STEP": str(live_room.step.id), "ACTION": str(live_room.action.id)}
    event = {
        key: targets.get(value, value) if isinstance(value, str) else value
        for key, value in event.items()
    }

    response = post(cast.owner, live_room, [visit("ok"), event])

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [f"events.1.{field}"]
    assert Visit.objects.count() == 0


def test_targets_must_belong_to_the_room(cast, live_room):
    other_room = RoomFactory(workspace=cast.workspace)
    other_step = StepFactory(section=SectionFactory(room=other_room))
    other_action = ActionFactory(section=other_step.section)

    response = post(
        cast.owner,
        live_room,
        [
            view("w1", 3, stepId=str(live_room.step.id)),
            view("w2", 3, stepId=str(other_step.id)),
            engagement("e1", "CLICK", actionId=str(other_action.id)),
        ],
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "events.1.stepId": ["No such step in this room."],
        "events.2.actionId": ["No such action item in this room."],
    }
    assert stored() == {"contacts": [], "visits": [], "engagements": [], "viewership": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "events"),
        ({"events": "nope"}, "events"),
        ({"events": [], "extra": 1}, "extra"),
        ({"events": [visit(str(n)) for n in range(1001)]}, "events"),
    ],
)
def test_bad_batches(cast, live_room, body, field):
    response = cast.owner.client().post(url(live_room), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Visit.objects.count() == 0


def test_an_empty_batch_and_a_full_one(cast, live_room):
    assert post(cast.owner, live_room, []).json() == {"accepted": 0, "duplicates": 0}
    events = [visit(f"v{n}", email=f"buyer{n % 50}@acme.com") for n in range(1000)]

    assert post(cast.owner, live_room, events).json() == {"accepted": 1000, "duplicates": 0}
    assert Visit.objects.count() == 1000
    assert Contact.objects.count() == 50


def test_query_count_does_not_grow_with_the_batch(cast, live_room, django_assert_max_num_queries):
    step, action = str(live_room.step.id), str(live_room.action.id)

    def batch(prefix: str, size: int) -> list[dict]:
        events = []
        for n in range(size):
            email = f"{prefix}{n}@acme.com" if n % 2 else cast.member.user.email
            events += [
                visit(f"{prefix}v{n}", email=email),
                view(f"{prefix}s{n}", n, email=email, stepId=step),
                view(f"{prefix}a{n}", n, email=email, actionId=action),
                engagement(f"{prefix}e{n}", "CLICK", email=email, stepId=step),
            ]
        return events

    with CaptureQueriesContext(connection) as small:
        assert post(cast.owner, live_room, batch("small", 2)).status_code == 200
    with django_assert_max_num_queries(len(small)):
        response = post(cast.owner, live_room, batch("large", 250))

    assert response.json() == {"accepted": 1000, "duplicates": 0}
    assert Viewership.objects.count() == 2 * (1 + 125 + 1)  # member, 125 + 1 contacts, 2 targets


# --- access ---------------------------------------------------------------------------------------


def test_owner_member_and_session_can_post(cast, live_room):
    assert post(cast.owner, live_room, [visit("v1")]).status_code == 200
    assert post(cast.member, live_room, [visit("v2")]).status_code == 200
    session = cast.member.session_client()
    response = session.post(url(live_room), {"events": [visit("v3")]}, format="json")
    assert response.status_code == 200
    assert Visit.objects.count() == 3


def test_outsider_gets_404_and_stores_nothing(cast, live_room):
    response = post(cast.outsider, live_room, [visit("v1")])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Visit.objects.count() == 0
    assert Contact.objects.count() == 0


def test_outsider_gets_404_even_with_a_bad_body(cast, live_room):
    response = cast.outsider.client().post(url(live_room), {"events": "nope"}, format="json")

    assert response.status_code == 404


def test_anonymous_is_401(anonymous, live_room):
    response = anonymous.post(url(live_room), {"events": [visit("v1")]}, format="json")

    assert response.status_code == 401
    assert Visit.objects.count() == 0


def test_ingested_activity_shows_in_the_analytics(cast, live_room):
    step = str(live_room.step.id)
    post(
        cast.owner,
        live_room,
        [
            {**visit("v1"), "viewer": {"email": "morgan.lee@acme.com", "name": "Morgan Lee"}},
            visit("v2"),
            view("w1", 100, stepId=step),
            view("w2", 44, stepId=step),
            engagement("e1", "DOWNLOAD", stepId=step),
        ],
    )

    analytics = cast.owner.client().get(f"/api/v2/rooms/{live_room.id}/analytics").json()

    morgan = {
        "belongsTo": "external_organization",
        "email": "morgan.lee@acme.com",
        "name": "Morgan Lee",
        "isPrimaryContact": False,
        "lastSeen": AT,
        "viewCount": 2,
    }
    assert analytics["assignees"] == [{**morgan, "title": None}]
    assert analytics["sections"][0]["steps"][0]["viewership"] == [
        {
            "user": morgan,
            "durationInSeconds": 144,
            "timesViewed": 2,
            # The views are summed above, not listed (spec 000).
            "engagements": [{"type": "DOWNLOAD", "createdAt": AT}],
        }
    ]


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_a_concurrent_insert_of_the_same_id_answers_409_and_stores_nothing(cast):
    """Another transaction inserts id "v1" after this request checked for stored ids: the
    request's insert waits for it, fails on the unique constraint, and answers 409."""
    room = RoomFactory(workspace=cast.workspace)
    other_visitor = ContactFactory(workspace=cast.workspace)

    def concurrent_insert():
        Visit.objects.create(
            workspace=cast.workspace, room=room, contact=other_visitor, client_id="v1"
        )

    with insert_committed_while_waited_for(concurrent_insert):
        response = post(cast.owner, room, [visit("v1"), visit("v2")])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert sorted(Visit.objects.values_list("client_id", flat=True)) == ["v1"]
    assert not Contact.objects.filter(email="morgan.lee@acme.com").exists()
    # Sent again, the batch sees "v1" as a duplicate.
    assert post(cast.owner, room, [visit("v1"), visit("v2")]).json() == {
        "accepted": 1,
        "duplicates": 1,
    }


def test_a_time_without_offset_is_utc_and_one_out_of_range_is_named(cast, live_room):
    response = post(cast.owner, live_room, [{**visit("v1"), "at": "2026-05-05T14:30:44.260"}])
    assert response.status_code == 200
    assert Visit.objects.get().at == AT_DATETIME

    late = {**visit("v2"), "at": "9999-12-31T23:59:59-23:00"}
    response = post(cast.owner, live_room, [late])
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["events.0.at"]


@pytest.mark.parametrize("body", [[], "events", [{"events": []}]])
def test_a_body_that_is_not_an_object_is_400(cast, live_room, body):
    response = cast.owner.client().post(url(live_room), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
