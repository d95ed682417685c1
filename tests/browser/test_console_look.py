"""The console's look: branded, grouped sidebar, dark mode, a laptop-sized rooms list, and
nothing fetched from another host on any kind of page."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.conftest import log_in
from tests.events.factories import SessionFactory
from tests.factories import UserFactory
from tests.rooms.factories import CompanyFactory, RoomFactory, RoomStatusFactory


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
    # Every kind of page: charts (room, session), htmx (run), forms with widgets (connection).
    room = RoomFactory(workspace=cast.workspace)
    session = SessionFactory(workspace=cast.workspace)
    for path in (
        f"/admin/rooms/room/{room.pk}/change/",
        f"/admin/events/session/{session.pk}/change/",
        "/admin/syncing/connection/add/?provider=hubspot",
        "/admin/syncing/syncrun/",
        "/admin/rooms/room/add/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, path
        page.wait_for_load_state("networkidle")
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


def test_dark_mode_is_switched_from_the_user_menu_and_kept(page, live_server, cast):
    user = cast.owner.user
    log_in(page, live_server, user)
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")

    page.click(f"text={user.email}")
    page.click("text=Dark")
    page.reload()

    assert "dark" in page.evaluate("document.documentElement.className")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light


def test_the_rooms_list_fits_a_laptop_screen(page, live_server, cast):
    """At 1,366 px every column of the rooms list is on screen, without scrolling sideways,
    even with long titles, company names and e-mail addresses."""
    owner = cast.owner.user
    owner.full_name = "Alexandra Konstantinopoulou-Whitfield"
    owner.save()
    for n in range(5):
        RoomFactory(
            workspace=cast.workspace,
            title=f"Enterprise expansion proposal for the EMEA region, phase {n}",
            company=CompanyFactory(workspace=cast.workspace, name=f"Initech Global Holdings {n}"),
            status=RoomStatusFactory(workspace=cast.workspace, title="Negotiation"),
            owner=owner,
            hs_deal_id=f"deal-{n}",
        )
    log_in(page, live_server, owner)

    page.goto(f"{live_server.url}/admin/rooms/room/")

    headers = page.locator("#result_list thead th").all_inner_texts()
    for column in ("Title", "Company", "Owner", "Status", "Views", "Last engaged", "Deal stage"):
        assert any(column.lower() in header.lower() for header in headers), (column, headers)
    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const box = table.getBoundingClientRect();
            const scroller = table.closest('.overflow-x-auto') || table.parentElement;
            return {right: box.right, viewport: window.innerWidth,
                    scroll: scroller.scrollWidth, client: scroller.clientWidth,
                    page: document.documentElement.scrollWidth};
        }"""
    )
    assert widths["right"] <= widths["viewport"], widths
    assert widths["scroll"] <= widths["client"], widths
    assert widths["page"] <= widths["viewport"], widths
