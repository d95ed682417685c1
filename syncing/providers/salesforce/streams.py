"""Salesforce streams. Salesforce has no simple signed webhook (its Outbound Messages and
Change Data Capture need SOAP endpoints or a streaming client), so changes arrive by the
scheduled SOQL pull; ``ids=[...]`` still fetches just those opportunities on demand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from syncing.crm.deals import deals_store
from syncing.crm.writeback import crm_write_back
from syncing.runs import RunRecorder
from syncing.streams import Stream


def deals_pull(run: RunRecorder, *, ids: Sequence[str] | None = None) -> None:
    """Opportunities changed or deleted since the last run's (SystemModstamp, Id) cursor,
    up to the start of this run. The cursor moves only when the run finishes, so a run
    stopped by an error (quota, outage) is read again from where the last one stood."""
    client = run.client()
    cursor = run.run.cursor_before
    if ids is not None:
        deals_store(run, client.deals_fetch(ids))
    else:
        for page in client.deal_pages(since=cursor, until=run.run.started_at):
            deals_store(run, page.deals)
            cursor = page.cursor or cursor
    run.cursor_after = cursor


STREAMS = {
    "deals": Stream(pull=deals_pull, every=timedelta(minutes=15)),
    # Salesforce counts every call against a daily quota: write room figures half-hourly.
    "write_back": Stream(pull=crm_write_back, every=timedelta(minutes=30)),
}
