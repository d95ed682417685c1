"""Salesforce's streams (see syncing.streams); what one run reads is in ``pull``."""

from __future__ import annotations

from datetime import timedelta

from syncing.crm.writeback import crm_write_back
from syncing.providers.salesforce.pull import deals_pull
from syncing.streams import Stream

STREAMS = {
    # A daily full read repairs whatever the lookback missed (a save committed later still, a
    # record restored from the recycle bin with its old stamp), like Attio's hourly one.
    "deals": Stream(
        pull=deals_pull, every=timedelta(minutes=15), full_refresh_every=timedelta(days=1)
    ),
    # Salesforce counts every call against a daily quota: write room figures half-hourly.
    "write_back": Stream(pull=crm_write_back, every=timedelta(minutes=30)),
}
