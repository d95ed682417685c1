"""The console's look: branded, grouped sidebar, and nothing fetched from another host."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.conftest import log_in
from tests.factories import UserFactory


def test_console_is_branded_grouped_and_served_locally(page, live_server, cast):
    foreign = []
    local_host = urlsplit(live_server.url).netloc
    page.on(
        "request",
        lambda request: (
            urlsplit(request.url).netloc not in (local_host, "") and foreign.append(request.url)
        ),
    )

    log_in(page, live_server, cast.owner.user)

    assert "flowsync" in page.title()
    sidebar = page.locator("#nav-sidebar-inner, nav").first.inner_text()
    for group in ("Rooms", "Webinars", "Insights", "Sync", "Access"):
        assert group in sidebar
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info")
    assert foreign == []


def test_schedule_pages_look_like_the_rest_of_the_console(page, live_server, db):
    superuser = UserFactory(is_superuser=True)
    log_in(page, live_server, superuser)

    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")

    active = page.locator("a.active[href='/admin/django_celery_beat/periodictask/']")
    assert active.inner_text().splitlines()[-1].strip() == "Schedules"
    # The fields beat's form declares itself are drawn as unfold draws a room's fields.
    task_select = page.locator("select[name=regtask]")
    radius = task_select.evaluate("e => getComputedStyle(e).borderRadius")
    assert radius not in ("", "0px")
    assert task_select.locator("option[value='workspaces.worker_heartbeat']").count() == 1
