"""Wire formats shared by every API."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    """2026-05-05T14:30:44.260Z: UTC, milliseconds and Z, the form every timestamp of the
    API and the CSV reports takes (as the upstream specs write them)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
