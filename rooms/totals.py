"""Per-room engagement totals (the RoomTotals rollup): what the rooms list sorts and pages on
and what a room's detail, the admin and the CRM write-back read.

- ``total_views``: the room's Visit rows (one per visit of any viewer);
- ``total_unique_views``: the distinct viewers (members or contacts) among them;
  each of the two plus the upstream's count when the room was pulled (``Room.upstream_views``,
  ``upstream_unique_views``: a pull copies the counts, not the visits behind them);
- ``total_engagements``: the room's Engagement rows, of any type;
- ``engagement_<type>`` (``engagement_click``, …): its Engagement rows of that type;
- ``last_engaged_at``: the latest of its engagement and visit times (null when it has neither).

Exactness: every writer of visits or engagements (ingestion, pulls, deletions) calls
``refresh_room_totals`` for the rooms it touched, inside its own transaction and after its
writes. The refresh recomputes those rooms' totals from their rows, so late, replayed or
deleted events cannot drift the totals, and it first locks the rooms' totals rows: a concurrent
writer of the same room waits, then recomputes from a snapshot that includes the first one's
committed rows (PostgreSQL, READ COMMITTED; SQLite runs one writer at a time anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import connection, transaction
from django.db.models import QuerySet

from rooms.models import Contact, Engagement, Room, RoomTotals, Visit

# Room ids per statement: SQLite binds each id three times and allows 32,766 parameters.
_CHUNK = 5000


def refresh_room_totals(room_ids: Iterable[UUID | str]) -> None:
    """Recompute the totals of these rooms from their visits and engagements (two queries per
    5,000 rooms: lock the rows, then one INSERT … SELECT … ON CONFLICT DO UPDATE). Call it in
    the transaction that wrote the activity, after the writes."""
    ids = sorted({UUID(str(room_id)) for room_id in room_ids})
    with transaction.atomic(savepoint=False):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            # Ordered, so two writers locking overlapping sets cannot deadlock.
            list(
                RoomTotals.objects.filter(room_id__in=chunk)
                .order_by("room_id")
                .select_for_update()
                .values_list("room_id", flat=True)
            )
            _recompute(chunk)


def contacts_delete(contacts: QuerySet[Contact]) -> None:
    """Delete contacts with their activity (it cascades), keeping the rooms' totals exact."""
    with transaction.atomic():
        contact_ids = list(contacts.values_list("pk", flat=True))
        rooms = set(
            Visit.objects.filter(contact_id__in=contact_ids).values_list("room_id", flat=True)
        )
        rooms |= set(
            Engagement.objects.filter(contact_id__in=contact_ids).values_list("room_id", flat=True)
        )
        Contact.objects.filter(pk__in=contact_ids).delete()
        refresh_room_totals(rooms)


def _recompute(room_ids: list[UUID]) -> None:
    quote = connection.ops.quote_name
    uuid_field = RoomTotals._meta.pk
    values = [uuid_field.get_db_prep_value(room_id, connection) for room_id in room_ids]
    if connection.vendor == "postgresql":
        in_ids, params = "= ANY(%s)", [values] * 3
    else:
        in_ids, params = "IN (" + ", ".join(["%s"] * len(values)) + ")", values * 3
    breakdown = {
        f"engagement_{type_.lower()}": f"SUM(CASE WHEN type = '{type_}' THEN 1 ELSE 0 END)"
        for type_ in Engagement.Type.values
    }
    counts = ["total_views", "total_unique_views", "total_engagements", *breakdown]
    columns = ["room_id", "workspace_id", "is_template", *counts, "last_engaged_at"]
    select = [
        "r.id",
        "r.workspace_id",
        "r.is_template",
        # A pulled room starts from the upstream's counts (rooms.models.Room.upstream_views).
        "COALESCE(r.upstream_views, 0) + COALESCE(v.views, 0)",
        "COALESCE(r.upstream_unique_views, 0) + COALESCE(v.viewers, 0)",
        "COALESCE(e.engagements, 0)",
        *(f"COALESCE(e.{name}, 0)" for name in breakdown),
        # GREATEST ignores NULLs on PostgreSQL but not on SQLite.
        "CASE WHEN e.last_at IS NULL OR v.last_at > e.last_at THEN v.last_at ELSE e.last_at END",
    ]
    breakdown_sql = "".join(f", {sql} AS {name}" for name, sql in breakdown.items())
    sql = f"""
        INSERT INTO {quote(RoomTotals._meta.db_table)} ({", ".join(map(quote, columns))})
        SELECT {", ".join(select)}
        FROM {quote(Room._meta.db_table)} r
        LEFT JOIN (
            SELECT room_id, COUNT(*) AS views,
                   COUNT(DISTINCT user_id) + COUNT(DISTINCT contact_id) AS viewers,
                   MAX(at) AS last_at
            FROM {quote(Visit._meta.db_table)} WHERE room_id {in_ids} GROUP BY room_id
        ) v ON v.room_id = r.id
        LEFT JOIN (
            SELECT room_id, COUNT(*) AS engagements, MAX(created_at) AS last_at{breakdown_sql}
            FROM {quote(Engagement._meta.db_table)} WHERE room_id {in_ids} GROUP BY room_id
        ) e ON e.room_id = r.id
        WHERE r.id {in_ids}
        ON CONFLICT (room_id) DO UPDATE SET
        {", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in columns[1:])}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
