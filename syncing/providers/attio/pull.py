"""Attio's deals pull. Attio records carry no modified time, so there is no incremental query:
webhooks name the deals that changed and the "deals" stream reads just those
(``ids=[...]``); its scheduled run reads every deal, a full reconciliation that also catches
what webhooks missed.

A reconciliation reuses what is stored for a deal whose record is exactly as stored (its
owner and contact emails are not looked up again), so a run over unchanged deals costs one
query per 500 deals; a full refresh from the admin looks every email up again. A stored deal
the read did not return is archived only after Attio answers 404 for it: offset paging can
skip a record when others are deleted during the read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import batched

from syncing.crm.catalog import crm_catalog_refresh
from syncing.crm.deals import deals_store
from syncing.crm.types import Deal
from syncing.errors import RecordError
from syncing.models import Connection, CrmDeal
from syncing.providers.attio.client import AttioClient, record_id_of
from syncing.runs import RunRecorder

CONFIRM_BATCH = 100


def deals_pull(run: RunRecorder, *, ids: Sequence[str] | None = None) -> None:
    """The named deals (a webhook), or every deal and then the stored ones it did not see."""
    client: AttioClient = run.client()
    if ids is not None:
        deals_store(run, _archived_as_stored(run.connection, client.deals_fetch(ids)))
        return
    seen: set[str] = set()
    for records in client.deal_record_pages():
        stored = {} if run.run.full_refresh else _stored(run.connection, records)
        page = [stored.get(record_id_of(raw)) or client.deal_from_record(raw) for raw in records]
        seen.update(item.upstream_id for item in page if item.upstream_id)
        deals_store(run, page)
    live = CrmDeal.objects.filter(connection=run.connection, archived=False)
    unseen = set(live.values_list("upstream_id", flat=True)) - seen
    for chunk in batched(sorted(unseen), CONFIRM_BATCH):
        deals_store(run, _archived_as_stored(run.connection, client.deals_fetch(chunk)))
    if run.run.full_refresh:  # the stages and attributes too (two calls)
        crm_catalog_refresh(connection=run.connection, client=client)


def _rows(connection: Connection, upstream_ids: Iterable[str]):
    return CrmDeal.objects.filter(
        workspace_id=connection.workspace_id,
        provider=connection.provider,
        upstream_id__in=list(upstream_ids),
    )


def _as_deal(row: CrmDeal, *, archived: bool) -> Deal:
    return Deal(
        upstream_id=row.upstream_id,
        name=row.name,
        stage=row.stage,
        amount=row.amount,
        currency=row.currency,
        owner_email=row.owner_email,
        close_date=row.close_date,
        modified_at=row.upstream_modified_at,
        archived=archived,
        contact_emails=tuple(row.contact_emails),
        properties=row.properties,
    )


def _stored(connection: Connection, records: list) -> dict[str, Deal]:
    """The stored deals whose raw record is exactly the one just read."""
    by_id = {record_id_of(raw): raw for raw in records if record_id_of(raw)}
    return {
        row.upstream_id: _as_deal(row, archived=False)
        for row in _rows(connection, by_id)
        if not row.archived and row.properties == by_id[row.upstream_id]
    }


def _archived_as_stored(
    connection: Connection, deals: list[Deal | RecordError]
) -> list[Deal | RecordError]:
    """A deal Attio no longer has keeps what we knew of it, archived; one we never stored
    (or a record of another object named by an unfiltered webhook) is dropped."""
    gone = [d.upstream_id for d in deals if isinstance(d, Deal) and d.archived]
    rows = {row.upstream_id: row for row in _rows(connection, gone)} if gone else {}
    kept: list[Deal | RecordError] = []
    for deal in deals:
        if isinstance(deal, Deal) and deal.archived:
            if deal.upstream_id in rows:
                kept.append(_as_deal(rows[deal.upstream_id], archived=True))
        else:
            kept.append(deal)
    return kept
