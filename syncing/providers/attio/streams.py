"""Attio's streams (see syncing.streams); what one run reads is in ``pull``."""

from __future__ import annotations

from datetime import timedelta

from syncing.crm.writeback import crm_write_back
from syncing.providers.attio.pull import deals_pull
from syncing.streams import Stream

STREAMS = {
    # Webhooks carry the changes; this hourly read is the safety net (and the first import).
    "deals": Stream(pull=deals_pull, every=timedelta(hours=1)),
    "write_back": Stream(pull=crm_write_back, every=timedelta(minutes=15)),
}
