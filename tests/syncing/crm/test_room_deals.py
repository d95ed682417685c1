"""The pulled deals where people see rooms: the room API, room analytics and the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from syncing.models import Connection, CrmDeal, DealRoom, DealRoomRule, SyncRun
from syncing.services import connection_create
from tests.rooms.factories import RoomFactory
from tests.syncing.crm.hubspot_setup import hubspot_connection_create
from tests.syncing.fakes.hubspot import FakeHubSpot

pytestmark = pytest.mark.django_db


def crm(workspace, provider="hubspot", name="HubSpot") -> Connection:
    return connection_create(
        workspace=workspace,
        provider=provider,
        name=name,
        base_url="http://crm.example",
        credentials={"access_token": "unused"},
    )


def deal(connection, upstream_id, **fields) -> CrmDeal:
    return CrmDeal.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        provider=connection.provider,
        upstream_id=upstream_id,
        **fields,
    )


@pytest.fixture
def linked(cast):
    """A room of workspace A linked to a pulled HubSpot deal and to a Salesforce opportunity
    never pulled; workspace B has a deal with the same HubSpot id."""
    deal(crm(cast.workspace), "9001", name="Acme renewal", stage="contractsent")
    deal(crm(cast.other_workspace), "9001", name="Globex secret", stage="closedlost")
    return RoomFactory(
        workspace=cast.workspace, hs_deal_id="9001", sf_opportunity_id="0064x000009abcDAAQ"
    )


def test_the_room_carries_its_pulled_deal_next_to_the_crm_id(cast, linked):
    body = cast.member.client().get(f"/api/v2/rooms/{linked.pk}").json()

    assert body["hsDealId"] == "9001"
    assert body["hsDeal"] == {"name": "Acme renewal", "stage": "contractsent"}
    assert body["sfOpportunityId"] == "0064x000009abcDAAQ"
    assert "sfOpportunity" not in body  # linked, but never pulled
    assert "attioDeal" not in body  # not linked


def test_room_analytics_carry_the_pulled_deal(cast, linked):
    body = cast.owner.client().get(f"/api/v2/rooms/{linked.pk}/analytics").json()

    assert body["hsDeal"] == {"name": "Acme renewal", "stage": "contractsent"}
    assert "sfOpportunity" not in body
    assert "attioDeal" not in body


def test_a_deal_pulled_after_the_link_shows_up(cast):
    room = RoomFactory(workspace=cast.workspace, attio_deal_id="deal-abc-123")
    client = cast.owner.client()
    assert "attioDeal" not in client.get(f"/api/v2/rooms/{room.pk}").json()

    deal(crm(cast.workspace, "attio", "Attio"), "deal-abc-123", name="Wayne", stage="")

    assert client.get(f"/api/v2/rooms/{room.pk}").json()["attioDeal"] == {
        "name": "Wayne",
        "stage": "",
    }


def _queries(client, path) -> int:
    with CaptureQueriesContext(db) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_deals_cost_no_query_of_their_own(cast, linked):
    unlinked = RoomFactory(workspace=cast.workspace)
    client = cast.owner.client()
    client.get(f"/api/v2/rooms/{unlinked.pk}")  # the first request records the key as used

    for suffix in ("", "/analytics"):
        assert _queries(client, f"/api/v2/rooms/{linked.pk}{suffix}") == _queries(
            client, f"/api/v2/rooms/{unlinked.pk}{suffix}"
        )


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def staff(client, cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


def test_the_room_admin_page_shows_the_deal(staff, cast):
    hubspot = crm(cast.workspace)
    pulled = deal(
        hubspot, "9002", name="Acme expansion", stage="qualified", amount=Decimal("4200.00")
    )
    room = RoomFactory(workspace=cast.workspace, hs_deal_id="9002")

    page = staff.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()

    assert "Acme expansion" in page
    assert "qualified" in page
    assert "4200.00" in page
    assert f"/admin/syncing/crmdeal/{pulled.pk}/change/" in page


def test_deals_are_listed_per_workspace_and_read_only(staff, cast, linked):
    listing = staff.get("/admin/syncing/crmdeal/?provider__exact=hubspot")

    assert [row.name for row in listing.context["cl"].result_list] == ["Acme renewal"]
    ours = CrmDeal.objects.get(workspace=cast.workspace)
    page = staff.get(f"/admin/syncing/crmdeal/{ours.pk}/change/").content.decode()
    assert f"/admin/rooms/room/{linked.pk}/change/" in page  # its linked room
    assert staff.get("/admin/syncing/crmdeal/add/").status_code == 403
    theirs = CrmDeal.objects.get(workspace=cast.other_workspace)
    assert staff.get(f"/admin/syncing/crmdeal/{theirs.pk}/change/").status_code == 302


def with_stages(connection: Connection, *stages: tuple[str, str]) -> Connection:
    """As a Test connection leaves it: the CRM's stages (id, label) read and kept."""
    connection.crm_catalog = {
        "stages": [
            {
                "pipeline_id": "default",
                "pipeline_label": "Sales Pipeline",
                "id": id_,
                "label": label,
            }
            for id_, label in stages
        ],
        "missingFields": {},
        "readAt": "2026-12-04T17:00:00.000Z",
    }
    connection.save(update_fields=["crm_catalog"])
    return connection


def test_a_rule_is_added_in_the_admin_for_the_connection_workspace(staff, cast):
    hubspot = with_stages(crm(cast.workspace), ("contractsent", "Contract Sent"))
    template = RoomFactory(workspace=cast.workspace, is_template=True)

    form = staff.get("/admin/syncing/dealroomrule/add/").content.decode()
    assert "Sales Pipeline: Contract Sent" in form
    response = staff.post(
        "/admin/syncing/dealroomrule/add/",
        {
            "connection": hubspot.pk,
            "stage": f"{hubspot.pk}:contractsent",
            "template": template.pk,
            "enabled": "on",
        },
    )

    assert response.status_code == 302
    rule = DealRoomRule.objects.get()
    assert (rule.workspace_id, rule.stage, rule.template) == (
        cast.workspace.pk,
        "contractsent",
        template,
    )


def test_a_rule_needs_a_crm_connection_and_a_template_of_its_workspace(staff, cast, client):
    rooms = connection_create(
        workspace=cast.workspace,
        provider="rooms_platform",
        name="Flowla",
        base_url="http://rooms.example",
        api_key="key",
    )
    template = RoomFactory(workspace=cast.workspace, is_template=True)
    cast.owner.user.is_superuser = True  # sees every workspace's templates
    cast.owner.user.save()
    foreign = RoomFactory(workspace=cast.other_workspace, is_template=True)

    not_crm = staff.post(
        "/admin/syncing/dealroomrule/add/",
        {"connection": rooms.pk, "stage": "x", "template": template.pk},
    )
    hubspot = with_stages(crm(cast.workspace), ("x", "X"))
    cross = staff.post(
        "/admin/syncing/dealroomrule/add/",
        {"connection": hubspot.pk, "stage": f"{hubspot.pk}:x", "template": foreign.pk},
    )

    assert "CRM connections only" in not_crm.content.decode()
    assert "of the connection&#x27;s workspace" in cross.content.decode()
    assert not DealRoomRule.objects.exists()


def test_a_stage_the_crm_does_not_list_or_of_another_connection_is_refused(staff, cast):
    hubspot = with_stages(crm(cast.workspace), ("contractsent", "Contract Sent"))
    other = with_stages(crm(cast.workspace, name="HubSpot EU"), ("closedwon", "Closed Won"))
    template = RoomFactory(workspace=cast.workspace, is_template=True)

    def add(stage: str) -> str:
        return staff.post(
            "/admin/syncing/dealroomrule/add/",
            {"connection": hubspot.pk, "stage": stage, "template": template.pk},
        ).content.decode()

    assert "Select a valid choice" in add(f"{hubspot.pk}:contractsnet")  # a typo
    assert "Pick a stage of the rule&#x27;s connection." in add(f"{other.pk}:closedwon")
    assert not DealRoomRule.objects.exists()


def test_deal_rooms_are_read_only(staff, cast):
    room = RoomFactory(workspace=cast.workspace, title="Auto room")
    claim = DealRoom.objects.create(
        workspace=cast.workspace, provider="hubspot", deal_upstream_id="1", room=room
    )

    listing = staff.get("/admin/syncing/dealroom/").content.decode()

    assert "Auto room" in listing
    assert staff.get("/admin/syncing/dealroom/add/").status_code == 403
    page = staff.get(f"/admin/syncing/dealroom/{claim.pk}/change/")
    assert page.status_code == 200
    assert 'name="deal_upstream_id"' not in page.content.decode()  # nothing editable


def test_the_admin_reads_selected_deals_again(staff, cast):
    fake = FakeHubSpot().start()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the queued task runs here, unmocked
    try:
        hubspot = hubspot_connection_create(cast.workspace, fake)
        upstream = fake.add_deal(dealname="Renamed upstream")
        stale = deal(hubspot, upstream["id"], name="Old name")

        response = staff.post(
            "/admin/syncing/crmdeal/",
            {"action": "sync_again", "_selected_action": [stale.pk]},
        )
    finally:
        celery_app.conf.task_always_eager = previous
        fake.stop()

    assert response.status_code == 302
    stale.refresh_from_db()
    assert stale.name == "Renamed upstream"
    assert SyncRun.objects.get().trigger == "manual"
