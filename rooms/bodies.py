"""The bodies of the rooms list and of a room's detail, built from plain rows.

One ``values()`` query reads the rooms with their totals (the RoomTotals rollup) and their times
already formatted by the database, and each body is a dict built from its row: no model
instances and no field-by-field serializer for a list of 100 rooms. RoomSerializer and
RoomDetailSerializer (rooms.api.serializers) describe the same shapes for the OpenAPI schema;
the conformance test checks real responses against them.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from rooms.analytics import IsoMillis, deal_summaries
from rooms.compiled import CompiledValues
from rooms.models import Engagement, Room
from syncing.crm.links import DEAL_SUMMARY_KEYS, with_deal_summaries

# engagements.<key> and the RoomTotals column it reads.
_BREAKDOWN = {
    "clicks": Engagement.Type.CLICK,
    "comments": Engagement.Type.COMMENT,
    "downloads": Engagement.Type.DOWNLOAD,
    "reactions": Engagement.Type.REACTION,
    "shares": Engagement.Type.SHARE,
    "views": Engagement.Type.VIEW,
    "tasksCompleted": Engagement.Type.TASK_COMPLETED,
}
_LIST_FIELDS = (
    "id",
    "title",
    "owner_id",
    "company_id",
    "cover_title",
    "cover_description",
    "cover_disabled",
    "theme_color",
    "nav_color",
    "totals__total_engagements",
    "totals__total_views",
    "totals__total_unique_views",
    *(f"totals__engagement_{type_.lower()}" for type_ in _BREAKDOWN.values()),
)
_DEAL_PARTS = ("name", "stage")
_DETAIL_FIELDS = (
    "description",
    "status_id",
    "label_id",
    "hs_deal_id",
    "sf_opportunity_id",
    "attio_deal_id",
    "is_template",
    "primary_contact__email",
    "slug",
)
_TIMES = {
    "created": IsoMillis("created_at"),
    "updated": IsoMillis("updated_at"),
    "last_engaged": IsoMillis("totals__last_engaged_at"),
}


def _text(value: str) -> str | None:
    return value or None


def room_items(rooms: QuerySet[Room], room_ids: list[UUID]) -> list[dict]:
    """The list entries of these rooms (of ``rooms``, in the order of ``room_ids``; a room
    deleted meanwhile is left out). One query."""
    rows = rooms.filter(pk__in=room_ids).values(*_LIST_FIELDS, **_TIMES)
    by_id = {row["id"]: row for row in rows}
    return [_item(by_id[room_id]) for room_id in room_ids if room_id in by_id]


def _detail_query(*, workspace_id: int, room_id: UUID) -> QuerySet[Room]:
    deals = [f"{prefix}_{part}" for prefix in DEAL_SUMMARY_KEYS.values() for part in _DEAL_PARTS]
    rooms = Room.objects.for_workspace(workspace_id).filter(pk=room_id)
    return with_deal_summaries(rooms).values(*_LIST_FIELDS, *_DETAIL_FIELDS, *deals, **_TIMES)


# Read on every GET, PATCH and POST of a room: compiled once (see rooms.compiled).
_DETAIL = CompiledValues(
    _detail_query, workspace_id=-7_301_999, room_id=UUID("5ec7a9d0-0000-4000-8000-5ec7a9d0a11d")
)


def room_detail(*, workspace_id: int, room_id: UUID) -> dict | None:
    """The detail body of the workspace's room, None when there is none. One query."""
    rows = _DETAIL.rows(workspace_id=workspace_id, room_id=room_id)
    if not rows:
        return None
    row = rows[0]
    body = {
        **_item(row),
        "description": _text(row["description"]),
        "statusId": row["status_id"],
        "labelId": row["label_id"],
        "hsDealId": _text(row["hs_deal_id"]),
        "sfOpportunityId": _text(row["sf_opportunity_id"]),
        "attioDealId": _text(row["attio_deal_id"]),
        "isTemplate": row["is_template"],
        "email": row["primary_contact__email"],
        "slug": row["slug"],
    }
    return body | deal_summaries(row)


def _item(row: dict) -> dict:
    return {
        "id": row["id"],
        "title": row["title"],
        "userId": None if row["owner_id"] is None else str(row["owner_id"]),
        "companyId": row["company_id"],
        "createdAt": row["created"],
        "updatedAt": row["updated"],
        "totalEngagements": row["totals__total_engagements"],
        "lastEngagedAt": row["last_engaged"],
        "totalViews": row["totals__total_views"],
        "totalUniqueViews": row["totals__total_unique_views"],
        "engagements": {
            key: row[f"totals__engagement_{type_.lower()}"] for key, type_ in _BREAKDOWN.items()
        },
        "coverTitle": _text(row["cover_title"]),
        "coverDescription": _text(row["cover_description"]),
        "coverDisabled": row["cover_disabled"],
        "themeColor": _text(row["theme_color"]),
        "navColor": _text(row["nav_color"]),
    }
