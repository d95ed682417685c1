"""The home dashboard in a browser on seeded data: every chart is drawn, shows the API's
numbers for the same period, and the period selector changes them."""

from __future__ import annotations

from tests.browser.conftest import log_in
from tests.console.seed import seed_dashboard

CHARTS = ("chart-room-engagement", "chart-registrations", "chart-chat")


def _chart_data(page, chart_id: str) -> dict:
    return page.evaluate(
        """(id) => {
            const canvas = document.querySelector(`#${id} canvas`);
            const chart = Chart.getChart(canvas);
            return {
                drawn: !!chart && canvas.width > 0 && canvas.height > 0,
                labels: chart.data.labels,
                datasets: chart.data.datasets.map((d) => ({label: d.label, data: d.data})),
            };
        }""",
        chart_id,
    )


def _api(page, live_server, path: str) -> dict:
    response = page.request.get(f"{live_server.url}{path}")
    assert response.ok, response.text()
    return response.json()


def _assert_room_chart_matches_api(page, live_server, days: int) -> None:
    api = _api(page, live_server, f"/api/dashboard/rooms?days={days}")
    chart = _chart_data(page, "chart-room-engagement")
    assert chart["labels"] == [day["date"] for day in api["timeline"]]
    views, engagements = chart["datasets"]
    assert views["data"] == [day["views"] for day in api["timeline"]]
    assert engagements["data"] == [day["engagements"] for day in api["timeline"]]


def _assert_chat_chart_matches_api(page, live_server, period: dict) -> None:
    api = _api(
        page,
        live_server,
        f"/api/insights?start={period['start']}&end={period['end']}&unit=day",
    )
    chart = _chart_data(page, "chart-chat")
    assert chart["labels"] == [unit["_id"] for unit in api["metrics"]]
    messages, users = chart["datasets"]
    assert messages["data"] == [unit["received_messages"] for unit in api["metrics"]]
    assert users["data"] == [unit["active_users"] for unit in api["metrics"]]
    assert sum(messages["data"]) == 2


def test_dashboard_charts_show_the_apis_numbers_and_follow_the_period(page, live_server, cast):
    seed_dashboard(cast.workspace)
    log_in(page, live_server, cast.owner.user)

    for chart_id in CHARTS:
        assert _chart_data(page, chart_id)["drawn"], chart_id
    _assert_room_chart_matches_api(page, live_server, 30)
    webinars = _api(page, live_server, "/api/dashboard/webinars?days=30")
    registrations = _chart_data(page, "chart-registrations")["datasets"][0]["data"]
    assert registrations == [day["registrations"] for day in webinars["registrations_timeline"]]
    assert sum(registrations) == 4
    _assert_chat_chart_matches_api(page, live_server, webinars["period"])

    page.click("#period-selector >> text=Last 7 days")
    page.wait_for_url("**/admin/?*days=7")

    assert len(_chart_data(page, "chart-room-engagement")["labels"]) == 7
    _assert_room_chart_matches_api(page, live_server, 7)
    rooms = _api(page, live_server, "/api/dashboard/rooms?days=7")
    assert page.inner_text('[data-figure="rooms.engagements"]') == str(
        rooms["engagements"]["current"]
    )
