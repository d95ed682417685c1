"""The time zone the console shows a staff member's times in (IANA names, validated)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.utils import formats, timezone

# The machine's own zone and tzdata's placeholder are in the list but are not places.
NOT_PLACES = {"localtime", "Factory"}


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones() - NOT_PLACES)


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "“%(value)s” is not a time zone. Use an IANA name such as Europe/Paris, "
            "America/New_York or Asia/Tokyo.",
            code="invalid_time_zone",
            params={"value": value},
        )


def staff_time_zone(user) -> ZoneInfo:
    """The staff member's own zone; else the default of the first of their workspaces (by name,
    as the dashboard orders them) that sets one; else UTC. Only workspaces they belong to
    count, so another workspace's default never applies. One query at most. A stored name the
    machine's tzdata does not know (written around the form's validation, or dropped by a tzdata
    update) shows UTC, which the pages then write beside every time, instead of failing."""
    name = user.time_zone or (
        user.workspaces.exclude(default_time_zone="")
        .order_by("name", "pk")
        .values_list("default_time_zone", flat=True)
        .first()
    )
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def time_label(value: datetime) -> str:
    """``value`` in the active zone with the zone's abbreviation ("6 Dec 2026, 08:30 JST"): the
    staff member's zone on console pages (console.middleware), UTC elsewhere."""
    return formats.localize(timezone.localtime(value))
