"""POST /api/insights/events: batches of messages and triggers."""

import pytest

from insights.models import ChatMessage, ChatUser, Flow, FlowTrigger
from tests.insights.factories import utc

pytestmark = pytest.mark.django_db

URL = "/api/insights/events"


def message(id, user="u1", at="2021-10-01T10:00:00Z", direction="received", **extra):
    return {
        "id": id,
        "kind": "message",
        "direction": direction,
        "user": user if isinstance(user, dict) else {"id": user},
        "text": "hi",
        "at": at,
        **extra,
    }


def trigger(id, flow="f1", user="u1", at="2021-10-01T10:00:00Z"):
    return {"id": id, "kind": "trigger", "flow": {"id": flow}, "user": {"id": user}, "at": at}


def post(actor, events):
    return actor.client().post(URL, {"events": events}, format="json")


def test_stores_messages_triggers_users_and_flows(cast):
    response = post(
        cast.owner,
        [
            message(
                "m1",
                user={"id": "u1", "name": "Ada"},
                text=" Hello ",
                flow={"id": "f1", "name": "Welcome"},
            ),
            message("m2", direction="sent", at="2021-10-01T10:00:05Z"),
            trigger("t1", flow="f1", user="u2", at="2021-10-01T11:00:00Z"),
        ],
    )

    assert response.status_code == 200
    assert response.json() == {"accepted": 3, "duplicates": 0}
    first = ChatMessage.objects.get(client_id="m1")
    assert (first.workspace, first.user.upstream_id, first.user.name) == (
        cast.workspace,
        "u1",
        "Ada",
    )
    assert (first.direction, first.text, first.sent_at) == (
        "received",
        " Hello ",
        utc("2021-10-01T10:00"),
    )
    assert (first.flow.upstream_id, first.flow.name) == ("f1", "Welcome")
    assert ChatMessage.objects.get(client_id="m2").flow is None
    stored_trigger = FlowTrigger.objects.get(client_id="t1")
    assert (stored_trigger.flow, stored_trigger.user.upstream_id) == (first.flow, "u2")
    assert ChatUser.objects.get(upstream_id="u2").first_seen_at == utc("2021-10-01T11:00")


def test_replay_changes_nothing(cast):
    batch = [message("m1"), trigger("t1", at="2021-10-01T09:00:00Z")]
    post(cast.owner, batch)
    before = list(ChatUser.objects.values("upstream_id", "first_seen_at", "name"))

    response = post(cast.member, batch)

    assert response.json() == {"accepted": 0, "duplicates": 2}
    assert ChatMessage.objects.count() == 1
    assert FlowTrigger.objects.count() == 1
    assert list(ChatUser.objects.values("upstream_id", "first_seen_at", "name")) == before


def test_partly_new_batch_stores_only_the_new_items(cast):
    post(cast.owner, [message("m1"), trigger("t1")])

    response = post(cast.owner, [message("m1"), message("m2"), message("t1")])

    # "t1" is taken whatever the kind: ids are unique per workspace.
    assert response.json() == {"accepted": 1, "duplicates": 2}
    assert sorted(ChatMessage.objects.values_list("client_id", flat=True)) == ["m1", "m2"]
    assert FlowTrigger.objects.count() == 1


def test_first_seen_is_the_earliest_item_whatever_the_order(cast):
    post(cast.owner, [message("m1", at="2021-10-01T10:00:00Z")])
    post(
        cast.owner,
        [
            message("m2", at="2021-10-01T12:00:00Z"),
            trigger("t1", at="2021-10-01T08:00:00Z"),
            message("m3", at="2021-10-01T09:00:00Z"),
        ],
    )
    assert ChatUser.objects.get().first_seen_at == utc("2021-10-01T08:00")

    post(cast.owner, [message("m4", at="2021-10-01T11:00:00Z")])

    assert ChatUser.objects.get().first_seen_at == utc("2021-10-01T08:00")


def test_a_later_batch_feeds_new_users_of_the_right_day(cast):
    post(cast.owner, [message("m1", user="late", at="2021-10-05T10:00:00Z")])
    post(cast.owner, [message("m2", user="late", at="2021-10-02T10:00:00Z")])

    response = cast.owner.client().get(
        "/api/insights", {"start": "2021-10-01", "end": "2021-10-05"}
    )

    new_by_day = {p["_id"]: p["new_users"] for p in response.json()["metrics"]}
    assert new_by_day == {
        "2021-10-01": 0,
        "2021-10-02": 1,
        "2021-10-03": 0,
        "2021-10-04": 0,
        "2021-10-05": 0,
    }


def test_names_given_later_rename_flows_and_users(cast):
    post(cast.owner, [trigger("t1", flow="f1")])
    assert Flow.objects.get().name == ""

    post(
        cast.owner,
        [message("m1", user={"id": "u1", "name": "Ada"}, flow={"id": "f1", "name": "Welcome"})],
    )

    assert Flow.objects.get().name == "Welcome"
    assert ChatUser.objects.get().name == "Ada"
    post(cast.owner, [trigger("t2", flow="f1")])
    assert Flow.objects.get().name == "Welcome"


def test_a_naive_time_is_utc(cast):
    post(cast.owner, [message("m1", at="2021-10-01T10:00:00")])

    assert ChatMessage.objects.get().sent_at == utc("2021-10-01T10:00")


@pytest.mark.parametrize(
    ("bad_item", "field"),
    [
        (message("x", at="not a time"), "events.2.at"),
        (message("x", direction="inbound"), "events.2.direction"),
        ({**message("x"), "user": {}}, "events.2.user.id"),
        ({**message("x"), "text": None}, "events.2.text"),
        ({**message("x"), "kind": "click"}, "events.2.kind"),
        ({"id": "x"}, "events.2.kind"),
        ({**trigger("x"), "flow": None}, "events.2.flow"),
        (message("m1"), "events.2.id"),
        ("not an object", "events.2"),
    ],
)
def test_one_bad_item_rejects_the_whole_batch(cast, bad_item, field):
    response = post(cast.owner, [message("m1"), trigger("t1", flow="new-flow"), bad_item])

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not ChatMessage.objects.exists()
    assert not FlowTrigger.objects.exists()
    assert not ChatUser.objects.exists()
    assert not Flow.objects.exists()


def test_batch_of_more_than_1000_is_400(cast):
    too_many = [message(f"m{n}") for n in range(1001)]

    response = post(cast.owner, too_many)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["events"]
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize("body", [{}, {"events": "no"}, []])
def test_body_without_an_events_list_is_400(cast, body):
    response = cast.owner.client().post(URL, body, format="json")

    assert response.status_code == 400


def test_client_ids_are_per_workspace(cast):
    post(cast.owner, [message("m1")])

    response = post(cast.outsider, [message("m1")])

    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert ChatMessage.objects.filter(workspace=cast.other_workspace).count() == 1
    assert ChatUser.objects.filter(workspace=cast.workspace).count() == 1


def test_session_user_can_ingest(cast):
    response = cast.member.session_client().post(URL, {"events": [message("m1")]}, format="json")

    assert response.status_code == 200
    assert ChatMessage.objects.get().workspace == cast.workspace


def test_anonymous_is_401(anonymous):
    response = anonymous.post(URL, {"events": [message("m1")]}, format="json")

    assert response.status_code == 401
    assert not ChatMessage.objects.exists()


def test_query_count_does_not_grow_with_the_batch(cast, django_assert_max_num_queries):
    client = cast.owner.client()
    client.post(URL, {"events": [message("warm-up")]}, format="json")
    big = [
        item
        for n in range(200)
        for item in (
            message(f"m{n}", user=f"u{n}", flow={"id": f"f{n % 7}", "name": f"Flow {n % 7}"}),
            trigger(f"t{n}", flow=f"g{n % 5}", user=f"u{n}"),
        )
    ]
    # one id check, 2 flow upserts + read, one user upsert, 2 inserts, savepoints of the
    # request and of the service (and their releases)
    with django_assert_max_num_queries(11):
        response = client.post(URL, {"events": big}, format="json")
    assert response.json() == {"accepted": 400, "duplicates": 0}
