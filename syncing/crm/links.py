"""How rooms link to CRM deals: each CRM has its own id field on Room."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery

from rooms.models import Room
from syncing.models import Connection, CrmDeal

ROOM_DEAL_FIELDS = {
    Connection.Provider.HUBSPOT: "hs_deal_id",
    Connection.Provider.SALESFORCE: "sf_opportunity_id",
    Connection.Provider.ATTIO: "attio_deal_id",
}


def room_deal_field(provider: str) -> str:
    """The Room field holding the provider's deal id (``hs_deal_id``, ...)."""
    return ROOM_DEAL_FIELDS[provider]


def rooms_linked(*, workspace_id: int, provider: str) -> QuerySet[Room]:
    """The workspace's rooms linked to a deal of the provider."""
    return Room.objects.filter(workspace_id=workspace_id).exclude(**{room_deal_field(provider): ""})


def with_deal_summaries(rooms: QuerySet[Room]) -> QuerySet[Room]:
    """Annotate ``<link>_name`` and ``<link>_stage`` (``hs_deal_name``, ``sf_opportunity_stage``,
    ...) from the pulled deal each CRM id names; null when the deal was never pulled. Subqueries
    on the deals' unique key: any room queryset stays one query."""
    annotations = {}
    for provider, field in ROOM_DEAL_FIELDS.items():
        deal = CrmDeal.objects.filter(
            workspace=OuterRef("workspace"), provider=provider, upstream_id=OuterRef(field)
        )
        prefix = field.removesuffix("_id")
        annotations[f"{prefix}_name"] = Subquery(deal.values("name")[:1])
        annotations[f"{prefix}_stage"] = Subquery(deal.values("stage")[:1])
    return rooms.annotate(**annotations)


def room_deals(room: Room) -> list[CrmDeal]:
    """The pulled deals the room links to (one query)."""
    links = Q()
    for provider, field in ROOM_DEAL_FIELDS.items():
        if getattr(room, field):
            links |= Q(provider=provider, upstream_id=getattr(room, field))
    if not links:
        return []
    return list(CrmDeal.objects.filter(links, workspace_id=room.workspace_id).order_by("provider"))


# The API's name for each link (rooms API and room analytics) and the Room field prefix.
DEAL_SUMMARY_KEYS = {
    "hsDeal": "hs_deal",
    "sfOpportunity": "sf_opportunity",
    "attioDeal": "attio_deal",
}


def deal_summary(room: Room, link: str) -> dict | None:
    """``{"name", "stage"}`` of the deal the room's ``<link>_id`` names, from the annotations of
    ``with_deal_summaries``; None when the room has no such link or the deal was never pulled."""
    name = getattr(room, f"{link}_name", None)
    if not getattr(room, f"{link}_id") or name is None:
        return None
    return {"name": name, "stage": getattr(room, f"{link}_stage")}
