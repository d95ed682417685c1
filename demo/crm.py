"""Demo CRM deals: a HubSpot connection, switched off (it has no real account behind it), with
eight deals linked to the first eight demo rooms through ``Room.hs_deal_id``, so rooms show their
deal's name and stage and the CRM admin has rows to look at."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from demo.rooms import DemoRoom, hubspot_deal_id
from syncing.models import Connection, CrmDeal
from syncing.services import connection_create
from workspaces.models import Workspace

# A name under .invalid never resolves (RFC 2606): a sync started by hand fails at once, saying
# the host cannot be reached, and no request leaves the machine.
UNREACHABLE = "https://hubspot-demo.invalid"
STAGES = {
    0: "appointmentscheduled",
    1: "qualifiedtobuy",
    2: "presentationscheduled",
    3: "contractsent",
    4: "closedwon",
    5: "closedlost",
}


def crm_deals_create(
    *, workspace: Workspace, demo_rooms: list[DemoRoom], now: datetime, rng: random.Random
) -> int:
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.HUBSPOT,
        name="HubSpot (demo deals, switched off)",
        base_url=UNREACHABLE,
        api_key="demo-not-a-real-token",
        enabled=False,
    )
    deals = []
    for demo in demo_rooms:
        if not demo.room.hs_deal_id:
            continue
        room = demo.room
        deals.append(
            CrmDeal(
                workspace=workspace,
                connection=connection,
                provider=connection.provider,
                upstream_id=hubspot_deal_id(demo.number),
                name=room.title,
                stage=STAGES[demo.stage],
                amount=Decimal(rng.randrange(12, 180) * 1000),
                currency="EUR",
                owner_email=room.owner.email,
                close_date=(now + timedelta(days=rng.randrange(10, 60))).date(),
                upstream_modified_at=now - timedelta(days=rng.randrange(0, 10)),
                contact_emails=[buyer.email for buyer in demo.buyers],
            )
        )
    CrmDeal.objects.bulk_create(deals)
    return len(deals)
