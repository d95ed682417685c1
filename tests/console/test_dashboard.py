"""The home dashboard and the dashboard API: known figures on a seeded workspace, the page's
numbers equal to the APIs' for the same workspace and period, a fixed number of queries,
workspace switching, bad periods, and what other workspaces never show."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.console.seed import days_ago, seed_dashboard
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import EngagementFactory, RoomFactory, SectionFactory, StepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(cast):
    return seed_dashboard(cast.workspace)


@pytest.fixture
def staff(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    return cast.owner.session_client()


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)">\s*([^<]*?)\s*<', html))


def test_rooms_api_returns_the_known_figures(cast, seeded):
    body = cast.owner.client().get("/api/dashboard/rooms?days=30").json()

    assert body["rooms_engaged"] == {"current": 3, "previous": 2}
    assert body["views"] == {"current": 4, "previous": 1}
    assert body["engagements"] == {"current": 4, "previous": 1}
    assert body["engagements_by_type"]["CLICK"] == {"current": 2, "previous": 1}
    assert body["engagements_by_type"]["COMMENT"] == {"current": 1, "previous": 0}
    assert body["action_plan_progress"] == 75.0
    assert [room["title"] for room in body["top_rooms"]] == ["Busy room", "Calm room"]
    assert [room["title"] for room in body["gone_quiet"]] == ["Quiet room"]
    assert len(body["timeline"]) == 30
    assert sum(day["engagements"] for day in body["timeline"]) == 4
    assert body["timeline"][-2] == {
        "date": days_ago(1).date().isoformat(),
        "views": 1,
        "engagements": 1,
    }


def test_webinars_api_returns_the_known_figures(cast, seeded):
    body = cast.owner.client().get("/api/dashboard/webinars?days=30").json()

    assert body["registrations"] == {"current": 4, "previous": 1}
    [session] = body["funnel"]
    assert (session["registered"], session["attended"], session["watched_replay"]) == (3, 1, 1)
    [upcoming] = body["upcoming"]
    assert upcoming["registrants"] == 2


def test_unique_viewers_count_people_not_visits(cast, seeded):
    body = cast.owner.client().get("/api/dashboard/rooms?days=30").json()
    # Busy's two visits are by two contacts; Quiet's two by one contact.
    assert body["unique_viewers"]["current"] == 3


def test_a_custom_period_is_whole_days_both_included(cast, seeded):
    day = days_ago(2).date().isoformat()
    body = cast.owner.client().get(f"/api/dashboard/rooms?start={day}&end={day}").json()
    assert body["engagements"]["current"] == 2
    assert body["period"] == {"start": day, "end": day}
    assert body["previous_period"]["end"] == days_ago(3).date().isoformat()


@pytest.mark.parametrize(
    "query",
    [
        "days=12",
        "start=2026-01-05",
        "start=2026-02-01&end=2026-01-01",
        "days=7&start=2026-01-01&end=2026-01-02",
        "start=2024-01-01&end=2026-01-01",
        "start=yesterday&end=today",
        "start=&end=",
    ],
)
def test_a_bad_period_answers_400_with_the_error_shape(cast, query):
    response = cast.owner.client().get(f"/api/dashboard/rooms?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_dashboard_api_needs_a_key(anonymous):
    assert anonymous.get("/api/dashboard/rooms").status_code == 401


def test_other_workspaces_activity_never_counts(cast, seeded):
    other_room = RoomFactory(workspace=cast.other_workspace)
    step = StepFactory(section=SectionFactory(room=other_room))
    EngagementFactory(step=step, created_at=days_ago(1))
    mine = cast.owner.client().get("/api/dashboard/rooms").json()
    theirs = cast.outsider.client().get("/api/dashboard/rooms").json()
    assert mine["engagements"]["current"] == 4
    assert theirs["engagements"]["current"] == 1


def test_the_dashboard_shows_the_apis_numbers(cast, seeded, staff):
    html = staff.get("/admin/?days=30").content.decode()
    shown = figures(html)
    api = cast.owner.client()
    rooms = api.get("/api/dashboard/rooms?days=30").json()
    webinars = api.get("/api/dashboard/webinars?days=30").json()
    start, end = rooms["period"]["start"], rooms["period"]["end"]
    chat = api.get(f"/api/insights?start={start}&end={end}&unit=day").json()
    workspace = api.get(f"/api/workspaces/{cast.workspace.pk}/analytics").json()

    top_flows = api.get(f"/api/insights/top_flows?start={start}&end={end}").json()

    for name in ("rooms_engaged", "views", "unique_viewers", "engagements"):
        assert shown[f"rooms.{name}"] == str(rooms[name]["current"])
        assert shown[f"rooms.{name}.previous"] == str(rooms[name]["previous"])
    for type_, figure in rooms["engagements_by_type"].items():
        assert shown[f"rooms.engagements_by_type.{type_}"] == str(figure["current"])
        assert shown[f"rooms.engagements_by_type.{type_}.previous"] == str(figure["previous"])
    for index, room in enumerate(rooms["top_rooms"]):
        assert shown[f"rooms.top_rooms.{index}"] == str(room["engagements"])
    assert [shown[f"rooms.gone_quiet.{i}"] for i in range(len(rooms["gone_quiet"]))] == [
        room["title"] for room in rooms["gone_quiet"]
    ]
    assert rooms["gone_quiet"]
    assert shown["rooms.action_plan_progress"] == f"{rooms['action_plan_progress']} %"
    assert shown["webinars.registrations"] == str(webinars["registrations"]["current"])
    assert shown["webinars.registrations.previous"] == str(webinars["registrations"]["previous"])
    for index, session in enumerate(webinars["funnel"]):
        for step in ("registered", "attended", "watched_replay"):
            assert shown[f"webinars.funnel.{index}.{step}"] == str(session[step])
    for index, session in enumerate(webinars["upcoming"]):
        assert shown[f"webinars.upcoming.{index}.registrants"] == str(session["registrants"])
    assert webinars["funnel"]
    assert webinars["upcoming"]
    [stats] = chat["stats"]
    for name in ("received_messages", "active_users", "new_users", "triggers"):
        assert shown[f"chat.{name}"] == str(stats[name])
    assert (shown["chat.received_messages"], shown["chat.triggers"]) == ("2", "1")
    assert [shown[f"chat.top_flows.{i}"] for i in range(len(top_flows))] == [
        str(flow["count"]) for flow in top_flows
    ]
    assert top_flows
    kpis = workspace["kpis"]
    assert shown["workspace.bookings"] == str(kpis["bookings"])
    assert shown["workspace.recordings"] == str(kpis["recordings"]) == "1"
    assert shown["workspace.recording_minutes"] == str(kpis["recordingDuration"] // 60) == "3"


def test_the_dashboard_runs_a_fixed_number_of_queries(cast, staff):
    seed_dashboard(cast.workspace)
    with CaptureQueriesContext(connection) as small:
        staff.get("/admin/?days=30")
    seed_dashboard(cast.workspace)
    with CaptureQueriesContext(connection) as larger:
        staff.get("/admin/?days=30")
    assert len(larger) == len(small)


def test_a_staff_member_of_two_workspaces_switches_between_them(cast, staff):
    MembershipFactory(user=cast.owner.user, workspace=cast.other_workspace, role="member")
    seed_dashboard(cast.other_workspace)

    first = figures(staff.get("/admin/").content.decode())
    other = staff.get(f"/admin/?workspace={cast.other_workspace.slug}").content.decode()

    assert 'id="workspace-switcher"' in other
    assert first["rooms.engagements"] == "0"
    assert figures(other)["rooms.engagements"] == "4"


def test_a_staff_member_cannot_switch_to_a_workspace_not_theirs(cast, staff):
    seed_dashboard(cast.other_workspace)
    html = staff.get(f"/admin/?workspace={cast.other_workspace.slug}").content.decode()
    assert cast.other_workspace.name not in html
    assert figures(html)["rooms.engagements"] == "0"


def test_a_bad_period_on_the_page_says_so_and_shows_30_days(staff):
    response = staff.get("/admin/?days=11", follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "That period is not valid" in html
    assert 'aria-current="true">Last 30 days' in html


def test_empty_workspace_says_what_to_do_next(staff):
    html = staff.get("/admin/").content.decode()
    assert "Add a connection" in html
    assert "Create a room" in html


def test_staff_without_workspace_is_told_how_to_get_one(db, client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    assert "not a member of any workspace" in client.get("/admin/").content.decode()
