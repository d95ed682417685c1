"""HubSpot's streams (see syncing.streams); what one run reads is in ``pull``."""

from __future__ import annotations

from datetime import timedelta

from syncing.crm.writeback import crm_write_back
from syncing.providers.hubspot.pull import deals_pull
from syncing.streams import Stream

STREAMS = {
    "deals": Stream(pull=deals_pull, every=timedelta(minutes=15)),
    # Only rooms whose figures changed are written: about a call per 100 changed rooms.
    "write_back": Stream(pull=crm_write_back, every=timedelta(minutes=15)),
}
