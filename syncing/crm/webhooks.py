"""CRM webhook deliveries: verified by the provider's package, de-duplicated by event id,
answered at once; the deals they name are read by a task (the "deals" stream with ``ids``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

from django.db import connection as db
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from syncing.crm.types import WebhookNotice
from syncing.models import CRM_PROVIDERS, Connection, SyncRun, WebhookDelivery
from syncing.streams import stream_run


def webhook_verifier(provider: str) -> Callable[[Connection, HttpRequest], WebhookNotice] | None:
    """``syncing.providers.<provider>.webhooks.verify``, or None for a provider without one."""
    if provider not in CRM_PROVIDERS:
        return None
    module_name = f"syncing.providers.{provider}.webhooks"
    try:
        return import_module(module_name).verify
    except ModuleNotFoundError as error:
        if not module_name.startswith(error.name or "-"):
            raise
        return None


def webhook_events_new(connection: Connection, event_ids: tuple[str, ...]) -> set[str]:
    """Record the event ids (in ``WebhookDelivery``; the video platform's webhooks use it too);
    returns those not seen before. One statement, so two copies of a delivery arriving at once
    cannot both count as new."""
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    table = WebhookDelivery._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(unique))
    now = timezone.now()
    params = [
        value
        for event_id in unique
        for value in (connection.workspace_id, connection.pk, event_id[:255], now)
    ]
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, connection_id, event_id, received_at)"
            f" VALUES {rows} ON CONFLICT (connection_id, event_id) DO NOTHING RETURNING event_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class Receipt:
    received: int
    duplicates: int


def webhook_receive(*, connection: Connection, notice: WebhookNotice) -> Receipt:
    """Record the delivery's events and queue a sync of its deals unless every event was seen
    before. The task is queued inside the transaction that records the events: if queueing
    fails, nothing is recorded and the provider's redelivery is not taken for a duplicate (a
    task that runs before the commit only reads the deals a little early)."""
    from syncing.crm.tasks import crm_sync_deals

    with transaction.atomic():
        new = webhook_events_new(connection, notice.event_ids)
        duplicates = len(set(notice.event_ids)) - len(new)
        if notice.deal_ids and (new or not notice.event_ids):
            crm_sync_deals.delay(connection.pk, list(dict.fromkeys(notice.deal_ids)))
    return Receipt(received=len(new), duplicates=duplicates)


def deals_sync(
    *, connection_id: int, deal_ids: list[str], trigger: str = SyncRun.Trigger.WEBHOOK
) -> Literal["done", "busy", "gone"]:
    """Read the named deals now. "busy": a run of the connection's deals stream is under way
    (try again later); "gone": the connection was deleted or disabled."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "gone"
    run = stream_run(connection=connection, stream="deals", trigger=trigger, ids=deal_ids)
    return "busy" if run is None else "done"
