"""The console's look: branded, grouped sidebar, and nothing fetched from another host."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.conftest import log_in


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
