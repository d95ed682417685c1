"""Auto-created rooms: "when a deal enters stage X, create a room from template T".

Never two rooms for one deal: the room is created in the same transaction that inserts the
deal's ``DealRoom`` claim, whose unique constraint (workspace, provider, deal) decides. The
claim is inserted first, naming the room's pre-generated UUID (foreign keys are checked at
commit), so a concurrent creator (a webhook run, a scheduled run, a retry, another connection
of the same account) waits on the uncommitted claim, then fails to insert its own and creates
nothing. A batch's deal upserts and its rooms commit together: a run that dies in between
leaves the deals unstored, and the next run sees them enter their stage again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from rooms.models import Room
from rooms.services import room_create
from syncing.crm.links import room_deal_field, rooms_linked
from syncing.crm.types import Deal
from syncing.models import Connection, CrmDeal, DealRoom, DealRoomRule
from workspaces.models import User


def _members_by_email(*, workspace_id: int, emails: set[str]) -> dict[str, User]:
    members = User.objects.annotate(email_lower=Lower("email")).filter(
        memberships__workspace_id=workspace_id, email_lower__in=emails
    )
    return {user.email_lower: user for user in members}


def _first_valid_email(emails: Sequence[str]) -> str | None:
    for email in emails[:1]:
        try:
            validate_email(email)
        except ValidationError:
            return None
        return email
    return None


def deal_room_create(
    *, connection: Connection, deal: CrmDeal | Deal, template: Room, owner: User | None
) -> Room | None:
    """Claim the deal and create its room in one transaction. None when the deal already has
    its room (someone else's claim won)."""
    room_id = uuid.uuid4()
    try:
        with transaction.atomic():
            # The claim goes first and names the room about to be inserted (foreign keys are
            # checked at commit), so a concurrent claim blocks here, before any room exists.
            DealRoom.objects.create(
                workspace_id=connection.workspace_id,
                provider=connection.provider,
                deal_upstream_id=deal.upstream_id,
                room_id=room_id,
            )
            return room_create(
                workspace=connection.workspace,
                title=(deal.name or f"Deal {deal.upstream_id}")[:255],
                source=template,
                owner=owner,
                contact_email=_first_valid_email(deal.contact_emails),
                id=room_id,
                **{room_deal_field(connection.provider): deal.upstream_id},
            )
    except IntegrityError as error:
        if "dealroom_unique_deal" not in str(error):
            raise
        return None


def deals_autocreate_rooms(
    *, connection: Connection, deals: Sequence[CrmDeal | Deal]
) -> list[Room]:
    """Create the rooms the connection's enabled rules ask for, for deals just stored (rows, or
    the deals as deals_store stored them) in a rule's stage that have no room yet: neither an
    auto-created one nor one linked by hand. Queries: three to look up, then one room creation
    per new room."""
    rules = {
        rule.stage: rule
        for rule in DealRoomRule.objects.filter(connection=connection, enabled=True).select_related(
            "template"
        )
    }
    candidates = [deal for deal in deals if deal.stage in rules and not deal.archived]
    if not candidates:
        return []
    ids = [deal.upstream_id for deal in candidates]
    field = room_deal_field(connection.provider)
    has_room = set(
        DealRoom.objects.filter(
            workspace_id=connection.workspace_id,
            provider=connection.provider,
            deal_upstream_id__in=ids,
        ).values_list("deal_upstream_id", flat=True)
    ) | set(
        rooms_linked(workspace_id=connection.workspace_id, provider=connection.provider)
        .filter(**{f"{field}__in": ids})
        .values_list(field, flat=True)
    )
    members = _members_by_email(
        workspace_id=connection.workspace_id,
        emails={deal.owner_email.lower() for deal in candidates if deal.owner_email},
    )
    rooms = []
    for deal in candidates:
        if deal.upstream_id in has_room:
            continue
        room = deal_room_create(
            connection=connection,
            deal=deal,
            template=rules[deal.stage].template,
            owner=members.get(deal.owner_email.lower(), connection.default_owner),
        )
        if room is not None:
            rooms.append(room)
    return rooms
