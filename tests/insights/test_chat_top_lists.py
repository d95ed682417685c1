"""GET /api/insights/top_messages and /api/insights/top_flows."""

import pytest
import time_machine

from tests.insights.factories import (
    ChatMessageFactory,
    ChatUserFactory,
    FlowFactory,
    FlowTriggerFactory,
    utc,
)

pytestmark = pytest.mark.django_db

RANGE = {"start": "2021-10-01", "end": "2021-10-31"}


@pytest.fixture
def texts(cast):
    user = ChatUserFactory(workspace=cast.workspace, first_seen_at=utc("2021-09-01T00:00"))
    for text, direction, at in [
        ("Hi", "received", "2021-10-01T00:00"),
        ("  hi ", "received", "2021-10-05T00:00"),
        ("HI", "received", "2021-10-31T23:59"),
        ("hi", "sent", "2021-10-05T00:00"),  # sent by the bot: not counted
        ("hi", "received", "2021-11-01T00:00"),  # after the range
        ("Hello", "received", "2021-10-02T00:00"),
        ("hello", "received", "2021-10-03T00:00"),
        ("zeta", "received", "2021-10-03T00:00"),
        ("bye", "received", "2021-10-03T00:00"),
        ("alpha", "received", "2021-10-03T00:00"),
        ("   ", "received", "2021-10-03T00:00"),  # blank after trimming: left out
    ]:
        ChatMessageFactory(user=user, text=text, direction=direction, sent_at=utc(at))


def test_top_messages_grouped_trimmed_and_case_folded(cast, texts):
    response = cast.owner.client().get("/api/insights/top_messages", RANGE)

    assert response.status_code == 200
    # hi: Hi, "  hi ", HI = 3; hello: 2; then the ties at 1 by text.
    assert response.json() == [
        {"_id": "hi", "count": 3},
        {"_id": "hello", "count": 2},
        {"_id": "alpha", "count": 1},
        {"_id": "bye", "count": 1},
        {"_id": "zeta", "count": 1},
    ]


def test_top_messages_limit(cast, texts):
    response = cast.owner.client().get("/api/insights/top_messages", {**RANGE, "limit": 3})

    assert [row["_id"] for row in response.json()] == ["hi", "hello", "alpha"]


def test_top_messages_range_reads_zone_less_dates_at_the_offset(cast, texts):
    # 10-01 local at +60 starts 09-30 23:00Z and ends 10-31 23:00Z: "HI" at 23:59 is out,
    # so hi (2) ties with hello (2) and comes second by text.
    response = cast.owner.client().get(
        "/api/insights/top_messages", {**RANGE, "offset": 60, "limit": 2}
    )

    assert response.json() == [{"_id": "hello", "count": 2}, {"_id": "hi", "count": 2}]


@time_machine.travel("2021-11-01T12:00:00Z", tick=False)
def test_top_messages_default_range_is_the_last_30_days(cast, texts):
    # [10-02 12:00Z, 11-01 12:00Z): "Hi" (10-01) and "Hello" (10-02 00:00) fall out.
    response = cast.owner.client().get("/api/insights/top_messages")

    assert response.json() == [
        {"_id": "hi", "count": 3},
        {"_id": "alpha", "count": 1},
        {"_id": "bye", "count": 1},
        {"_id": "hello", "count": 1},
        {"_id": "zeta", "count": 1},
    ]


def test_top_messages_empty_range(cast, texts):
    response = cast.owner.client().get(
        "/api/insights/top_messages", {"start": "2020-01-01", "end": "2020-01-31"}
    )

    assert response.json() == []


@pytest.fixture
def flows(cast):
    ws = cast.workspace
    user = ChatUserFactory(workspace=ws, first_seen_at=utc("2021-09-01T00:00"))
    welcome = FlowFactory(workspace=ws, upstream_id="616f1b6a", name="Welcome")
    zulu = FlowFactory(workspace=ws, upstream_id="5e4078cc", name="Zulu")
    alpha_2 = FlowFactory(workspace=ws, upstream_id="b-2", name="Alpha")
    alpha_1 = FlowFactory(workspace=ws, upstream_id="a-1", name="Alpha")
    FlowFactory(workspace=ws, upstream_id="never", name="Never triggered")
    for flow, at in [
        (welcome, "2021-10-01T00:00"),
        (welcome, "2021-10-10T00:00"),
        (welcome, "2021-11-01T00:00"),  # after the range
        (zulu, "2021-10-10T00:00"),
        (alpha_2, "2021-10-10T00:00"),
        (alpha_1, "2021-10-10T00:00"),
    ]:
        FlowTriggerFactory(flow=flow, user=user, at=utc(at))


def test_top_flows_by_triggers_ties_by_name_then_id(cast, flows):
    response = cast.owner.client().get("/api/insights/top_flows", RANGE)

    assert response.status_code == 200
    assert response.json() == [
        {"_id": {"id": "616f1b6a", "name": "Welcome"}, "count": 2},
        {"_id": {"id": "a-1", "name": "Alpha"}, "count": 1},
        {"_id": {"id": "b-2", "name": "Alpha"}, "count": 1},
        {"_id": {"id": "5e4078cc", "name": "Zulu"}, "count": 1},
    ]


def test_top_flows_limit(cast, flows):
    response = cast.owner.client().get("/api/insights/top_flows", {**RANGE, "limit": 1})

    assert response.json() == [{"_id": {"id": "616f1b6a", "name": "Welcome"}, "count": 2}]


@pytest.mark.parametrize("path", ["top_messages", "top_flows"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"start": "soon"}, "start"),
        ({"start": "2021-10-05", "end": "2021-10-01"}, "end"),
        ({"offset": 900}, "offset"),
    ],
)
def test_top_lists_bad_parameters(cast, path, params, field):
    response = cast.owner.client().get(f"/api/insights/{path}", params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("path", ["top_messages", "top_flows"])
def test_top_lists_limit_100_is_allowed(cast, path):
    assert cast.owner.client().get(f"/api/insights/{path}", {"limit": 100}).status_code == 200


@pytest.mark.parametrize("path", ["top_messages", "top_flows"])
def test_top_lists_access(cast, texts, flows, anonymous, path):
    url = f"/api/insights/{path}"

    assert len(cast.member.client("api-secret").get(url, RANGE).json()) > 0
    assert len(cast.owner.session_client().get(url, RANGE).json()) > 0
    assert cast.outsider.client().get(url, RANGE).json() == []
    assert anonymous.get(url, RANGE).status_code == 401


@pytest.mark.parametrize("path", ["top_messages", "top_flows"])
def test_top_lists_run_one_query(cast, texts, flows, path, django_assert_max_num_queries):
    client = cast.owner.client()
    client.get(f"/api/insights/{path}")  # the key's last-used time is written once a minute
    # key lookup + the top list + the request's savepoint and release
    with django_assert_max_num_queries(4):
        client.get(f"/api/insights/{path}", {**RANGE, "limit": 100})
