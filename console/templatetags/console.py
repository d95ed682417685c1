from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def change(figure: dict) -> str:
    """'+12 %' / '-5 %' / 'new' / '±0 %': the current value against the previous one."""
    current, previous = figure["current"] or 0, figure["previous"] or 0
    if previous == 0:
        return "±0 %" if current == 0 else "new"
    percent = round((current - previous) * 100 / previous)
    return f"{'+' if percent > 0 else '-' if percent < 0 else '±'}{abs(percent)} %"


@register.filter
def trend(figure: dict) -> str:
    """A CSS modifier: up, down or flat."""
    current, previous = figure["current"] or 0, figure["previous"] or 0
    return "up" if current > previous else "down" if current < previous else "flat"


@register.filter
def age(value: timedelta | None) -> str:
    """A duration as the largest whole unit: '3 d', '5 h', '12 min', 'now'."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "now"
