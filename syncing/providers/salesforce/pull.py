"""Salesforce's deals pull. Salesforce has no simple signed webhook (its Outbound Messages and
Change Data Capture need SOAP endpoints or a streaming client), so changes arrive by the
scheduled SOQL pull; ``ids=[...]`` still fetches just those opportunities on demand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from syncing import conf
from syncing.crm.catalog import crm_catalog_refresh
from syncing.crm.deals import deals_store
from syncing.providers.salesforce.client import soql_datetime
from syncing.runs import RunRecorder


def _window_start(run: RunRecorder) -> datetime | None:
    """None on the first run and on a full refresh: every opportunity. Otherwise the last
    window's end less the lookback: SystemModstamp is stamped when a save starts, so a long
    transaction commits after records stamped later were read (Salesforce documents this for
    getUpdated() as latestDateCovered). Re-read records that did not change count unchanged
    and are not rewritten (deals_store compares content hashes)."""
    cursor = run.run.cursor_before
    if not isinstance(cursor, dict) or not cursor.get("systemModstamp"):
        return None
    seconds = run.connection.options.get("lookback_seconds")
    if seconds is None:
        seconds = conf.get("SYNC_SALESFORCE_LOOKBACK")
    return datetime.fromisoformat(cursor["systemModstamp"]) - timedelta(seconds=seconds)


def deals_pull(run: RunRecorder, *, ids: Sequence[str] | None = None) -> None:
    """With ``ids``: those opportunities as they are now; the cursor stays. Otherwise those
    changed or deleted in [last window end - lookback, the start of this run's second): the
    second the run started in is still open (SystemModstamp has one-second precision, so a
    save in it with a lower Id could land after the query), and is left to the next run. The
    cursor moves only when the run finishes, so a run stopped by an error (quota, outage) is
    read again from where the last one stood."""
    client = run.client()
    if ids is not None:
        deals_store(run, client.deals_fetch(ids))
        run.cursor_after = run.run.cursor_before
        return
    before = run.run.started_at.replace(microsecond=0)
    for page in client.deal_pages(since=_window_start(run), before=before):
        deals_store(run, page)
    crm_catalog_refresh(connection=run.connection, client=client)  # from the same describe
    run.cursor_after = {"systemModstamp": soql_datetime(before)}
