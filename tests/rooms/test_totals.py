"""The per-room totals rollup (rooms.totals): exact after any mix of ingestion, replays, late
events, deletions and concurrent writers; a row for every room however it was inserted."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms.models import Engagement, Room, RoomTotals, Visit
from rooms.totals import refresh_room_totals
from tests.concurrency import insert_committed_while_waited_for
from tests.rooms.factories import (
    ContactFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    room_admin_form,
)

T0 = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
EMAILS = ["a@buyer.example", "b@buyer.example", "c@buyer.example", "member@seller.example"]


def raw_totals(room) -> dict:
    """The totals computed in Python from the room's rows, independently of the rollup."""
    visits = list(Visit.objects.filter(room=room).values_list("user_id", "contact_id", "at"))
    engagements = list(Engagement.objects.filter(room=room).values_list("type", "created_at"))
    by_type = Counter(type_ for type_, _ in engagements)
    times = [at for *_, at in visits] + [at for _, at in engagements]
    return {
        "total_views": len(visits),
        "total_unique_views": len({(user, contact) for user, contact, _ in visits}),
        "total_engagements": len(engagements),
        "last_engaged_at": max(times, default=None),
        **{f"engagement_{type_.lower()}": by_type[type_] for type_ in Engagement.Type.values},
    }


def rollup(room) -> dict:
    totals = RoomTotals.objects.get(room=room)
    return {name: getattr(totals, name) for name in raw_totals(room)}


def _event(index: int, kind: str, email: str, minutes: int, step) -> dict:
    event = {
        "id": f"e{index}",
        "kind": kind,
        "viewer": {"email": email},
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }
    if kind == "view":
        event.update(stepId=str(step.pk), durationInSeconds=5)
    elif kind != "visit":
        event.update(kind="engagement", stepId=str(step.pk), type=kind)
    return event


# (kind, viewer, minutes after T0: late events arrive after later ones, id reused = replay)
_events = st.lists(
    st.tuples(
        st.sampled_from(["visit", "view", *Engagement.Type.values[1:]]),
        st.sampled_from(EMAILS),
        st.integers(min_value=-600, max_value=600),
        st.integers(min_value=0, max_value=30),
    ),
    max_size=25,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(_events, min_size=1, max_size=4), delete_page=st.booleans())
def test_totals_equal_the_raw_aggregate_after_random_activity(cast, batches, delete_page):
    room = RoomFactory(workspace=cast.workspace)
    section = SectionFactory(room=room)
    steps = [StepFactory(section=section), StepFactory(section=section)]
    client = cast.owner.client()
    for batch in batches:
        events = [
            _event(event_id, kind, email, minutes, steps[event_id % 2])
            for kind, email, minutes, event_id in batch
        ]
        response = client.post(
            f"/api/v2/rooms/{room.pk}/activity", {"events": events}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert rollup(room) == raw_totals(room)
    if delete_page:
        assert client.delete(f"/api/v2/pages/{steps[0].pk}").status_code == 204
        assert rollup(room) == raw_totals(room)


def test_a_room_has_totals_however_it_is_inserted(cast):
    created = RoomFactory(workspace=cast.workspace)
    bulk = Room.objects.bulk_create(
        [Room(workspace=cast.workspace, title="Bulk", slug="bulk", is_template=True)]
    )[0]
    assert RoomTotals.objects.get(room=created).total_views == 0
    assert RoomTotals.objects.get(room=bulk).is_template is True
    Room.objects.filter(pk=bulk.pk).update(is_template=False)
    assert RoomTotals.objects.get(room=bulk).is_template is False


def test_deleting_a_contact_in_the_admin_refreshes_its_rooms(cast, admin_client):
    room = RoomFactory(workspace=cast.workspace)
    gone, kept = ContactFactory(workspace=cast.workspace), ContactFactory(workspace=cast.workspace)
    for contact in (gone, gone, kept):
        Visit.objects.create(workspace=cast.workspace, room=room, contact=contact, at=T0)
    refresh_room_totals([room.pk])
    response = admin_client.post(
        f"/admin/rooms/contact/{gone.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert rollup(room) == raw_totals(room)
    assert rollup(room)["total_views"] == 1


def test_deleting_a_section_in_the_room_admin_refreshes_the_totals(cast, admin_client):
    room = RoomFactory(workspace=cast.workspace, title="Deal room")
    section = SectionFactory(room=room)
    step = StepFactory(section=section)
    contact = ContactFactory(workspace=cast.workspace)
    Engagement.objects.create(
        workspace=cast.workspace, room=room, step=step, contact=contact, type="CLICK"
    )
    refresh_room_totals([room.pk])
    form = room_admin_form(
        cast.workspace.pk,
        title="Deal room",
        slug=room.slug,
        **{
            "sections-TOTAL_FORMS": 1,
            "sections-INITIAL_FORMS": 1,
            "sections-0-id": section.pk,
            "sections-0-room": room.pk,
            "sections-0-title": section.title,
            "sections-0-position": 0,
            "sections-0-access": "visible",
            "sections-0-DELETE": "on",
            "sections-0-steps-TOTAL_FORMS": 0,
            "sections-0-steps-INITIAL_FORMS": 0,
            "sections-0-actions-TOTAL_FORMS": 0,
            "sections-0-actions-INITIAL_FORMS": 0,
        },
    )
    admin_client.post(f"/admin/rooms/room/{room.pk}/change/", form)
    assert not Engagement.objects.filter(room=room).exists()
    assert rollup(room)["total_engagements"] == 0


def test_refresh_is_two_queries_whatever_the_number_of_rooms(cast, django_assert_num_queries):
    rooms = [RoomFactory(workspace=cast.workspace) for _ in range(30)]
    with django_assert_num_queries(2):
        refresh_room_totals(room.pk for room in rooms)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_concurrent_ingestions_into_one_room_both_count(cast):
    """Another transaction ingests into the room and holds its totals row locked: this
    request's refresh waits, then counts the other's committed rows with its own."""
    room = RoomFactory(workspace=cast.workspace)
    other_visitor = ContactFactory(workspace=cast.workspace)

    def concurrent_ingestion():
        Visit.objects.create(workspace=cast.workspace, room=room, contact=other_visitor, at=T0)
        refresh_room_totals([room.pk])

    with insert_committed_while_waited_for(concurrent_ingestion):
        response = cast.owner.client().post(
            f"/api/v2/rooms/{room.pk}/activity",
            {"events": [_event(1, "visit", EMAILS[0], 5, None)]},
            format="json",
        )
    assert response.status_code == 200
    assert rollup(room)["total_views"] == 2
    assert rollup(room)["total_unique_views"] == 2
