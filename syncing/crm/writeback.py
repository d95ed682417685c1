"""Write-back: each linked room's figures written to its deal, only when they changed.

For every room of the workspace linked to a deal of the connection's CRM (not archived, not a
template): the room's URL, progress, views, unique viewers, engagements and last engagement,
under the connection's property names. The values' hash is kept per (connection, room) in
``CrmWriteBack`` once the CRM accepted them, so an unchanged room is not written again and a
failed item is retried by the next run. Updates are sent in ``client.WRITE_BATCH``es.

A whole write call that fails (auth, quota, an upstream outage after the client's retries) ends
the run there; what earlier calls wrote stays recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from config.formats import iso_utc
from rooms.analytics import progress_percentage, with_progress_counts
from rooms.models import Room
from rooms.selectors import room_page_url_builder, with_engagement_totals
from syncing.crm.links import room_deal_field
from syncing.crm.types import WRITE_BACK_FIELDS, CrmClient, DealUpdate
from syncing.errors import RecordError
from syncing.models import Connection, CrmWriteBack
from syncing.runs import RunRecorder

# Rooms read per query; their changed updates are sent in the client's batches.
READ_CHUNK = 1000


@dataclass(frozen=True)
class _Update:
    room_id: object
    deal_id: str
    properties: dict
    values_hash: str


def write_back_properties(connection: Connection, client: CrmClient) -> dict[str, str]:
    """Our field -> the upstream property: the client's defaults, overridden by the
    connection's ``options["write_back_properties"]``; a field mapped to "" is not written."""
    names = client.WRITE_BACK_PROPERTIES | connection.options.get("write_back_properties", {})
    return {field: names[field] for field in WRITE_BACK_FIELDS if names.get(field)}


def _linked_rooms(connection: Connection) -> QuerySet[Room]:
    field = room_deal_field(connection.provider)
    rooms = Room.objects.filter(
        workspace_id=connection.workspace_id, archived=False, is_template=False
    ).exclude(**{field: ""})
    return with_progress_counts(with_engagement_totals(rooms))


def _chunks(connection: Connection) -> Iterator[list[dict]]:
    """The rooms to write, READ_CHUNK per query, one per deal: when several rooms link to one
    deal, the newest. Ordered by deal, newest room first, so the others follow it and are
    skipped, and the next page starts after the last deal (its older rooms are not wanted)."""
    field = room_deal_field(connection.provider)
    rooms = _linked_rooms(connection).order_by(field, "-created_at", "-pk")
    columns = (
        "pk",
        field,
        "total_views",
        "total_unique_views",
        "total_engagements",
        "last_engaged_at",
        "done_actions",
        "counted_actions",
    )
    last = None
    while True:
        page = rooms.filter(**{f"{field}__gt": last}) if last is not None else rooms
        chunk = list(page.values(*columns)[:READ_CHUNK])
        if not chunk:
            return
        yield [
            room
            for previous, room in zip([None, *chunk], chunk, strict=False)
            if previous is None or previous[field] != room[field]
        ]
        last = chunk[-1][field]


def _update(
    room: dict, deal_field: str, names: dict[str, str], room_url: Callable[[object], str]
) -> _Update:
    values = {
        "room_url": room_url(room["pk"]),
        "progress_percentage": progress_percentage(room["done_actions"], room["counted_actions"]),
        "total_views": room["total_views"],
        "total_unique_views": room["total_unique_views"],
        "total_engagements": room["total_engagements"],
        "last_engaged_at": iso_utc(room["last_engaged_at"]),
    }
    properties = {names[field]: values[field] for field in names}
    encoded = json.dumps([room[deal_field], properties], sort_keys=True, separators=(",", ":"))
    return _Update(
        room_id=room["pk"],
        deal_id=room[deal_field],
        properties=properties,
        values_hash=hashlib.sha256(encoded.encode()).hexdigest(),
    )


class _AcceptedHashes:
    """Hashes of the items the CRM accepted, stored STORE_EVERY at a time (and whatever is
    left when the run ends, even by an error): one statement for many rooms when a CRM writes
    one deal per call. A run killed in between only re-sends those rooms next time."""

    STORE_EVERY = 100

    def __init__(self, run: RunRecorder):
        self.run = run
        self.items: list[_Update] = []

    def add(self, items: list[_Update]) -> None:
        self.items.extend(items)
        if len(self.items) >= self.STORE_EVERY:
            self.store()

    def store(self) -> None:
        connection, now = self.run.connection, timezone.now()
        CrmWriteBack.objects.bulk_create(
            [
                CrmWriteBack(
                    workspace_id=connection.workspace_id,
                    connection=connection,
                    room_id=item.room_id,
                    values_hash=item.values_hash,
                    written_at=now,
                )
                for item in self.items
            ],
            update_conflicts=True,
            unique_fields=["connection", "room"],
            update_fields=["values_hash", "written_at"],
        )
        self.items.clear()
        self.run.checkpoint()


def _write(run: RunRecorder, client: CrmClient, batch: list[_Update], accepted: _AcceptedHashes):
    """One write call; the items the CRM accepted are kept, the refused ones counted failed."""
    failed = client.deals_write([DealUpdate(item.deal_id, item.properties) for item in batch])
    accepted.add([item for item in batch if item.deal_id not in failed])
    for deal_id, message in failed.items():
        run.record_failure(RecordError(message, upstream_id=deal_id))
    run.count(updated=len(batch) - len(failed))


def crm_write_back(run: RunRecorder) -> None:
    """The "write_back" stream of every CRM provider. Counts rooms written as updated, rooms
    whose figures did not change as unchanged, items the CRM refused as failed."""
    connection = run.connection
    client = run.client()
    names = write_back_properties(connection, client)
    deal_field = room_deal_field(connection.provider)
    room_url = room_page_url_builder()
    pending: list[_Update] = []
    accepted = _AcceptedHashes(run)
    try:
        for chunk in _chunks(connection):
            written = dict(
                CrmWriteBack.objects.filter(
                    connection=connection, room_id__in=[room["pk"] for room in chunk]
                ).values_list("room_id", "values_hash")
            )
            for room in chunk:
                update = _update(room, deal_field, names, room_url)
                if written.get(update.room_id) == update.values_hash:
                    run.count(unchanged=1)
                else:
                    pending.append(update)
            while len(pending) >= client.WRITE_BATCH:
                _write(run, client, pending[: client.WRITE_BATCH], accepted)
                del pending[: client.WRITE_BATCH]
        if pending:
            _write(run, client, pending, accepted)
    finally:
        accepted.store()
