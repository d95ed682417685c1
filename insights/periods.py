"""Time ranges and buckets for the chatbot insights, at a fixed UTC offset.

A range is half-open, ``[start, end)``. The bucket list is computed here, in plain Python, so
that the SQL queries only group rows and one pass over the list can zero-fill the units where
nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

UNITS = ("hour", "day", "month")
MAX_OFFSET_MINUTES = 14 * 60
MAX_BUCKETS = 10_000
DEFAULT_SPAN = timedelta(days=30)


class TooManyBuckets(ValueError):
    pass


def fixed_offset(minutes: int) -> timezone:
    """The zone ``minutes`` east of UTC (-480 is UTC-8)."""
    return timezone(timedelta(minutes=minutes))


def parse_bound(value: str, *, tz: timezone, is_end: bool) -> tuple[datetime, bool]:
    """An ISO 8601 date or date-time as an aware instant, and whether it was a date only.

    A value without a zone is read at ``tz``. A date-only value is that day's local midnight,
    or, for an end, the next midnight, so that the range includes the whole day. Raises
    ValueError (or OverflowError at the edges of the calendar) on anything else."""
    text = value.strip()
    if "T" in text:
        # An unencoded "+05:30" in a query string arrives as " 05:30".
        text = text.replace(" ", "+")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=tz)), False
    midnight = datetime.combine(day, time(), tzinfo=tz)
    return (midnight + timedelta(days=1) if is_end else midnight), True


def unit_start(moment: datetime, unit: str) -> datetime:
    """The start of the unit holding ``moment``, in ``moment``'s own zone."""
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if unit == "hour":
        return moment
    moment = moment.replace(hour=0)
    return moment if unit == "day" else moment.replace(day=1)


def next_unit_start(start: datetime, unit: str) -> datetime:
    if unit == "hour":
        return start + timedelta(hours=1)
    if unit == "day":
        return start + timedelta(days=1)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def unit_label(start: datetime, unit: str) -> str:
    """The bucket's ``_id`` in local time: YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH."""
    return start.isoformat()[: {"month": 7, "day": 10, "hour": 13}[unit]]


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Series:
    """A range cut into units at a fixed offset. ``starts`` are the local starts of every unit
    that overlaps the range (none for an empty range); the first may begin before
    ``range.start``."""

    range: TimeRange
    tz: timezone
    unit: str
    starts: tuple[datetime, ...]


def series_build(*, time_range: TimeRange, tz: timezone, unit: str) -> Series:
    starts: list[datetime] = []
    current = unit_start(time_range.start.astimezone(tz), unit)
    while time_range.start < time_range.end and current < time_range.end:
        if len(starts) == MAX_BUCKETS:
            raise TooManyBuckets(
                f"The range holds more than {MAX_BUCKETS} units of one {unit}; "
                "choose a larger unit or a shorter range."
            )
        starts.append(current)
        current = next_unit_start(current, unit)
    if starts:
        # Buckets are answered in UTC too; the first may start before year 1 there.
        starts[0].astimezone(UTC)
    return Series(range=time_range, tz=tz, unit=unit, starts=tuple(starts))
