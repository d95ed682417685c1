"""The wall-clock rules: a session's local start in its own timezone and its access window."""

import datetime as dt
from datetime import UTC
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from config.formats import iso_utc
from events.timing import AccessStatus, access_status, access_window, local_start


@pytest.mark.parametrize(
    ("date", "time", "zone", "expected_utc"),
    [
        (dt.date(2026, 5, 5), dt.time(14, 0), "UTC", dt.datetime(2026, 5, 5, 14, 0, tzinfo=UTC)),
        # Berlin in summer is UTC+2 (CEST).
        (
            dt.date(2026, 5, 5),
            dt.time(14, 0),
            "Europe/Berlin",
            dt.datetime(2026, 5, 5, 12, 0, tzinfo=UTC),
        ),
        # New York in winter is UTC-5 (EST).
        (
            dt.date(2026, 1, 15),
            dt.time(9, 30),
            "America/New_York",
            dt.datetime(2026, 1, 15, 14, 30, tzinfo=UTC),
        ),
        # Kolkata is UTC+5:30 all year.
        (
            dt.date(2026, 5, 5),
            dt.time(20, 0),
            "Asia/Kolkata",
            dt.datetime(2026, 5, 5, 14, 30, tzinfo=UTC),
        ),
        # Sydney left DST on 5 April 2026: UTC+10 in May.
        (
            dt.date(2026, 5, 5),
            dt.time(10, 0),
            "Australia/Sydney",
            dt.datetime(2026, 5, 5, 0, 0, tzinfo=UTC),
        ),
    ],
)
def test_local_start_is_the_wall_clock_of_the_session_zone(date, time, zone, expected_utc):
    assert local_start(date, time, zone) == expected_utc


@pytest.mark.parametrize(
    ("date", "time", "zone"),
    [
        # Berlin springs forward at 02:00 on 29 March 2026: 02:30 never happens.
        (dt.date(2026, 3, 29), dt.time(2, 30), "Europe/Berlin"),
        # New York springs forward at 02:00 on 8 March 2026.
        (dt.date(2026, 3, 8), dt.time(2, 0), "America/New_York"),
    ],
)
def test_a_skipped_wall_time_is_rejected(date, time, zone):
    with pytest.raises(ValidationError, match="does not exist") as caught:
        local_start(date, time, zone)
    assert caught.value.code == "nonexistent_time"


@pytest.mark.parametrize(
    ("date", "time", "zone"),
    [
        # Berlin falls back at 03:00 on 25 October 2026: 02:30 happens twice.
        (dt.date(2026, 10, 25), dt.time(2, 30), "Europe/Berlin"),
        # New York falls back at 02:00 on 1 November 2026: 01:30 happens twice.
        (dt.date(2026, 11, 1), dt.time(1, 30), "America/New_York"),
    ],
)
def test_a_repeated_wall_time_is_rejected(date, time, zone):
    with pytest.raises(ValidationError, match="happens twice") as caught:
        local_start(date, time, zone)
    assert caught.value.code == "ambiguous_time"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "europe/berlin"])
def test_unknown_timezones_are_rejected(zone):
    with pytest.raises(ValidationError) as caught:
        local_start(dt.date(2026, 5, 5), dt.time(14, 0), zone)
    assert caught.value.code == "unknown_timezone"


def test_window_across_spring_forward_counts_elapsed_hours():
    # 01:30 CET (UTC+1) is 00:30Z; two hours later it is 02:30Z, which Berlin calls 04:30 CEST.
    start = local_start(dt.date(2026, 3, 29), dt.time(1, 30), "Europe/Berlin")
    opens_at, ends_at = access_window(
        starts_at=start, duration_hours=Decimal(2), early_access_minutes=15
    )
    assert opens_at == dt.datetime(2026, 3, 29, 0, 15, tzinfo=UTC)
    assert ends_at == dt.datetime(2026, 3, 29, 2, 30, tzinfo=UTC)


def test_window_across_fall_back_counts_elapsed_hours():
    # 00:30 EDT (UTC-4) is 04:30Z; three hours later is 07:30Z = 02:30 EST on the wall.
    start = local_start(dt.date(2026, 11, 1), dt.time(0, 30), "America/New_York")
    _, ends_at = access_window(starts_at=start, duration_hours=Decimal("3"), early_access_minutes=0)
    assert ends_at == dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_fractional_durations():
    start = dt.datetime(2026, 5, 5, 14, 0, tzinfo=UTC)
    _, ends_at = access_window(
        starts_at=start, duration_hours=Decimal("1.25"), early_access_minutes=0
    )
    assert ends_at == dt.datetime(2026, 5, 5, 15, 15, tzinfo=UTC)


def test_access_status_boundaries():
    opens_at = dt.datetime(2026, 5, 5, 13, 45, tzinfo=UTC)
    ends_at = dt.datetime(2026, 5, 5, 15, 0, tzinfo=UTC)
    tick = dt.timedelta(microseconds=1)

    def status(now):
        return access_status(opens_at=opens_at, ends_at=ends_at, now=now)

    assert status(opens_at - tick) is AccessStatus.TOO_EARLY
    assert status(opens_at) is AccessStatus.OPEN
    assert status(ends_at - tick) is AccessStatus.OPEN
    assert status(ends_at) is AccessStatus.CLOSED


def test_iso_utc_has_milliseconds_and_z():
    berlin_time = dt.datetime(
        2026, 5, 5, 16, 30, 44, 260123, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert iso_utc(berlin_time) == "2026-05-05T14:30:44.260Z"
    assert iso_utc(None) is None
