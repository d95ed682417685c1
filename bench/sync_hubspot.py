"""HubSpot deals pull against the fake HubSpot on loopback, beside a plain fetch-and-store
baseline.

Fills the fake with N deals (each with one contact, one of 20 owners, an amount, a currency and
a close date; one in 50 archived), pulls them once untimed and ANALYZEs the deals table
(``analyzed_after``), then alternates, ``--pairs`` times: flowsync's ``deals``
stream (the first pull of a new connection, which reads every deal, as a worker runs it;
creating the workspaces and deleting them afterwards is outside the timings) and a baseline
that makes the same calls with ``requests`` (the searches by ascending id, each page's contact
associations and contacts, each owner once, the archived list) and COPYs each raw deal, with
its first contact's and its owner's email, as one jsonb row. Prints medians of wall and CPU
seconds (this process: the pull and the fake) and their ratios (the harness of
bench/baseline.py), and upstream calls per 1,000 deals.

    createdb -h 127.0.0.1 -U postgres fs_hubspot_bench
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_hubspot_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/sync_hubspot.py [--deals 10000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.db import connection  # noqa: E402

from bench.baseline import alternate, copy_json, print_pair  # noqa: E402
from syncing.models import Connection, CrmDeal, SyncRun  # noqa: E402
from syncing.services import connection_create  # noqa: E402
from syncing.streams import stream_run  # noqa: E402
from tests.syncing.fakes.hubspot import FakeHubSpot  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

OWNERS = 20
ARCHIVED_EVERY = 50
STAGES = ("appointmentscheduled", "qualifiedtobuy", "contractsent", "closedwon")
PROPERTIES = [
    "dealname",
    "dealstage",
    "amount",
    "deal_currency_code",
    "closedate",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
]


def populate(fake: FakeHubSpot, deals: int, seed: int = 13) -> None:
    """``deals`` deals modified a minute apart over the past weeks."""
    rng = random.Random(seed)
    owners = [fake.add_owner(f"ae{n}@acme.example") for n in range(OWNERS)]
    start = datetime.now(UTC) - timedelta(minutes=deals + 60)
    for n in range(deals):
        fake.add_deal(
            modified=start + timedelta(minutes=n),
            contacts=(f"buyer{n}@globex.example",),
            archived=n % ARCHIVED_EVERY == ARCHIVED_EVERY - 1,
            dealname=f"Globex renewal {n}",
            dealstage=rng.choice(STAGES),
            amount=f"{rng.randint(1000, 250000)}.{rng.randint(0, 99):02d}",
            deal_currency_code=rng.choice(("USD", "EUR", "GBP")),
            closedate=(start + timedelta(days=rng.randint(10, 120))).date().isoformat(),
            hubspot_owner_id=rng.choice(owners),
        )


def fresh_connection(fake: FakeHubSpot, index: int) -> Connection:
    """A connection to the fake in a workspace of its own (set up outside the timings)."""
    workspace = Workspace.objects.create(name=f"hubspot bench {index}", slug=f"hb-{index}")
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.HUBSPOT,
        name="Fake HubSpot",
        base_url=fake.url,
        credentials={"access_token": fake.api_key},
        options={"requests_per_second": 100000, "burst": 100000},
    )


def flowsync_pull(conn: Connection) -> tuple[int, int]:
    """The first pull of a new connection (every deal), as a worker runs it: (upstream calls,
    deals stored)."""
    run = stream_run(connection=conn, stream="deals")
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run.upstream_calls, CrmDeal.objects.filter(connection=conn).count()


def baseline_pull(fake: FakeHubSpot) -> tuple[int, int]:
    """The same calls with plain requests, each raw deal COPYed as one jsonb row with its
    first contact's and its owner's email: (upstream calls, deals stored)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fake.api_key}"
    objects = f"{fake.url}/crm/v3/objects"
    calls, rows, owners = 0, [], {}

    def post(url: str, body: dict) -> dict:
        nonlocal calls
        calls += 1
        return session.post(url, json=body).json()

    def store(deals: list, contacts: dict[str, str]) -> None:
        nonlocal calls
        for deal in deals:
            owner_id = deal["properties"].get("hubspot_owner_id")
            if owner_id and owner_id not in owners:
                calls += 1
                owners[owner_id] = session.get(f"{fake.url}/crm/v3/owners/{owner_id}").json()
            owner = owners.get(owner_id) or {}
            row = {"deal": deal, "contact": contacts.get(deal["id"]), "owner": owner.get("email")}
            rows.append(json.dumps(row))

    until = {
        "propertyName": "hs_lastmodifieddate",
        "operator": "LTE",
        "value": str(int(datetime.now(UTC).timestamp() * 1000)),
    }
    last_id = None
    while True:
        filters = [until]
        if last_id is not None:
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": last_id})
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": PROPERTIES,
            "limit": 200,
        }
        page = post(f"{objects}/deals/search", body)
        deals = page["results"]
        if not deals:
            break
        links = post(
            f"{fake.url}/crm/v4/associations/deals/contacts/batch/read",
            {"inputs": [{"id": deal["id"]} for deal in deals]},
        )
        first = {link["from"]["id"]: str(link["to"][0]["toObjectId"]) for link in links["results"]}
        contact_ids = list(first.values())
        emails = {}
        for start in range(0, len(contact_ids), 100):
            chunk = contact_ids[start : start + 100]
            read = post(
                f"{objects}/contacts/batch/read",
                {"properties": ["email"], "inputs": [{"id": i} for i in chunk]},
            )
            emails |= {c["id"]: c["properties"]["email"] for c in read["results"]}
        store(deals, {deal: emails.get(contact) for deal, contact in first.items()})
        last_id = deals[-1]["id"]
        if "paging" not in page:
            break
    params = {"archived": "true", "limit": 100, "properties": ",".join(PROPERTIES)}
    while True:
        calls += 1
        page = session.get(f"{objects}/deals", params=params).json()
        store(page["results"], {})
        if "paging" not in page:
            break
        params["after"] = page["paging"]["next"]["after"]
    session.close()
    return calls, copy_json(rows, "bench_deals")


def analyzed_after(warm_up) -> None:
    """Run ``warm_up`` (not timed), then ANALYZE the deals table, as autovacuum does on a
    production database as it fills: without statistics (a scratch database, or a server
    running without autovacuum) the planner takes a workspace for empty, and each page's read
    of the stored hashes walks all the workspace's deals instead of looking up the page's."""
    warm_up()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(CrmDeal._meta.db_table)}")


def measure(deals: int, pairs: int) -> dict:
    """Per side: medians over ``pairs`` alternating runs (bench.baseline.alternate), upstream
    calls and deals stored."""
    fake = FakeHubSpot().start()
    populate(fake, deals)
    *connections, warm_up = [fresh_connection(fake, index) for index in range(pairs + 1)]
    try:
        analyzed_after(lambda: flowsync_pull(warm_up))
        measured = alternate(
            {
                "flowsync": lambda index: flowsync_pull(connections[index]),
                "baseline": lambda index: baseline_pull(fake),
            },
            pairs,
        )
    finally:
        fake.stop()
        workspaces = [conn.workspace_id for conn in [*connections, warm_up]]
        Workspace.objects.filter(pk__in=workspaces).delete()
    for figures in measured.values():
        figures["calls"], figures["deals"] = figures.pop("result")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.deals, args.pairs)
    print_pair(f"{args.deals} deals", result, args.pairs)
    for side, figures in result.items():
        per_thousand = figures["calls"] * 1000 / args.deals
        print(f"  {side}: {per_thousand:.0f} upstream calls per 1,000 deals")


if __name__ == "__main__":
    main()
