"""The console's sidebar: grouped, and only links the staff member may open."""

from __future__ import annotations

import re

from tests.factories import UserFactory


def _sidebar(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_member_sees_the_grouped_sidebar(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    html = _sidebar(cast.owner.session_client())
    positions = [html.find(group) for group in ("Webinars", "Insights", "Sync", "Access")]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert "/admin/rooms/room/" in html
    assert "/admin/syncing/connection/" in html


def test_the_home_page_is_the_flowsync_dashboard(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    html = _sidebar(cast.owner.session_client())
    assert re.search(r"<title>\s*Dashboard \| flowsync</title>", html)
    assert "Site administration" not in html
    assert "Django administration" not in html


def test_staff_without_a_workspace_is_offered_no_workspace_pages(db, client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    html = _sidebar(client)
    assert "/admin/rooms/room/" not in html
    assert "/admin/syncing/connection/" not in html


def test_empty_lists_say_what_to_do_next(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client = cast.owner.session_client()
    rooms = client.get("/admin/rooms/room/").content.decode()
    connections = client.get("/admin/syncing/connection/").content.decode()
    assert 'id="rooms-empty"' in rooms
    assert "Create a room" in rooms
    assert 'id="connections-empty"' in connections
    assert "Add a connection" in connections
