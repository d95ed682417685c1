"""The contact-event rollups answer what the events answer: random events, then rooms,
booking pages and contacts deleted (their events set to no room / no page, or deleted)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights import workspace_analytics
from insights.models import BookingPage, ContactEvent
from rooms.models import Contact, Room
from tests.factories import WorkspaceFactory
from tests.insights.factories import BookingPageFactory, ContactEventFactory
from tests.rooms.factories import ContactFactory, RoomFactory
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 31)
TYPES = ["room_join", "booking", "page_view"]

events = st.lists(
    st.tuples(
        st.sampled_from(TYPES),
        st.integers(0, 40 * 24),  # hours before the end of TODAY
        st.integers(0, 3),  # contact
        st.integers(0, 3),  # room (3: none)
        st.integers(0, 3),  # booking page (3: none)
    ),
    max_size=40,
)


def figures(workspace, read) -> dict:
    start, end = workspace_analytics.activity_window(TODAY)
    result = read(workspace, start, end)
    bookings = Workspace.objects.filter(pk=workspace.pk).values(n=result.pop("bookings")).get()
    return {**result, "bookings": bookings["n"]}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(activity=events, deletions=st.lists(st.sampled_from(["room", "page", "contact"])))
def test_event_rollups_equal_the_events(activity, deletions):
    rng = random.Random(len(activity))
    with transaction.atomic():
        workspace = WorkspaceFactory()
        rooms = [RoomFactory(workspace=workspace) for _ in range(3)]
        pages = [BookingPageFactory(workspace=workspace) for _ in range(3)]
        contacts = [ContactFactory(workspace=workspace) for _ in range(4)]
        end = datetime.combine(TODAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        for kind, hours, contact, room, page in activity:
            ContactEventFactory(
                contact=contacts[contact],
                event_type=kind,
                room=rooms[room] if room < 3 else None,
                booking_page=pages[page] if page < 3 else None,
                occurred_at=end - timedelta(hours=hours, minutes=rng.randint(1, 59)),
            )
        for deletion in deletions:
            model = {"room": Room, "page": BookingPage, "contact": Contact}[deletion]
            doomed = model.objects.filter(workspace=workspace).order_by("?").first()
            if doomed:
                doomed.delete()

        from_rollups = figures(workspace, workspace_analytics._event_figures_from_rollups)

        assert from_rollups == figures(workspace, workspace_analytics._event_figures_from_rows)
        transaction.set_rollback(True)


def test_a_moved_event_moves_its_counts(cast):
    room, other = RoomFactory(workspace=cast.workspace), RoomFactory(workspace=cast.workspace)
    event = ContactEventFactory(
        contact=ContactFactory(workspace=cast.workspace),
        room=room,
        occurred_at=datetime(2026, 3, 30, 10, tzinfo=UTC),
    )

    ContactEvent.objects.filter(pk=event.pk).update(
        room=other, occurred_at=datetime(2026, 3, 31, 10, tzinfo=UTC)
    )

    result = workspace_analytics.workspace_analytics(workspace=cast.workspace, today=TODAY)
    assert result["top_rooms"] == [{"room": other, "count": 1}]
    assert result["activity_timeline"] == [
        {"date": date(2026, 3, 31), "bookings": 0, "room_joins": 1}
    ]


def test_rollup_figures_are_whole_numbers(cast):
    """PostgreSQL sums bigints as numeric; callers (the dashboard charts) get ints."""
    ContactEventFactory(
        contact=ContactFactory(workspace=cast.workspace),
        event_type="booking",
        occurred_at=datetime(2026, 3, 30, 10, tzinfo=UTC),
    )

    result = workspace_analytics.workspace_analytics(workspace=cast.workspace, today=TODAY)

    assert type(result["kpis"]["bookings"]) is int
    assert type(result["activity_timeline"][0]["bookings"]) is int
    assert type(result["event_type_breakdown"][0]["count"]) is int
