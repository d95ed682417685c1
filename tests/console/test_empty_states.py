"""Empty states of the room and session pages say what to do next (the dashboard's and the
lists' are in test_dashboard.py and test_navigation.py)."""

from __future__ import annotations

import pytest

from tests.events.factories import SessionFactory
from tests.rooms.factories import RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


def test_a_room_nobody_viewed_says_so_and_how_to_start(staff, cast):
    room = RoomFactory(workspace=cast.workspace)
    html = staff.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()
    assert "Nobody has viewed this room yet. Share its link with the buyer" in html


def test_a_session_without_registrants_says_so_and_how_to_get_them(staff, cast):
    session = SessionFactory(workspace=cast.workspace)
    html = staff.get(f"/admin/events/session/{session.pk}/change/").content.decode()
    assert "Nobody has registered yet. Share the session's registration page" in html
