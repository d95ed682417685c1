"""GET /api/insights against the ``chat`` fixture (see conftest.py for its table). Every
expected figure is worked out by hand in the comments next to it."""

from datetime import timedelta

import pytest
import time_machine

from tests.insights.factories import ChatMessageFactory, ChatUserFactory, utc

pytestmark = pytest.mark.django_db

URL = "/api/insights"
FIGURES = ("active_users", "total_users", "new_users", "triggers", "received_messages")


def point(_id, timestamp, active, total, new, triggers, received, sent):
    return {
        "_id": _id,
        "_timestamp": timestamp,
        "active_users": active,
        "total_users": total,
        "new_users": new,
        "triggers": triggers,
        "received_messages": received,
        "sent_messages": sent,
    }


def stats(active, total, new, triggers, received, sent):
    return [point(None, None, active, total, new, triggers, received, sent)]


def get(cast, **params):
    response = cast.owner.client().get(URL, params)
    assert response.status_code == 200, response.json()
    body = response.json()
    for row in body["stats"]:
        row["_timestamp"] = None
    return body


def test_days_at_utc(cast, chat):
    body = get(cast, offset=0, start="2021-10-01", end="2021-10-02", unit="day")

    # 10-01: received m(u1 02:00), m(u2 20:00); sent u1 02:01; active u1,u2; new u1,u2;
    # total u4+u1+u2; triggers A,A.  10-02: received u1 05:00, u3 23:30; sent u3; active u1,u3;
    # new u3; total 4; trigger B.
    assert body["metrics"] == [
        point("2021-10-01", "2021-10-01T00:00:00.000Z", 2, 3, 2, 2, 2, 1),
        point("2021-10-02", "2021-10-02T00:00:00.000Z", 2, 4, 1, 1, 2, 1),
    ]
    # active over the whole range is u1,u2,u3 = 3, not the sum of the days (4).
    assert body["stats"] == stats(3, 4, 3, 3, 4, 2)


def test_days_at_minus_480(cast, chat):
    body = get(cast, offset=-480, start="2021-10-01", end="2021-10-02", unit="day")

    # Range [10-01 08:00Z, 10-03 08:00Z). u1's first message and trigger (10-01 02:00Z) are
    # 09-30 18:00 local: outside, and u1 is first seen before the range (with u4).
    # 10-01 local: u2 20:00Z (12:00 local), u1 10-02 05:00Z (10-01 21:00 local); trigger u2.
    # 10-02 local: u3 23:30Z/23:31Z (15:30 local), received + sent; trigger B.
    assert body["metrics"] == [
        point("2021-10-01", "2021-10-01T08:00:00.000Z", 2, 3, 1, 1, 2, 0),
        point("2021-10-02", "2021-10-02T08:00:00.000Z", 1, 4, 1, 1, 1, 1),
    ]
    assert body["stats"] == stats(3, 4, 2, 2, 3, 1)


def test_days_at_plus_330_respect_the_sign(cast, chat):
    """+330 is UTC+05:30. PostgreSQL would read a zone string '+05:30' as UTC-05:30; then
    u2's message (10-01 20:00Z) would land on 10-01 instead of 10-02."""
    body = get(cast, offset=330, start="2021-10-01", end="2021-10-02", unit="day")

    # Range [09-30 18:30Z, 10-02 18:30Z). 10-01 local: u1 02:00Z/02:01Z (07:30 local),
    # received + sent, trigger A, u1 new; u4 (09-30 17:30 local) before the range.
    # 10-02 local: u2 20:00Z (01:30 local), u1 05:00Z (10:30 local), trigger A, u2 new.
    # u3 (10-03 05:00 local) is after the range.
    assert body["metrics"] == [
        point("2021-10-01", "2021-09-30T18:30:00.000Z", 1, 2, 1, 1, 1, 1),
        point("2021-10-02", "2021-10-01T18:30:00.000Z", 2, 3, 1, 1, 2, 0),
    ]
    assert body["stats"] == stats(2, 3, 2, 2, 3, 1)


def test_hours_zero_filled_at_utc(cast, chat):
    body = get(cast, start="2021-10-01T01:00:00Z", end="2021-10-01T04:00:00Z", unit="hour")

    # Only 02:00-03:00 has activity (u1: received, sent, trigger, first seen); u4 before.
    assert body["metrics"] == [
        point("2021-10-01T01", "2021-10-01T01:00:00.000Z", 0, 1, 0, 0, 0, 0),
        point("2021-10-01T02", "2021-10-01T02:00:00.000Z", 1, 2, 1, 1, 1, 1),
        point("2021-10-01T03", "2021-10-01T03:00:00.000Z", 0, 2, 0, 0, 0, 0),
    ]


def test_hours_at_plus_330_start_on_the_half_hour(cast, chat):
    # Zone-less start/end are read at the offset: 07:00+05:30 = 01:30Z, 09:00+05:30 = 03:30Z.
    body = get(cast, offset=330, start="2021-10-01T07:00", end="2021-10-01T09:00", unit="hour")

    # u1 at 02:00Z = 07:30 local, 02:01Z = 07:31 local.
    assert body["metrics"] == [
        point("2021-10-01T07", "2021-10-01T01:30:00.000Z", 1, 2, 1, 1, 1, 1),
        point("2021-10-01T08", "2021-10-01T02:30:00.000Z", 0, 2, 0, 0, 0, 0),
    ]


def test_hours_at_minus_480(cast, chat):
    body = get(cast, offset=-480, start="2021-10-01T12:00", end="2021-10-01T13:00", unit="hour")

    # 12:00-13:00 local is 20:00-21:00Z: u2's received message, trigger and first sight.
    # Before it: u4 and u1.
    assert body["metrics"] == [
        point("2021-10-01T12", "2021-10-01T20:00:00.000Z", 1, 3, 1, 1, 1, 0),
    ]


def test_explicit_zone_in_start_wins_over_offset(cast, chat):
    # An unencoded "+" arrives as a space; both spellings mean 02:00Z.
    for start in ("2021-10-01T07:30:00+05:30", "2021-10-01T07:30:00 05:30"):
        body = get(cast, offset=-480, start=start, end="2021-10-01T02:01:00Z", unit="hour")
        # [02:00Z, 02:01Z): u1's received message only (the sent one is at 02:01).
        assert body["stats"] == stats(1, 2, 1, 1, 1, 0)
        assert [m["_id"] for m in body["metrics"]] == ["2021-09-30T18"]


@pytest.fixture
def month_edges(cast):
    """Three users, each first seen with one received message, at month edges (UTC)."""
    for name, at in [
        ("ua", "2021-10-31T23:30"),
        ("ub", "2021-11-01T00:30"),
        ("uc", "2021-12-01T00:00"),
    ]:
        user = ChatUserFactory(workspace=cast.workspace, upstream_id=name, first_seen_at=utc(at))
        ChatMessageFactory(user=user, sent_at=utc(at))


def test_months_as_in_the_spec_example(cast, month_edges):
    body = get(cast, offset=0, start="2021-10-01", end="2021-11-30", unit="month")

    # The date-only end includes 11-30, so October and November; uc (12-01 00:00) is out.
    assert body["metrics"] == [
        point("2021-10", "2021-10-01T00:00:00.000Z", 1, 1, 1, 0, 1, 0),
        point("2021-11", "2021-11-01T00:00:00.000Z", 1, 2, 1, 0, 1, 0),
    ]
    assert body["stats"] == stats(2, 2, 2, 0, 2, 0)


def test_months_at_minus_480(cast, month_edges):
    body = get(cast, offset=-480, start="2021-10-01", end="2021-11-30", unit="month")

    # ua 10-31 15:30, ub 10-31 16:30 local: October. uc 11-30 16:00 local: November, and
    # inside the range because the range ends at 12-01 00:00 local = 12-01 08:00Z.
    assert body["metrics"] == [
        point("2021-10", "2021-10-01T08:00:00.000Z", 2, 2, 2, 0, 2, 0),
        point("2021-11", "2021-11-01T08:00:00.000Z", 1, 3, 1, 0, 1, 0),
    ]


def test_months_at_plus_330(cast, month_edges):
    body = get(cast, offset=330, start="2021-10-01", end="2021-11-30", unit="month")

    # ua 11-01 05:00, ub 11-01 06:00 local: November; uc 12-01 05:30 local: after the range.
    assert body["metrics"] == [
        point("2021-10", "2021-09-30T18:30:00.000Z", 0, 0, 0, 0, 0, 0),
        point("2021-11", "2021-10-31T18:30:00.000Z", 2, 2, 2, 0, 2, 0),
    ]


def test_months_across_a_year_end(cast, month_edges):
    body = get(cast, start="2021-12-15", end="2022-01-10", unit="month")

    # The first unit starts before the range; only uc (12-01) is before it.
    assert body["metrics"] == [
        point("2021-12", "2021-12-01T00:00:00.000Z", 0, 3, 0, 0, 0, 0),
        point("2022-01", "2022-01-01T00:00:00.000Z", 0, 3, 0, 0, 0, 0),
    ]


def test_partial_first_unit_counts_only_inside_the_range(cast, month_edges):
    body = get(cast, start="2021-11-01T00:00:00Z", end="2021-11-30", unit="month")

    # ua (10-31) is before the range: counted in total_users, not as new or active.
    assert body["metrics"] == [point("2021-11", "2021-11-01T00:00:00.000Z", 1, 2, 1, 0, 1, 0)]


def test_range_without_activity_is_zero_filled(cast, chat):
    body = get(cast, start="2022-03-01", end="2022-03-03")

    # All four users were first seen before; nothing else happened.
    assert body["metrics"] == [
        point("2022-03-01", "2022-03-01T00:00:00.000Z", 0, 4, 0, 0, 0, 0),
        point("2022-03-02", "2022-03-02T00:00:00.000Z", 0, 4, 0, 0, 0, 0),
        point("2022-03-03", "2022-03-03T00:00:00.000Z", 0, 4, 0, 0, 0, 0),
    ]
    assert body["stats"] == stats(0, 4, 0, 0, 0, 0)


def test_empty_range_has_no_units(cast, chat):
    body = get(cast, start="2021-10-01T02:00:00Z", end="2021-10-01T02:00:00Z")

    # [02:00, 02:00) is empty; u4 was first seen before it.
    assert body == {"stats": stats(0, 1, 0, 0, 0, 0), "metrics": []}


def test_workspace_without_data(cast):
    body = get(cast, start="2021-10-01", end="2021-10-01")

    assert body == {
        "stats": stats(0, 0, 0, 0, 0, 0),
        "metrics": [point("2021-10-01", "2021-10-01T00:00:00.000Z", 0, 0, 0, 0, 0, 0)],
    }


@time_machine.travel("2021-10-03T12:00:00Z", tick=False)
def test_defaults_are_day_units_over_the_last_30_days(cast, chat):
    body = get(cast)

    # [09-03 12:00Z, 10-03 12:00Z): 31 days, 09-03 to 10-03; everything in the fixture.
    assert len(body["metrics"]) == 31
    assert body["metrics"][0]["_id"] == "2021-09-03"
    assert body["metrics"][-1]["_id"] == "2021-10-03"
    assert body["stats"] == stats(3, 4, 4, 3, 4, 2)


@time_machine.travel("2021-10-03T12:00:00Z", tick=False)
def test_start_defaults_to_30_days_before_end(cast, chat):
    body = get(cast, end="2021-10-01", offset=-480, unit="month")

    # end = 10-02 00:00 local = 10-02 08:00Z; start = 09-02 08:00Z. Inside: u4 (09-30 04:00
    # local), u1 (09-30 18:00 local), u2, u1's second message (10-01 21:00 local).
    assert [m["_id"] for m in body["metrics"]] == ["2021-09", "2021-10"]
    assert body["stats"] == stats(2, 3, 3, 2, 3, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2021-13-01"}, "start"),
        ({"end": "2021-10-01T25:00"}, "end"),
        ({"start": "2021-10-03", "end": "2021-10-01"}, "end"),
        ({"start": "2021-10-01T02:00:00Z", "end": "2021-10-01T01:59:59Z"}, "end"),
        ({"unit": "week"}, "unit"),
        ({"unit": "Day"}, "unit"),
        ({"offset": "abc"}, "offset"),
        ({"offset": "841"}, "offset"),
        ({"offset": "-841"}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"start": "2020-01-01", "end": "2021-12-31", "unit": "hour"}, "unit"),
        ({"end": "0001-01-02"}, "end"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "end"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(cast, params, field):
    response = cast.owner.client().get(URL, params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_ten_thousand_units_is_the_limit(cast):
    start = utc("2021-01-01T00:00")
    ok = cast.owner.client().get(
        URL,
        {
            "start": start.isoformat(),
            "end": (start + timedelta(hours=10_000)).isoformat(),
            "unit": "hour",
        },
    )
    too_many = cast.owner.client().get(
        URL,
        {
            "start": start.isoformat(),
            "end": (start + timedelta(hours=10_000, minutes=1)).isoformat(),
            "unit": "hour",
        },
    )

    assert ok.status_code == 200
    assert len(ok.json()["metrics"]) == 10_000
    assert too_many.status_code == 400
    assert list(too_many.json()["error"]["fields"]) == ["unit"]


def test_offset_limits_are_allowed(cast):
    for offset in (-840, 840):
        assert cast.owner.client().get(URL, {"offset": offset}).status_code == 200


def test_member_and_session_see_their_workspace(cast, chat):
    params = {"start": "2021-10-01", "end": "2021-10-02"}
    for client in (cast.member.client("Authorization"), cast.owner.session_client()):
        response = client.get(URL, params)
        assert response.status_code == 200
        assert response.json()["stats"][0]["received_messages"] == 4


def test_outsider_sees_only_its_own_workspace(cast, chat):
    response = cast.outsider.client().get(URL, {"start": "2021-10-01", "end": "2021-10-02"})

    assert response.status_code == 200
    assert response.json()["stats"][0]["received_messages"] == 0
    assert response.json()["stats"][0]["total_users"] == 0


def test_anonymous_is_401(anonymous):
    assert anonymous.get(URL).status_code == 401


def test_query_count_does_not_grow_with_data_or_range(cast, chat, django_assert_max_num_queries):
    client = cast.owner.client()
    client.get(URL)  # the key's last-used time is written at most once a minute
    # 1 key lookup + settings + 4 aggregates (+ savepoints of the request transaction)
    with django_assert_max_num_queries(9):
        client.get(URL, {"start": "2021-10-01", "end": "2021-10-02", "unit": "hour"})
    for n in range(30):
        user = ChatUserFactory(workspace=cast.workspace, first_seen_at=utc("2021-10-01T05:00"))
        ChatMessageFactory(user=user, sent_at=utc("2021-10-01T05:00") + timedelta(hours=n))
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"start": "2021-01-01", "end": "2021-12-31", "unit": "hour"})
    assert len(response.json()["metrics"]) == 8760


def test_date_only_end_on_the_day_before_start_is_400(cast):
    # end=10-01 means "through 10-01": entirely before a start of 10-02 00:00.
    response = cast.owner.client().get(URL, {"start": "2021-10-02", "end": "2021-10-01"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["end"]


def test_date_only_end_on_the_day_of_a_later_start_time(cast, chat):
    body = get(cast, start="2021-10-01T12:00:00Z", end="2021-10-01")

    # [10-01 12:00Z, 10-02 00:00Z): u2's message and trigger at 20:00.
    assert body["stats"] == stats(1, 3, 1, 1, 1, 0)
