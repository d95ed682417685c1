"""Storing pulled deals, shared by every CRM provider.

A provider's "deals" stream pulls pages and hands them over:

    deals_store(run, client.deals_page(...))   # Deal | RecordError items

``deals_store`` upserts ``CrmDeal`` rows in batches (a constant number of queries per batch:
the known hashes read, then one ``syncing.upsert`` of the new and changed deals),
counts created / updated / unchanged / failed on the run, and gives the deals that entered a
stage with an auto-create rule their room (syncing.crm.autocreate).

Its "write_back" stream calls ``syncing.crm.writeback.crm_write_back(run: RunRecorder) -> None``
(room figures written to the linked deals, only the changed ones, in ``client.WRITE_BATCH``s).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import replace
from itertools import batched

from django.db import transaction
from django.utils import timezone

from syncing.crm.autocreate import deals_autocreate_rooms
from syncing.crm.types import Deal
from syncing.errors import RecordError
from syncing.models import Connection, CrmDeal
from syncing.runs import RunRecorder
from syncing.upsert import Staged, upsert

STORE_BATCH = 500

_STORED_FIELDS = (
    "name",
    "stage",
    "amount",
    "currency",
    "owner_email",
    "close_date",
    "upstream_modified_at",
    "archived",
    "contact_emails",
    "properties",
)
_NAME_MAX, _STAGE_MAX, _CURRENCY_MAX, _EMAIL_MAX = (
    CrmDeal._meta.get_field(name).max_length
    for name in ("name", "stage", "currency", "owner_email")
)
# The staged columns (syncing.upsert): the stored fields, the upstream id and the hash.
_COLUMNS = {
    name: CrmDeal._meta.get_field(name) for name in ("upstream_id", *_STORED_FIELDS, "content_hash")
}


def _fitted(deal: Deal) -> Deal:
    """The deal with its texts cut to their columns' lengths, as it is stored."""
    if (
        len(deal.name) <= _NAME_MAX
        and len(deal.stage) <= _STAGE_MAX
        and len(deal.currency) <= _CURRENCY_MAX
        and len(deal.owner_email) <= _EMAIL_MAX
    ):
        return deal
    return replace(
        deal,
        name=deal.name[:_NAME_MAX],
        stage=deal.stage[:_STAGE_MAX],
        currency=deal.currency[:_CURRENCY_MAX],
        owner_email=deal.owner_email[:_EMAIL_MAX],
    )


def _row(connection: Connection, deal: Deal) -> dict:
    """The stored values of one (fitted) deal, with the hash of its content."""
    row = {
        "upstream_id": deal.upstream_id,
        "name": deal.name,
        "stage": deal.stage,
        "amount": deal.amount,
        "currency": deal.currency,
        "owner_email": deal.owner_email,
        "close_date": deal.close_date,
        "upstream_modified_at": deal.modified_at,
        "archived": deal.archived,
        "contact_emails": list(deal.contact_emails),
        "properties": deal.properties,
    }
    content = {name: row[name] for name in _STORED_FIELDS} | {"connection": connection.pk}
    encoded = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    row["content_hash"] = hashlib.sha256(encoded.encode()).hexdigest()
    return row


def _store_batch(run: RunRecorder, deals: list[Deal]) -> list[Deal]:
    """Upsert one batch (a read of the known hashes and stages, then one statement through
    syncing.upsert writing only the new and changed deals); returns the deals, as stored,
    that are new or changed stage (they "entered" it)."""
    connection = run.connection
    # The last copy of a deal read twice in one batch wins (one upsert may not touch a row
    # twice).
    fitted = {deal.upstream_id: _fitted(deal) for deal in deals}
    rows = {upstream_id: _row(connection, deal) for upstream_id, deal in fitted.items()}
    known = {
        upstream_id: (content_hash, stage)
        for upstream_id, content_hash, stage in CrmDeal.objects.filter(
            workspace_id=connection.workspace_id,
            provider=connection.provider,
            upstream_id__in=rows.keys(),
        )
        .order_by()
        .values_list("upstream_id", "content_hash", "stage")
    }
    changed = [
        row
        for row in rows.values()
        if known.get(row["upstream_id"], ("",))[0] != row["content_hash"]
    ]
    created = sum(1 for row in changed if row["upstream_id"] not in known)
    run.count(created=created, updated=len(changed) - created, unchanged=len(rows) - len(changed))
    if changed:
        upsert(
            CrmDeal,
            Staged(_COLUMNS, [tuple(row[column] for column in _COLUMNS) for row in changed]),
            values={column: f"s.{column}" for column in _COLUMNS},
            constants={
                "workspace_id": connection.workspace_id,
                "connection_id": connection.pk,
                "provider": connection.provider,
                "created_at": timezone.now(),
            },
            conflict=["workspace_id", "provider", "upstream_id"],
            update=["connection_id", *_STORED_FIELDS, "content_hash"],
            touch=["updated_at"],
        )
    return [
        fitted[row["upstream_id"]]
        for row in changed
        if row["upstream_id"] not in known or known[row["upstream_id"]][1] != row["stage"]
    ]


def deals_store(run: RunRecorder, deals: Iterable[Deal | RecordError]) -> None:
    """Upsert the deals for ``run.connection`` and auto-create the rooms their rules ask for.

    Each batch's upsert and its rooms commit together: a run that dies in between is read
    again by the next run (its cursor did not move) and the deals still count as entering
    their stage. Malformed records are recorded failures of the run.
    """
    for batch in batched(deals, STORE_BATCH):
        valid = []
        for item in batch:
            if isinstance(item, RecordError):
                run.record_failure(item)
            else:
                valid.append(item)
        # The run's counts are saved with the rows they count: one commit per batch.
        with transaction.atomic():
            if valid:
                entered = _store_batch(run, valid)
                deals_autocreate_rooms(connection=run.connection, deals=entered)
            run.checkpoint()
