"""Concurrent batches to both ingestion endpoints: the counts they answer add up to the rows
stored, and batches naming the same flows, users, contacts and booking pages in different
orders never deadlock."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connections

from insights.models import ChatMessage, ContactEvent, FlowTrigger
from insights.services import chat_events_ingest
from tests.concurrency import insert_committed_while_waited_for
from tests.insights.factories import utc
from tests.rooms.factories import ContactFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_URL = "/api/insights/events"


def activity_url(workspace) -> str:
    return f"/api/workspaces/{workspace.pk}/activity"


def chat_items(ids, *, users, flows):
    return [
        {
            "id": f"m{n}",
            "kind": "message",
            "direction": "received",
            "user": {"id": users[n % len(users)], "name": f"User {n % len(users)}"},
            "text": "hi",
            "flow": {"id": flows[n % len(flows)], "name": f"Flow {n % len(flows)}"},
            "at": f"2021-10-01T{n % 24:02}:00:00Z",
        }
        if n % 2
        else {
            "id": f"t{n}",
            "kind": "trigger",
            "flow": {"id": flows[n % len(flows)]},
            "user": {"id": users[n % len(users)]},
            "at": f"2021-10-01T{n % 24:02}:30:00Z",
        }
        for n in ids
    ]


def activity_items(ids, *, room, emails, slugs):
    return [
        {
            "id": f"e{n}",
            "kind": "contact_event",
            "type": "booking" if n % 2 else "room_join",
            "contact": {"email": emails[n % len(emails)]},
            **(
                {"bookingPage": {"slug": slugs[n % len(slugs)], "title": f"Page {n}"}}
                if n % 2
                else {"roomId": str(room.pk)}
            ),
            "at": f"2026-03-01T{n % 24:02}:00:00Z",
        }
        for n in ids
    ]


def warm_client(actor):
    """The actor's client, its key already used once: a key's first use records its
    last-used time, which would make the batches wait for each other on the key's row."""
    client = actor.client()
    assert client.get("/api/whoami").status_code == 200
    return client


def all_at_once(posts):
    """Run the ``posts`` (callables answering a response) in threads started together; the
    answers as (status, body) in the order of ``posts``."""
    answers = [None] * len(posts)
    start = threading.Barrier(len(posts))

    def run(index):
        try:
            start.wait(timeout=10)
            response = posts[index]()
            answers[index] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.fixture
def room(cast):
    return RoomFactory(workspace=cast.workspace)


def test_four_identical_chat_batches_at_once_accept_each_item_once(cast):
    items = chat_items(range(100), users=["u1", "u2", "u3"], flows=["f1", "f2"])
    client = warm_client(cast.owner)

    answers = all_at_once([lambda: client.post(CHAT_URL, {"events": items}, format="json")] * 4)

    assert [status for status, _ in answers] == [200] * 4
    assert sum(body["accepted"] for _, body in answers) == 100
    assert all(body["accepted"] + body["duplicates"] == 100 for _, body in answers)
    assert ChatMessage.objects.count() + FlowTrigger.objects.count() == 100


def test_four_identical_activity_batches_at_once_accept_each_item_once(cast, room):
    items = activity_items(range(100), room=room, emails=["a@x.example"], slugs=["intro"])
    client = warm_client(cast.owner)
    url = activity_url(cast.workspace)

    answers = all_at_once([lambda: client.post(url, {"events": items}, format="json")] * 4)

    assert [status for status, _ in answers] == [200] * 4
    assert sum(body["accepted"] for _, body in answers) == 100
    assert ContactEvent.objects.count() == 100


def test_a_message_stored_by_a_batch_committing_meanwhile_is_not_counted_again(cast):
    """The replay finds nothing stored yet, then waits for the first batch (on the user's
    row) and inserts after it committed: the message is the first batch's, not this one's."""
    warm = warm_client(cast.owner)

    def first_batch_stores_it():
        item = {
            "id": "m1",
            "kind": "message",
            "direction": "received",
            "user": {"id": "u1"},
            "text": "hi",
            "at": utc("2021-10-01T01:00"),
        }
        assert chat_events_ingest(workspace=cast.workspace, items=[item]).accepted == 1

    with insert_committed_while_waited_for(first_batch_stores_it):
        items = chat_items([1], users=["u1"], flows=["f1"])
        response = warm.post(CHAT_URL, {"events": items}, format="json")

    assert response.json() == {"accepted": 0, "duplicates": 1}
    assert ChatMessage.objects.count() == 1


def shuffled_batches(make_items, count: int, size: int):
    """``count`` batches of ``size`` distinct new items each, naming the same shared rows
    in a different order every time."""
    rng = random.Random(15)
    batches = []
    for batch in range(count):
        ids = list(range(batch * size, (batch + 1) * size))
        rng.shuffle(ids)
        batches.append(make_items(ids))
    return batches


def test_chat_batches_naming_the_same_flows_and_users_in_any_order_all_succeed(cast):
    users = [f"u{n}" for n in range(30)]
    flows = [f"f{n}" for n in range(30)]
    batches = shuffled_batches(lambda ids: chat_items(ids, users=users, flows=flows), 24, 60)
    client = warm_client(cast.owner)

    answers = all_at_once(
        [lambda b=b: client.post(CHAT_URL, {"events": b}, format="json") for b in batches]
    )

    assert [status for status, _ in answers] == [200] * len(batches)
    assert sum(body["accepted"] for _, body in answers) == 24 * 60


def test_activity_batches_naming_the_same_contacts_and_pages_in_any_order_all_succeed(cast, room):
    emails = [f"buyer{n}@x.example" for n in range(30)]
    slugs = [f"page-{n}" for n in range(30)]
    ContactFactory(workspace=cast.workspace, email=emails[0])
    batches = shuffled_batches(
        lambda ids: activity_items(ids, room=room, emails=emails, slugs=slugs), 24, 60
    )
    client = warm_client(cast.owner)
    url = activity_url(cast.workspace)

    answers = all_at_once(
        [lambda b=b: client.post(url, {"events": b}, format="json") for b in batches]
    )

    assert [status for status, _ in answers] == [200] * len(batches)
    assert ContactEvent.objects.count() == 24 * 60
