"""The room page in a browser: a room with a section, a page and an action item is created
through the nested forms, saved, and read back from the API."""

from __future__ import annotations

from rooms.models import Room
from tests.browser.conftest import log_in


def test_create_a_room_with_nested_content_and_read_it_from_the_api(page, live_server, cast):
    log_in(page, live_server, cast.owner.user)
    page.goto(f"{live_server.url}/admin/rooms/room/add/")

    page.select_option("select[name=workspace]", str(cast.workspace.pk))
    page.fill("input[name=title]", "Globex expansion")
    page.click("text=Add another Section")
    page.fill("input[name=sections-0-title]", "Welcome")
    # unfold offers a new section's nested rows once the section is saved.
    page.click("button[name=_continue]")
    page.wait_for_url("**/admin/rooms/room/*/change/")
    page.click("text=Add another Page")
    page.fill("input[name=sections-0-steps-0-title]", "Pricing")
    page.click("text=Add another Action item")
    page.fill("input[name=sections-0-actions-0-title]", "Sign the order form")
    page.click("button[name=_continue]")
    page.wait_for_url("**/admin/rooms/room/*/change/")

    room = Room.objects.get(title="Globex expansion")
    response = page.request.get(
        f"{live_server.url}/api/v2/rooms/{room.pk}/analytics",
        headers={"x-flowla-api-key": cast.owner.key},
    )
    assert response.ok, response.text()
    [section] = response.json()["sections"]
    assert section["title"] == "Welcome"
    assert [step["title"] for step in section["steps"]] == ["Pricing"]
    assert [action["title"] for action in section["actions"]] == ["Sign the order form"]
