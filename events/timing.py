"""Webinar time rules: a session's local start in its own timezone, its access window and the
ISO 8601 form every timestamp is written in."""

from __future__ import annotations

import datetime as dt
from datetime import UTC
from decimal import Decimal
from enum import IntEnum
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db.models import Q


class AccessStatus(IntEnum):
    """The spec's accessStatus: too early, open, closed (past)."""

    TOO_EARLY = 1
    OPEN = 2
    CLOSED = 3


# The list filter's names for the three access states.
PERIODS = {
    "future": AccessStatus.TOO_EARLY,
    "current": AccessStatus.OPEN,
    "past": AccessStatus.CLOSED,
}


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_get(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; raises ValidationError for anything else (including
    file-system-like names that ZoneInfo would otherwise try to open)."""
    if name not in _timezone_names():
        raise ValidationError(
            f"“{name}” is not an IANA timezone name (e.g. Europe/Berlin).", code="unknown_timezone"
        )
    return ZoneInfo(name)


def local_start(date: dt.date, time: dt.time, timezone: str) -> dt.datetime:
    """The UTC instant of ``date time`` on the wall clock of ``timezone``.

    A wall time skipped by a DST change (02:30 on a spring-forward night) or repeated by one
    (02:30 on a fall-back night) names no single instant, so it is rejected instead of guessed.
    """
    zone = timezone_get(timezone)
    naive = dt.datetime.combine(date, time)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        try:
            return first.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                f"{naive:%Y-%m-%d %H:%M:%S} in {timezone} is outside the supported calendar "
                "(years 1 to 9999 in UTC).",
                code="out_of_range",
            ) from None
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise ValidationError(
            f"{naive:%Y-%m-%d %H:%M:%S} does not exist in {timezone} (the clocks skip it at a "
            "daylight-saving change); choose another time.",
            code="nonexistent_time",
        )
    raise ValidationError(
        f"{naive:%Y-%m-%d %H:%M:%S} happens twice in {timezone} (the clocks repeat it at a "
        "daylight-saving change); choose another time.",
        code="ambiguous_time",
    )


def access_window(
    *, starts_at: dt.datetime, duration_hours: Decimal, early_access_minutes: int
) -> tuple[dt.datetime, dt.datetime]:
    """(opens_at, ends_at): attendees may join from ``early_access_minutes`` before the start
    until ``duration_hours`` of elapsed time after it."""
    opens_at = starts_at - dt.timedelta(minutes=early_access_minutes)
    ends_at = starts_at + dt.timedelta(hours=float(duration_hours))
    return opens_at, ends_at


def access_status(*, opens_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> AccessStatus:
    if now < opens_at:
        return AccessStatus.TOO_EARLY
    if now < ends_at:
        return AccessStatus.OPEN
    return AccessStatus.CLOSED


def access_status_q(status: AccessStatus, now: dt.datetime) -> Q:
    """The same rule as ``access_status``, as a filter on Session's stored window."""
    if status is AccessStatus.TOO_EARLY:
        return Q(opens_at__gt=now)
    if status is AccessStatus.OPEN:
        return Q(opens_at__lte=now, ends_at__gt=now)
    return Q(ends_at__lte=now)
