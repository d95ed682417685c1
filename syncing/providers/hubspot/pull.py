"""HubSpot's pulls: "deals" (incremental search, archived deals, or the deals a webhook
names) and "write_back" (room figures written to the linked deals)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from config.formats import iso_utc
from syncing.crm.catalog import crm_catalog_refresh
from syncing.crm.deals import deals_store
from syncing.runs import RunRecorder

# HubSpot's search index trails its writes: a deal changed just before a run started may
# only show up in searches later. Each window starts this much before the last one ended
# (a connection's options["lookback_seconds"] may change it); re-read deals count unchanged.
LOOKBACK = timedelta(minutes=5)


def _window_start(run: RunRecorder) -> datetime | None:
    """None on the first run and on a full refresh: every deal."""
    cursor = run.run.cursor_before
    if not isinstance(cursor, dict) or not cursor.get("modified_to"):
        return None
    seconds = run.connection.options.get("lookback_seconds")
    lookback = timedelta(seconds=seconds) if seconds is not None else LOOKBACK
    return datetime.fromisoformat(cursor["modified_to"].replace("Z", "+00:00")) - lookback


def deals_pull(run: RunRecorder, *, ids: Sequence[str] | None = None) -> None:
    """With ``ids`` (a webhook): those deals as they are now; the cursor stays. Otherwise the
    live deals whose hs_lastmodifieddate is in [last window end - lookback, this run's start]
    and the deals archived since then; the next run starts where this one's window ended."""
    client = run.client()
    if ids is not None:
        deals_store(run, client.deals_fetch(ids))
        return
    start = _window_start(run)
    end = run.run.started_at
    for page in client.deal_pages(modified_from=start, modified_to=end):
        deals_store(run, page)
    for page in client.archived_deal_pages(archived_from=start):
        deals_store(run, page)
    if run.run.full_refresh:  # the pipelines and properties too (two calls)
        crm_catalog_refresh(connection=run.connection, client=client)
    run.cursor_after = {"modified_to": iso_utc(end)}
