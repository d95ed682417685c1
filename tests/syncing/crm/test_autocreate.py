from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from rooms.models import Room, RoomContact, RoomMember, Section, Step
from syncing.crm.autocreate import deals_autocreate_rooms
from syncing.crm.deals import deals_store
from syncing.crm.types import Deal
from syncing.models import CrmDeal, DealRoom, DealRoomRule, OutboxMessage
from tests.concurrency import insert_committed_while_waited_for
from tests.factories import UserFactory
from tests.rooms.factories import RoomFactory

STAGE = "contractsent"


@pytest.fixture
def rule(crm_connection, template):
    return DealRoomRule.objects.create(
        workspace_id=crm_connection.workspace_id,
        connection=crm_connection,
        stage=STAGE,
        template=template,
    )


def deal(upstream_id="501", **fields) -> Deal:
    values = {
        "name": "Acme expansion",
        "stage": STAGE,
        "owner_email": "AE.Owner@example.com",
        "contact_emails": ("buyer@acme.example", "cfo@acme.example"),
    }
    return Deal(upstream_id=upstream_id, **(values | fields))


def store(store_run, *deals):
    with store_run() as run:
        deals_store(run, deals)
    return run.run


def test_a_deal_entering_a_rule_stage_gets_a_room_from_the_template(
    store_run, rule, member, template
):
    store(store_run, deal())

    room = Room.objects.get(is_template=False)
    assert room.title == "Acme expansion"
    assert room.hs_deal_id == "501"
    assert room.owner == member  # the deal owner's email, any case
    assert RoomMember.objects.get(room=room, is_room_owner=True).user == member
    assert room.primary_contact.email == "buyer@acme.example"
    assert RoomContact.objects.get(room=room, is_primary_contact=True).contact.email == (
        "buyer@acme.example"
    )
    assert list(Section.objects.filter(room=room).values_list("title", flat=True)) == ["Welcome"]
    assert sorted(Step.objects.filter(section__room=room).values_list("title", flat=True)) == [
        "Agenda",
        "Pricing",
    ]
    assert DealRoom.objects.get().room == room
    assert Section.objects.filter(room=template).count() == 1  # the template is untouched


def test_an_owner_who_is_not_a_member_gives_the_connection_default_owner(
    store_run, rule, crm_connection
):
    fallback = UserFactory(email="sales.ops@example.com")
    crm_connection.default_owner = fallback
    crm_connection.save()
    UserFactory(email="ae.owner@example.com")  # a user, but not a member of the workspace

    store(store_run, deal(contact_emails=()))

    room = Room.objects.get(is_template=False)
    assert room.owner == fallback
    assert room.primary_contact is None


def test_a_deal_gets_one_room_however_often_it_is_read_or_moves(store_run, rule):
    store(store_run, deal())
    store(store_run, deal())  # read again, unchanged
    store(store_run, deal(stage="closedwon"))
    store(store_run, deal())  # back into the stage

    assert Room.objects.filter(is_template=False).count() == 1
    assert DealRoom.objects.count() == 1


def test_deals_outside_the_rules_get_no_room(store_run, rule, crm_connection, template):
    DealRoomRule.objects.create(
        workspace_id=crm_connection.workspace_id,
        connection=crm_connection,
        stage="disabledstage",
        template=template,
        enabled=False,
    )

    store(
        store_run,
        deal("1", stage="appointmentscheduled"),
        deal("2", stage="disabledstage"),
        deal("3", archived=True),
    )

    assert not Room.objects.filter(is_template=False).exists()
    assert CrmDeal.objects.count() == 3


def test_a_deal_already_in_the_stage_when_first_read_enters_it(store_run, rule):
    store(store_run, deal("1", stage="qualified"), deal("2"))

    assert list(Room.objects.filter(is_template=False).values_list("hs_deal_id", flat=True)) == [
        "2"
    ]


def test_a_deal_linked_to_a_room_by_hand_gets_no_second_room(store_run, rule, workspace):
    linked = RoomFactory(workspace=workspace, hs_deal_id="501")

    store(store_run, deal())

    assert list(Room.objects.filter(is_template=False)) == [linked]


def _rooms_refused(cursor, refused: bool) -> None:
    """A real database failure on room insert (a trigger), standing in for a crash."""
    if refused:
        cursor.execute(
            "CREATE FUNCTION refuse_room() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'rooms refused'; END $$;"
            " CREATE TRIGGER refuse_room BEFORE INSERT ON rooms_room"
            " FOR EACH ROW EXECUTE FUNCTION refuse_room();"
        )
    else:
        cursor.execute("DROP TRIGGER refuse_room ON rooms_room; DROP FUNCTION refuse_room();")


def test_a_failed_room_creation_leaves_the_deal_to_be_read_again(store_run, rule):
    """The batch's deals and their rooms commit together: when the room cannot be created
    the deal is not stored either, so the next run still sees it entering its stage."""
    with connections["default"].cursor() as cursor:
        _rooms_refused(cursor, True)
        with pytest.raises(Exception, match="rooms refused"):
            store(store_run, deal("1", stage="qualified"), deal("2"))
        assert not CrmDeal.objects.exists()
        _rooms_refused(cursor, False)

    store(store_run, deal("1", stage="qualified"), deal("2"))

    assert Room.objects.get(is_template=False).hs_deal_id == "2"
    assert CrmDeal.objects.count() == 2


def _stored(crm_connection, upstream_id="501") -> CrmDeal:
    return CrmDeal.objects.create(
        workspace_id=crm_connection.workspace_id,
        connection=crm_connection,
        provider="hubspot",
        upstream_id=upstream_id,
        name="Acme expansion",
        stage=STAGE,
        contact_emails=["buyer@acme.example"],
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_creators_make_exactly_one_room(crm_connection, rule):
    """Webhook run, scheduled run and a retry all decide at once that the deal needs its room:
    each in its own thread and database connection."""
    stored = _stored(crm_connection)
    creators = 6
    start = threading.Barrier(creators)
    created, errors = [], []

    def create():
        try:
            start.wait(timeout=10)
            created.extend(deals_autocreate_rooms(connection=crm_connection, deals=[stored]))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(creators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(created) == 1
    assert list(Room.objects.filter(is_template=False)) == created
    assert DealRoom.objects.get().room_id == created[0].pk


@pytest.mark.django_db(transaction=True)
def test_a_creator_that_loses_the_race_creates_nothing(crm_connection, rule, template):
    """Another transaction claims the deal (uncommitted) after our look-up: our claim waits
    for it, fails once it commits, and we create no room and raise nothing."""
    stored = _stored(crm_connection)
    winner = uuid.uuid4()

    def claim_and_create():
        DealRoom.objects.create(
            workspace_id=crm_connection.workspace_id,
            provider="hubspot",
            deal_upstream_id="501",
            room_id=winner,
        )
        RoomFactory(id=winner, workspace_id=crm_connection.workspace_id, hs_deal_id="")

    with insert_committed_while_waited_for(claim_and_create):
        created = deals_autocreate_rooms(connection=crm_connection, deals=[stored])

    assert created == []
    assert list(Room.objects.filter(is_template=False).values_list("pk", flat=True)) == [winner]


def test_an_auto_created_room_is_pushed_like_any_new_room(store_run, rule, rooms_connection):
    """With a rooms-platform connection, the room's upstream creation is in the outbox,
    committed with the room, carrying the deal's title and link."""
    store(store_run, deal())

    room = Room.objects.get(is_template=False)
    message = OutboxMessage.objects.get(object_id=str(room.pk))
    assert message.connection == rooms_connection
    assert message.payload["title"] == "Acme expansion"
    assert message.payload["hsDealId"] == "501"
