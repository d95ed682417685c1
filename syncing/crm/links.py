"""How rooms link to CRM deals: each CRM has its own id field on Room."""

from __future__ import annotations

from django.db.models import QuerySet

from rooms.models import Room
from syncing.models import Connection

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
