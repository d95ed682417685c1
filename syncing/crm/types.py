"""What a CRM provider package hands to the shared CRM code, and what it implements.

A CRM provider package (syncing/providers/hubspot, salesforce, attio) has:
- ``client.py``: ``Client``, an UpstreamClient subclass implementing ``CrmClient`` below;
- ``streams.py``: ``STREAMS`` with a ``"deals"`` stream (its incremental pull, accepting
  ``ids=[...]`` to fetch just those deals, for webhooks) and a ``"write_back"`` stream;
- ``webhooks.py``: ``verify(connection, request) -> WebhookNotice``, raising WebhookRejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Protocol

from syncing.errors import RecordError

# The room figures written to a deal, by our name. A connection's
# options["write_back_properties"] maps them to upstream property names; each client has
# defaults in WRITE_BACK_PROPERTIES.
WRITE_BACK_FIELDS = (
    "room_url",
    "progress_percentage",
    "total_views",
    "total_unique_views",
    "total_engagements",
    "last_engaged_at",
)
# What kind of value each field holds (for creating it in the CRM).
WRITE_BACK_KINDS = {
    "room_url": "text",
    "progress_percentage": "number",
    "total_views": "number",
    "total_unique_views": "number",
    "total_engagements": "number",
    "last_engaged_at": "datetime",
}


@dataclass(frozen=True)
class Deal:
    """One upstream deal (HubSpot deal, Salesforce opportunity, Attio deal), normalised."""

    upstream_id: str
    name: str = ""
    stage: str = ""
    amount: Decimal | None = None
    currency: str = ""
    owner_email: str = ""
    close_date: date | None = None
    modified_at: datetime | None = None
    archived: bool = False
    # Emails of the deal's contacts, primary first (auto-created rooms take the first).
    contact_emails: tuple[str, ...] = ()
    # The raw upstream record, kept for the admin and for fields we do not map.
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """A deal stage as the CRM lists it: ``id`` is what deals carry (HubSpot's stage id,
    Salesforce's StageName value, Attio's status title), ``label`` what people read."""

    pipeline_id: str
    pipeline_label: str
    id: str
    label: str


@dataclass(frozen=True)
class DealUpdate:
    upstream_id: str
    properties: dict[str, str | int | float | None]


@dataclass(frozen=True)
class WebhookNotice:
    """A verified webhook delivery: its event ids (for de-duplication) and the deals named."""

    event_ids: tuple[str, ...]
    deal_ids: tuple[str, ...]


class WebhookRejected(Exception):
    """The delivery is not authentic (bad, missing or stale signature): answered 401."""


class CrmClient(Protocol):
    # Most deals one write call may carry (HubSpot batch: 100; Salesforce collections: 200).
    WRITE_BATCH: ClassVar[int]
    # Our write-back field name -> the upstream property name, unless the connection says.
    WRITE_BACK_PROPERTIES: ClassVar[dict[str, str]]

    def deals_fetch(self, ids: Sequence[str]) -> list[Deal | RecordError]:
        """The named deals as they are now (a deal that no longer exists comes back archived)."""
        ...

    def deals_write(self, updates: Sequence[DealUpdate]) -> dict[str, str]:
        """Write up to WRITE_BATCH updates. Returns the failed items (upstream id -> message);
        raises an UpstreamError when the whole call failed."""
        ...

    def stages(self) -> list[Stage]:
        """Every pipeline's stages, in the CRM's order."""
        ...

    def deal_field_names(self) -> set[str]:
        """The names of the deal object's fields (to find missing write-back fields)."""
        ...

    def deal_fields_create(self, fields: dict[str, str]) -> None:
        """Create the write-back fields (our field name -> upstream name), where the API
        allows it; a client without this method cannot (Salesforce: see its docs page)."""
        ...
