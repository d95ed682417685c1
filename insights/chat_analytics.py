"""Reads for the chatbot insights. Every figure is an SQL aggregate; the number of queries is
fixed whatever the data or the range (four for the metrics, one for each top list).

On PostgreSQL the message and trigger figures come from the rollups (insights.rollups); on
SQLite (no triggers to keep them) from the rows themselves. Users' first-seen times are read
from the users, one row per user, on both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower, Trim, Trunc

from insights import rollups
from insights.models import ChatMessage, ChatUser, FlowTrigger
from insights.periods import Series, TimeRange, unit_label
from workspaces.models import Workspace

RECEIVED = Q(direction=ChatMessage.Direction.RECEIVED)
SENT = Q(direction=ChatMessage.Direction.SENT)
# Counting the (never null) user column rather than the id keeps every figure readable from
# the (workspace, sent_at, direction, user) index; COUNT(*) cannot take a filter in Django.
MESSAGE_FIGURES = {
    "active_users": Count("user", distinct=True, filter=RECEIVED),
    "received_messages": Count("user", filter=RECEIVED),
    "sent_messages": Count("user", filter=SENT),
}
FIGURES = (
    "active_users",
    "total_users",
    "new_users",
    "triggers",
    "received_messages",
    "sent_messages",
)
FIGURE_ZEROS = dict.fromkeys(FIGURES, 0)


def _in_range(queryset: QuerySet, field: str, time_range: TimeRange) -> QuerySet:
    return queryset.filter(**{f"{field}__gte": time_range.start, f"{field}__lt": time_range.end})


def _by_unit(queryset: QuerySet, field: str, series: Series, **figures) -> dict[datetime, dict]:
    """One GROUP BY over the unit start at the series' offset: {unit start: {figure: n}}.

    PostgreSQL reads a zone string such as '+05:30' with the POSIX sign (as UTC-05:30); Django's
    Trunc with a fixed-offset tzinfo writes it with the sign flipped for that reason, which the
    +330 offset tests prove."""
    rows = (
        _in_range(queryset, field, series.range)
        .annotate(unit=Trunc(field, series.unit, tzinfo=series.tz))
        .values("unit")
        .annotate(**figures)
        .order_by()
    )
    return {row.pop("unit"): row for row in rows}


def _chat_figures_from_rows(
    workspace: Workspace, series: Series
) -> tuple[dict[datetime, dict], dict]:
    """As rollups.chat_figures, from the messages and triggers themselves. Four queries."""
    messages = ChatMessage.objects.for_workspace(workspace)
    triggers = FlowTrigger.objects.for_workspace(workspace)
    totals = {
        **_in_range(messages, "sent_at", series.range).aggregate(**MESSAGE_FIGURES),
        **_in_range(triggers, "at", series.range).aggregate(triggers=Count("*")),
    }
    units = _by_unit(messages, "sent_at", series, **MESSAGE_FIGURES)
    for start, figures in _by_unit(triggers, "at", series, triggers=Count("*")).items():
        units.setdefault(start, {}).update(figures)
    return units, totals


def insights_metrics(*, workspace: Workspace, series: Series) -> dict[str, Any]:
    """The stats of the whole range and one zero-filled point per unit.

    ``total_users`` of a unit counts users first seen before the unit's end (or the range's
    end, if sooner): those first seen before the range plus the new users of every unit so far.
    """
    if connection.vendor == "postgresql":
        units, stats = rollups.chat_figures(workspace_id=workspace.pk, series=series)
    else:
        units, stats = _chat_figures_from_rows(workspace, series)
    users = ChatUser.objects.for_workspace(workspace)
    time_range = series.range
    stats.update(
        users.filter(first_seen_at__lt=time_range.end).aggregate(
            users_before=Count("first_seen_at", filter=Q(first_seen_at__lt=time_range.start)),
            new_users=Count("first_seen_at", filter=Q(first_seen_at__gte=time_range.start)),
        )
    )
    user_units = _by_unit(users, "first_seen_at", series, new_users=Count("*"))

    users_before = stats.pop("users_before")
    stats["total_users"] = users_before + stats["new_users"]
    total_users = users_before
    metrics = []
    for start in series.starts:
        point = {
            **FIGURE_ZEROS,
            **units.get(start, {}),
            **user_units.get(start, {"new_users": 0}),
        }
        total_users += point["new_users"]
        point["total_users"] = total_users
        label = unit_label(start, series.unit)
        metrics.append({"label": label, "start": start, **{n: point[n] for n in FIGURES}})
    return {"stats": {name: stats[name] for name in FIGURES}, "metrics": metrics}


def insights_top_messages(
    *, workspace: Workspace, time_range: TimeRange, limit: int
) -> list[dict[str, Any]]:
    """Received texts grouped after trimming spaces and lower-casing; blank texts are left out.
    Count descending, ties by text."""
    return list(
        _in_range(ChatMessage.objects.for_workspace(workspace), "sent_at", time_range)
        .filter(RECEIVED)
        .annotate(text_key=Lower(Trim("text")))
        .exclude(text_key="")
        .values("text_key")
        .annotate(count=Count("*"))
        .order_by("-count", "text_key")[:limit]
    )


def insights_top_flows(
    *, workspace: Workspace, time_range: TimeRange, limit: int
) -> list[dict[str, Any]]:
    """Flows by number of triggers; count descending, ties by name, then the flow's id."""
    return list(
        _in_range(FlowTrigger.objects.for_workspace(workspace), "at", time_range)
        .values("flow_id", "flow__upstream_id", "flow__name")
        .annotate(count=Count("*"))
        .order_by("-count", "flow__name", "flow__upstream_id")[:limit]
    )
