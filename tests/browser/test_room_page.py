"""The room page in a browser: a room, new sections and, inside them, a page and an action
item are created through the nested forms in one save, and read back from the API."""

from __future__ import annotations

from rooms.models import Room
from tests.browser.conftest import log_in


def test_create_a_room_with_nested_content_in_one_save_and_read_it_from_the_api(
    page, live_server, cast
):
    log_in(page, live_server, cast.owner.user)
    page.goto(f"{live_server.url}/admin/rooms/room/add/")

    page.select_option("select[name=workspace]", str(cast.workspace.pk))
    page.fill("input[name=title]", "Globex expansion")

    def add_row(text: str, section: int) -> None:
        """Click the "add another" link of the new section number ``section``."""
        page.locator("a.add-row:visible", has_text=text).nth(section).click()

    page.click("text=Add another Section")
    page.fill("input[name=sections-0-title]", "Welcome")
    # The new section's own "add another" rows, before anything is saved.
    add_row("Add another Page", 0)
    page.fill("input[name=sections-0-steps-0-title]", "Pricing")
    add_row("Add another Action item", 0)
    page.fill("input[name=sections-0-actions-0-title]", "Sign the order form")
    page.click("text=Add another Section")
    page.fill("input[name=sections-1-title]", "Next steps")
    add_row("Add another Page", 1)
    page.fill("input[name=sections-1-steps-0-title]", "Timeline")
    page.click("button[name=_continue]")
    page.wait_for_url("**/admin/rooms/room/*/change/")

    room = Room.objects.get(title="Globex expansion")
    response = page.request.get(
        f"{live_server.url}/api/v2/rooms/{room.pk}/analytics",
        headers={"x-flowla-api-key": cast.owner.key},
    )
    assert response.ok, response.text()
    sections = response.json()["sections"]
    assert [section["title"] for section in sections] == ["Welcome", "Next steps"]
    assert [step["title"] for step in sections[0]["steps"]] == ["Pricing"]
    assert [action["title"] for action in sections[0]["actions"]] == ["Sign the order form"]
    assert [step["title"] for step in sections[1]["steps"]] == ["Timeline"]
    assert sections[1]["actions"] == []
