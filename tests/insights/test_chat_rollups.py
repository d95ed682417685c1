"""The chat rollups answer what the rows answer: random activity ingested in shuffled batches
(late items), with replayed items (duplicates) and a deleted user, then random ranges, units
and offsets, compared with one plain SQL aggregate per unit over the raw rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights.chat_analytics import insights_metrics
from insights.models import ChatActiveUser, ChatCount, ChatUser
from insights.periods import TimeRange, fixed_offset, next_unit_start, series_build
from insights.rollups import split_utc
from insights.services import chat_events_ingest
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

ORIGIN = datetime(2021, 8, 28, tzinfo=UTC)  # activity over 70 days across three month ends
SPAN_MINUTES = 70 * 24 * 60
RAW_SQL = """
SELECT b.i,
       (SELECT count(*) FROM insights_chatmessage m WHERE m.workspace_id = %(ws)s
          AND m.direction = 'received' AND m.sent_at >= b.s AND m.sent_at < b.e),
       (SELECT count(*) FROM insights_chatmessage m WHERE m.workspace_id = %(ws)s
          AND m.direction = 'sent' AND m.sent_at >= b.s AND m.sent_at < b.e),
       (SELECT count(*) FROM insights_flowtrigger t WHERE t.workspace_id = %(ws)s
          AND t.at >= b.s AND t.at < b.e),
       (SELECT count(DISTINCT user_id) FROM insights_chatmessage m WHERE m.workspace_id = %(ws)s
          AND m.direction = 'received' AND m.sent_at >= b.s AND m.sent_at < b.e)
FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS b (s, e, i)
ORDER BY b.i
"""
FIGURES = ("received_messages", "sent_messages", "triggers", "active_users")

items = st.lists(
    st.tuples(
        st.sampled_from(["received", "sent", "trigger"]),
        st.integers(0, SPAN_MINUTES - 1),  # minute of the activity
        st.integers(0, 59),  # second
        st.integers(0, 5),  # user
    ),
    max_size=60,
)
queries = st.tuples(
    st.sampled_from(["hour", "day", "month"]),
    st.one_of(st.sampled_from([0, 330, -570, -480, 345, 840, -840]), st.integers(-840, 840)),
    st.integers(-2 * 24 * 60, SPAN_MINUTES),  # range start, minutes after ORIGIN
    st.integers(0, 75 * 24 * 60),  # range length in minutes
)


def item(n: int, kind: str, minute: int, second: int, user: int) -> dict:
    at = ORIGIN + timedelta(minutes=minute, seconds=second)
    common = {"id": f"i{n}", "user": {"id": f"u{user}"}, "at": at}
    if kind == "trigger":
        return {**common, "kind": "trigger", "flow": {"id": "f1"}}
    return {**common, "kind": "message", "direction": kind, "text": "hi"}


def ingest(workspace, activity, rng: random.Random) -> None:
    """Shuffled into up to three batches (so that earlier items arrive later), each batch
    replaying some items of the batches before it."""
    batch_items = [item(n, *fields) for n, fields in enumerate(activity)]
    rng.shuffle(batch_items)
    sent: list[dict] = []
    for batch in (batch_items[0::3], batch_items[1::3], batch_items[2::3]):
        replayed = rng.sample(sent, min(len(sent), 5))
        chat_events_ingest(workspace=workspace, items=batch + replayed)
        sent += batch


def raw_figures(workspace, bounds: list[tuple[datetime, datetime]]) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            RAW_SQL,
            {"ws": workspace.pk, "starts": [s for s, _ in bounds], "ends": [e for _, e in bounds]},
        )
        return [dict(zip(FIGURES, row[1:], strict=True)) for row in cursor.fetchall()]


def rollup_figures(workspace, series) -> tuple[list[dict], dict]:
    result = insights_metrics(workspace=workspace, series=series)
    units = [{name: point[name] for name in FIGURES} for point in result["metrics"]]
    return units, {name: result["stats"][name] for name in FIGURES}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(activity=items, asked=st.lists(queries, min_size=1, max_size=4), seed=st.integers())
def test_rollup_answers_equal_the_raw_rows(activity, asked, seed):
    rng = random.Random(seed)
    with transaction.atomic():
        workspace = WorkspaceFactory()
        ingest(workspace, activity, rng)
        if activity and rng.random() < 0.3:  # a deleted user takes their rows with them
            ChatUser.objects.filter(workspace=workspace, upstream_id="u0").delete()
        for unit, offset, start_minute, length in asked:
            if unit == "hour":
                length = length % (3 * 24 * 60)  # keep the hour series short
            start = ORIGIN + timedelta(minutes=start_minute, seconds=rng.choice([0, 0, 17]))
            time_range = TimeRange(start=start, end=start + timedelta(minutes=length))
            series = series_build(time_range=time_range, tz=fixed_offset(offset), unit=unit)
            bounds = [
                (max(s, time_range.start), min(next_unit_start(s, unit), time_range.end))
                for s in series.starts
            ]

            units, stats = rollup_figures(workspace, series)

            assert units == raw_figures(workspace, bounds)
            assert [stats] == raw_figures(workspace, [(time_range.start, time_range.end)])
        transaction.set_rollback(True)


def test_deleting_every_row_leaves_no_rollup_rows(cast):
    batch = [item(n, kind, n * 700, 0, n % 3) for n, kind in enumerate(["received", "sent"] * 5)]
    chat_events_ingest(workspace=cast.workspace, items=batch)
    assert ChatActiveUser.objects.filter(workspace_id=cast.workspace.pk).exists()

    ChatUser.objects.filter(workspace=cast.workspace).delete()

    assert not ChatCount.objects.filter(workspace_id=cast.workspace.pk).exists()
    assert not ChatActiveUser.objects.filter(workspace_id=cast.workspace.pk).exists()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # a whole UTC month, then days, hours, quarter hours, then a cut quarter hour
        (
            "2021-09-01T00:00",
            "2021-10-02T03:37",
            [
                ("month", "2021-09-01T00:00", "2021-10-01T00:00"),
                ("day", "2021-10-01T00:00", "2021-10-02T00:00"),
                ("hour", "2021-10-02T00:00", "2021-10-02T03:00"),
                ("15min", "2021-10-02T03:00", "2021-10-02T03:30"),
                ("raw", "2021-10-02T03:30", "2021-10-02T03:37"),
            ],
        ),
        # a local day at +05:30: quarter hours at both ends, whole hours between
        (
            "2021-09-30T18:30",
            "2021-10-01T18:30",
            [
                ("15min", "2021-09-30T18:30", "2021-09-30T19:00"),
                ("hour", "2021-09-30T19:00", "2021-10-01T18:00"),
                ("15min", "2021-10-01T18:00", "2021-10-01T18:30"),
            ],
        ),
        # a local hour at +05:45 (Nepal) and at -09:30 (Marquesas): quarter hours only, no raw
        (
            "2021-10-01T04:15",
            "2021-10-01T05:15",
            [("15min", "2021-10-01T04:15", "2021-10-01T05:15")],
        ),
        (
            "2021-10-01T09:30",
            "2021-10-01T10:30",
            [("15min", "2021-10-01T09:30", "2021-10-01T10:30")],
        ),
    ],
)
def test_a_range_is_split_into_the_largest_whole_utc_buckets(start, end, expected):
    def utc(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    pieces = split_utc(utc(start), utc(end))

    assert pieces == [(grain, utc(s), utc(e)) for grain, s, e in expected]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "9999-12-01", "end": "9999-12-02", "unit": "day"},
        {"start": "9999-11-01", "end": "9999-12-30", "unit": "day"},
        {"start": "0001-01-01", "end": "0001-02-01", "unit": "month", "offset": -600},
    ],
)
def test_units_at_the_edges_of_the_calendar_are_answered(cast, params):
    response = cast.owner.client().get("/api/insights", params)

    assert response.status_code == 200, response.json()
    assert response.json()["stats"][0]["received_messages"] == 0


def test_chat_figures_are_whole_numbers(cast):
    chat_events_ingest(workspace=cast.workspace, items=[item(1, "received", 60, 0, 1)])
    time_range = TimeRange(start=ORIGIN, end=ORIGIN + timedelta(days=1))
    series = series_build(time_range=time_range, tz=fixed_offset(0), unit="day")

    units, stats = rollup_figures(cast.workspace, series)

    assert [type(units[0][name]) for name in FIGURES] == [int] * 4
    assert [type(stats[name]) for name in FIGURES] == [int] * 4
