"""A staff member sets their time zone from the user menu's profile page; the console then
shows times in it, with the zone beside them."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from syncing.models import Connection, SyncRun
from tests.browser.conftest import log_in


def test_set_a_time_zone_from_the_user_menu_and_see_a_run_in_it(page, live_server, cast):
    connection = Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Rooms",
        base_url="http://127.0.0.1:9/",
    )
    late_evening = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)
    run = SyncRun.objects.create(
        workspace=cast.workspace,
        connection=connection,
        stream="rooms",
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.SUCCEEDED,
        started_at=late_evening,
        finished_at=late_evening,
    )
    user = cast.member.user
    log_in(page, live_server, user)

    page.click(f"text={user.email}")
    page.click("text=Profile and time zone")
    page.fill("input[name=time_zone]", "Mars/Olympus")
    # The form posts back to the same address, so wait for the answer's text, not the URL.
    page.click("button[name=_save]")
    expect(page.locator("body")).to_contain_text("“Mars/Olympus” is not a time zone")

    page.fill("input[name=time_zone]", "Asia/Tokyo")
    page.click("button[name=_save]")
    expect(page.locator("body")).to_contain_text("was changed successfully")
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"

    page.goto(f"{live_server.url}/admin/syncing/syncrun/{run.pk}/change/")
    # 23:30 UTC on 5 December is the morning of the 6th in Tokyo.
    assert "ended 6 Dec 2026, 08:30:00 JST" in page.inner_text("#run-progress")
