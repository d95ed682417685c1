"""The room page's engagement panels (timeline chart, who viewed what, action-plan bar) and
the rooms list's columns (views, last engaged, deal stage)."""

from __future__ import annotations

import json
import re

import pytest

from rooms.models import Action
from rooms.totals import refresh_room_totals
from syncing.models import Connection, CrmDeal
from tests.console.seed import days_ago
from tests.rooms.factories import (
    ActionFactory,
    ContactFactory,
    EngagementFactory,
    RoomFactory,
    SectionFactory,
    StepFactory,
    ViewershipFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


@pytest.fixture
def room(cast):
    room = RoomFactory(workspace=cast.workspace, title="Initech renewal", hs_deal_id="d-1")
    section = SectionFactory(room=room)
    step = StepFactory(section=section)
    ada = ContactFactory(workspace=cast.workspace, email="ada@initech.example", name="Ada")
    ViewershipFactory(step=step, contact=ada, duration_in_seconds=180)
    done = ActionFactory(section=section, status=Action.Status.DONE)
    ViewershipFactory(action=done, contact=ada, duration_in_seconds=60)
    ActionFactory(section=section, status=Action.Status.TODO)
    ActionFactory(section=section, status=Action.Status.TODO)
    EngagementFactory(step=step, contact=ada, created_at=days_ago(1))
    VisitFactory(room=room, contact=ada, at=days_ago(1, hour=9))
    refresh_room_totals([room.pk])
    connection = Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.HUBSPOT,
        name="HubSpot",
        base_url="http://127.0.0.1:9/",
    )
    CrmDeal.objects.create(
        workspace=cast.workspace,
        connection=connection,
        provider=Connection.Provider.HUBSPOT,
        upstream_id="d-1",
        name="Initech renewal",
        stage="contractsent",
    )
    return room


def test_the_room_page_shows_timeline_viewers_and_progress(owner_client, room):
    html = owner_client.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()

    data = json.loads(
        re.search(r'id="room-timeline".*?data-value="([^"]+)"', html, re.S)
        .group(1)
        .replace("&quot;", '"')
    )
    views, engagements = (dataset["data"] for dataset in data["datasets"])
    assert len(data["labels"]) == 30
    assert data["labels"][-2] == days_ago(1).date().isoformat()
    assert (views[-2], engagements[-2]) == (1, 1)
    viewers = re.search(r'<table id="room-viewers".*?</table>', html, re.S).group(0)
    assert "ada@initech.example" in viewers
    # One section, one page, one action item, 3 + 1 minutes.
    assert re.findall(r'<td class="num">(\d+)(?: min)?</td>', viewers) == ["1", "1", "1", "4"]
    assert "33.33 % · 1 of 3 action items done" in html


def test_the_rooms_list_shows_views_last_engaged_and_deal_stage(owner_client, room):
    html = owner_client.get("/admin/rooms/room/").content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Initech renewal.*?</tr>", html, re.S).group(0)
    assert "contractsent" in row
    assert ">1<" in row  # one visit
    for hidden in ("HubSpot deal id", "Is template", "Created at"):
        assert hidden not in html.split("<tbody")[0]


def test_search_and_filters_are_kept(owner_client, room, cast):
    RoomFactory(workspace=cast.workspace, title="Other")
    html = owner_client.get("/admin/rooms/room/?q=d-1").content.decode()
    assert "Initech renewal" in html
    assert ">Other<" not in html
    assert owner_client.get("/admin/rooms/room/?archived__exact=0").status_code == 200
