"""The demo workspace a fresh install starts with: filled once, through the same code paths as
real data, with the ids docs/demo.md names, and every read endpoint showing something."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from demo.cast import ROOM, SECTION, demo_uuid
from events.models import Registrant
from rooms.models import Engagement, Room, Visit
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

FIRST_ROOM = "10000000-0000-4000-8000-000000000001"


def bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def first_start(django_db_setup, django_db_blocker):
    """One first start shared by the module's tests (it takes seconds), rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield bootstrap()
        transaction.set_rollback(True)


@pytest.fixture
def api(first_start) -> APIClient:
    key = re.search(r"API key:\s+(fs_\S+)", first_start).group(1)
    client = APIClient()
    client.credentials(HTTP_X_FLOWLA_API_KEY=key)
    return client


def test_demo_ids_follow_the_documented_pattern():
    assert str(demo_uuid(ROOM, 1)) == FIRST_ROOM
    assert str(demo_uuid(SECTION, 12, 3)) == "20000000-0000-4000-8000-000000120003"


def test_every_read_endpoint_shows_the_demo_data(api):
    workspace = Workspace.objects.get(slug="demo")

    rooms = api.get("/api/v2/rooms?limit=100").json()["results"]
    assert len(rooms) == 40
    assert sum(room["totalEngagements"] > 0 for room in rooms) >= 35
    analytics = api.get(f"/api/v2/rooms/{FIRST_ROOM}/analytics").json()
    assert [s["title"] for s in analytics["sections"]][:2] == ["Welcome", "Our proposal"]
    assert any(a.get("viewCount") for a in analytics["assignees"])

    stats = api.get("/api/insights").json()["stats"][0]
    assert stats["received_messages"] > 100
    assert len(api.get("/api/insights/top_flows").json()) == 4
    kpis = api.get(f"/api/workspaces/{workspace.pk}/analytics").json()["kpis"]
    assert kpis["rooms"] == 40
    assert kpis["bookings"] > 0
    assert kpis["recordings"] > 0

    sessions = {s["token"]: s for s in api.get("/api/v1/events/sessions").json()}
    assert sessions["demo-launch-1"]["accessStatus"] == 3  # past
    assert sessions["demo-launch-3"]["accessStatus"] == 1  # future
    surveys = api.get("/api/v1/reports/events/sessions/surveys/demo-launch-1").json()
    assert surveys[0]["id"] == 101
    assert surveys[0]["responseCount"] > 0
    assert [o["id"] for o in api.get("/api/v1/operators").json()] == [101, 102, 103]
    assert {u["id"] for u in api.get("/api/v2/users").json()["results"]} >= {"101", "105"}


def test_activity_has_a_weekday_shape_over_ninety_days(api):
    visits = list(Visit.objects.values_list("at", flat=True))
    weekdays = sum(at.weekday() < 5 for at in visits)
    # An average weekday sees over twice the visits of an average weekend day.
    assert weekdays / 5 > 2 * (len(visits) - weekdays) / 2
    assert (max(visits) - min(visits)).days >= 60
    assert Engagement.objects.filter(type=Engagement.Type.TASK_COMPLETED).exists()
    assert Registrant.objects.filter(attended=True).exists()


def test_a_second_start_adds_nothing_and_no_demo_leaves_the_workspace_empty(api):
    counts = (Room.objects.count(), Visit.objects.count(), Registrant.objects.count())

    assert "Demo data" not in bootstrap()
    assert (Room.objects.count(), Visit.objects.count(), Registrant.objects.count()) == counts


def test_docs_demo_page_names_the_rooms_that_exist(api):
    page = (Path(__file__).resolve().parents[2] / "docs" / "demo.md").read_text()
    documented = dict(re.findall(r"^\| `(1[0-9a-f-]{35})` \| ([^|]+?) \|", page, re.MULTILINE))

    stored = {str(pk): title for pk, title in Room.objects.values_list("id", "title")}
    assert documented == stored
