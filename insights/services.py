"""Writes for the insights app: batch ingestion of chatbot events and workspace activity.

A batch is validated as a whole before it arrives here (insights.api.serializers), so a service
either stores every new item or raises. Items whose client id is already stored are skipped,
which makes a replayed batch change nothing. The number of queries is fixed per batch.

Concurrent batches: an item counts as accepted only for the call whose INSERT stored it (a
replay running at the same time waits for the first batch's row, then skips it). Every shared
row (flow, chat user, contact, booking page, item) is written in the order of its key, so two
batches naming the same rows in different orders wait for each other instead of deadlocking.
The rollups (insights.rollups) follow every insert in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from config.errors import invalid_field
from insights.models import (
    BookingPage,
    ChatMessage,
    ContactEvent,
    Flow,
    FlowTrigger,
    Recording,
)
from workspaces.models import Workspace


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def _known(
    workspace: Workspace, ids: list[str], *models, rooms: list[str] | None = None
) -> tuple[set[str], set[str]]:
    """Which of ``ids`` are stored in any of the ``models``' tables, and which of the room ids
    ``rooms`` (text) are rooms of the workspace: one query, one round trip a batch."""
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        [
            f"SELECT false, client_id FROM {quote(model._meta.db_table)}"
            " WHERE workspace_id = %s AND client_id = ANY(%s::text[])"
            for model in models
        ]
        + ["SELECT true, id::text FROM rooms_room WHERE workspace_id = %s AND id = ANY(%s::uuid[])"]
    )
    params = [value for _ in models for value in (workspace.pk, ids)] + [workspace.pk, rooms or []]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        known = cursor.fetchall()
    return {key for room, key in known if not room}, {key for room, key in known if room}


def _named_upsert(
    model, workspace: Workspace, key_field: str, name_field: str, refs: list[dict[str, Any]]
) -> None:
    """Create rows by ``key_field`` from references ``{"key", "name"?}``; a name given
    by a later reference renames the row, a reference without one leaves the name alone.
    Rows created without a name are named after their key if the model requires a name.
    One statement in key order (the rows' locks too, so that concurrent batches wait for
    each other instead of deadlocking), writing only the rows that change; the model's other
    fields take their defaults."""
    names: dict[str, str | None] = {}
    for ref in sorted(refs, key=lambda ref: ref["key"]):
        if ref.get("name") or ref["key"] not in names:
            names[ref["key"]] = ref.get("name") or None
    quote = connection.ops.quote_name
    key, name = (quote(model._meta.get_field(f).column) for f in (key_field, name_field))
    others = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in ("workspace", key_field, name_field)
    ]
    columns = "".join(f", {quote(field.column)}" for field in others)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {quote(model._meta.db_table)} AS t (workspace_id, {key}, {name}{columns})
            SELECT %s, i.key, COALESCE(i.name, %s, i.key){", %s" * len(others)}
            FROM unnest(%s::text[], %s::text[]) AS i (key, name)
            ORDER BY i.key
            ON CONFLICT (workspace_id, {key}) DO UPDATE SET {name} = EXCLUDED.{name}
            WHERE EXCLUDED.{key} = ANY(%s::text[]) AND t.{name} <> EXCLUDED.{name}
            """,
            [
                workspace.pk,
                "" if model._meta.get_field(name_field).blank else None,
                *(field.get_db_prep_save(field.get_default(), connection) for field in others),
                list(names),
                list(names.values()),
                [k for k, n in names.items() if n],
            ],
        )


def _chat_users_upsert(workspace: Workspace, items: list[dict[str, Any]]) -> None:
    """Create users on first sight and move ``first_seen_at`` back when an item is earlier
    than what is stored (items may arrive in any order); a user's name is that of their last
    item that names them. One statement, in key order (the rows' locks too), writing only the
    users that change."""
    seen: dict[str, datetime] = {}
    names: dict[str, str] = {}
    for item in items:
        user_id = item["user"]["id"]
        seen[user_id] = min(item["at"], seen.get(user_id, item["at"]))
        if item["user"].get("name"):
            names[user_id] = item["user"]["name"]
    keys = sorted(seen)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO insights_chatuser AS u (workspace_id, upstream_id, name, first_seen_at)
            SELECT %s, i.upstream_id, i.name, i.seen
            FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS i (upstream_id, name, seen)
            ORDER BY i.upstream_id
            ON CONFLICT (workspace_id, upstream_id) DO UPDATE
            SET first_seen_at = LEAST(u.first_seen_at, EXCLUDED.first_seen_at),
                name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE u.name END
            WHERE EXCLUDED.first_seen_at < u.first_seen_at
                OR (EXCLUDED.name <> '' AND EXCLUDED.name <> u.name)
            """,
            [workspace.pk, keys, [names.get(key, "") for key in keys], [seen[k] for k in keys]],
        )


def _items_insert_sql(table: str, arrays: dict[str, str], columns: dict[str, str], joins: str):
    """An INSERT of a batch's items into ``table`` from one array per item field (``arrays``:
    name → element type, passed as parameters of the same names, beside ``workspace`` and
    ``client_ids``), with ``columns`` (column → expression over ``i``, the items, and
    ``joins``). Rows go in client-id order, their references joined in SQL; an id stored
    already (also by a concurrent batch, once it commits) is skipped. RETURNING names the
    rows this statement stored."""
    return f"""
        INSERT INTO {table} (workspace_id, client_id, {", ".join(columns)})
        SELECT %(workspace)s, i.client_id, {", ".join(columns.values())}
        FROM unnest(%(client_ids)s::text[],
                    {", ".join(f"%({name})s::{kind}[]" for name, kind in arrays.items())})
            AS i (client_id, {", ".join(arrays)})
        {joins}
        ORDER BY i.client_id
        ON CONFLICT (workspace_id, client_id) DO NOTHING
        RETURNING client_id
    """


def _items_insert(workspace: Workspace, sql: str, items: list[dict[str, Any]], **arrays) -> set:
    """Insert ``items`` with ``sql`` (one statement, see _items_insert_sql); the client ids
    it stored."""
    if not items:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"workspace": workspace.pk, "client_ids": [item["id"] for item in items], **arrays}
        )
        return {client_id for (client_id,) in cursor.fetchall()}


_CHAT_ARRAYS = {"user_key": "text", "flow_key": "text"}
_CHAT_COLUMNS = {"user_id": "u.id", "flow_id": "f.id"}
_CHAT_JOINS = """
    JOIN insights_chatuser u ON u.workspace_id = %(workspace)s AND u.upstream_id = i.user_key
    {flow_join} insights_flow f ON f.workspace_id = %(workspace)s AND f.upstream_id = i.flow_key
"""
_MESSAGES_INSERT = _items_insert_sql(
    "insights_chatmessage",
    {**_CHAT_ARRAYS, "direction": "text", "body": "text", "sent_at": "timestamptz"},
    {**_CHAT_COLUMNS, "direction": "i.direction", "text": "i.body", "sent_at": "i.sent_at"},
    _CHAT_JOINS.format(flow_join="LEFT JOIN"),
)
_TRIGGERS_INSERT = _items_insert_sql(
    "insights_flowtrigger",
    {**_CHAT_ARRAYS, "at": "timestamptz"},
    {**_CHAT_COLUMNS, "at": "i.at"},
    _CHAT_JOINS.format(flow_join="JOIN"),
)


def _chat_insert(workspace: Workspace, sql: str, items: list[dict[str, Any]], **arrays) -> set:
    """Insert chat ``items`` joined to their user and flow by upstream id."""
    return _items_insert(
        workspace,
        sql,
        items,
        user_key=[item["user"]["id"] for item in items],
        flow_key=[item["flow"]["id"] if item.get("flow") else None for item in items],
        **arrays,
    )


@dataclass(frozen=True)
class ChatIngestResult(IngestResult):
    # The client ids this call stored (the others were stored before).
    accepted_ids: frozenset[str] = frozenset()


@transaction.atomic  # all or nothing, also when called outside a request
def chat_events_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> ChatIngestResult:
    """Store a batch of ``message`` and ``trigger`` items (validated, client ids distinct), in
    a fixed number of statements whatever the batch's size."""
    stored, _ = _known(workspace, [i["id"] for i in items], ChatMessage, FlowTrigger)
    fresh = [item for item in items if item["id"] not in stored]
    accepted: set[str] = set()
    if fresh:
        flow_refs = [{"key": i["flow"]["id"], **i["flow"]} for i in fresh if i.get("flow")]
        if flow_refs:
            _named_upsert(Flow, workspace, "upstream_id", "name", flow_refs)
        _chat_users_upsert(workspace, fresh)
        messages = [item for item in fresh if item["kind"] == "message"]
        triggers = [item for item in fresh if item["kind"] == "trigger"]
        accepted |= _chat_insert(
            workspace,
            _MESSAGES_INSERT,
            messages,
            direction=[item["direction"] for item in messages],
            body=[item["text"] for item in messages],
            sent_at=[item["at"] for item in messages],
        )
        accepted |= _chat_insert(
            workspace, _TRIGGERS_INSERT, triggers, at=[item["at"] for item in triggers]
        )
    return ChatIngestResult(
        accepted=len(accepted),
        duplicates=len(items) - len(accepted),
        accepted_ids=frozenset(accepted),
    )


def _rooms_check(items: list[dict[str, Any]], found: set[str]) -> None:
    """Every ``room_id`` must be one of ``found`` (the workspace's); else a 400 naming the
    first item that points elsewhere."""
    for index, item in enumerate(items):
        if item.get("room_id") and str(item["room_id"]).lower() not in found:
            raise invalid_field(f"events.{index}.roomId", "No room with this id in the workspace.")


def _contacts_create(workspace: Workspace, items: list[dict[str, Any]]) -> None:
    """Create the contacts of ``items`` not stored yet, by (lower-cased) email, with
    ``created_at`` = the earliest ``contact.createdAt`` or ``at`` of their items in the batch
    and the name of their last item that names them. Existing contacts are left as they are
    (rooms owns them). One statement, in email order (the rows' locks too)."""
    created: dict[str, datetime] = {}
    names: dict[str, str] = {}
    for item in items:
        ref = item["contact"]
        at = ref.get("created_at") or item["at"]
        created[ref["email"]] = min(at, created.get(ref["email"], at))
        if ref.get("name"):
            names[ref["email"]] = ref["name"]
    emails = sorted(created)
    with connection.cursor() as cursor:
        # A conflict with the case-insensitive unique email is a contact that exists.
        cursor.execute(
            """
            INSERT INTO rooms_contact
                (id, workspace_id, email, name, job_title, internal, company_id, created_at)
            SELECT gen_random_uuid(), %s, i.email, i.name, '', false, NULL, i.created_at
            FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS i (email, name, created_at)
            ORDER BY i.email
            ON CONFLICT DO NOTHING
            """,
            [
                workspace.pk,
                emails,
                [names.get(e, "") for e in emails],
                [created[e] for e in emails],
            ],
        )


# Contact events joined to their contact by email and their booking page by slug.
_EVENTS_INSERT = _items_insert_sql(
    "insights_contactevent",
    {
        "event_type": "text",
        "email": "text",
        "room": "uuid",
        "slug": "text",
        "occurred_at": "timestamptz",
        "metadata": "jsonb",
    },
    {
        "event_type": "i.event_type",
        "contact_id": "c.id",
        "room_id": "i.room",
        "booking_page_id": "p.id",
        "occurred_at": "i.occurred_at",
        "metadata": "i.metadata",
    },
    """
    JOIN rooms_contact c ON c.workspace_id = %(workspace)s AND lower(c.email) = i.email
    LEFT JOIN insights_bookingpage p ON p.workspace_id = %(workspace)s AND p.slug = i.slug
    """,
)
_RECORDINGS_INSERT = _items_insert_sql(
    "insights_recording",
    {"room": "uuid", "duration_seconds": "integer", "status": "text", "created_at": "timestamptz"},
    {
        "room_id": "i.room",
        "duration_seconds": "i.duration_seconds",
        "status": "i.status",
        "created_at": "i.created_at",
    },
    "",
)


def _uuids(values: Iterable) -> list[str | None]:
    """Room ids (UUIDs or their text) as text for a ``uuid[]`` parameter."""
    return [str(value) if value else None for value in values]


@transaction.atomic  # all or nothing, also when called outside a request
def workspace_activity_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> IngestResult:
    """Store a batch of ``contact_event`` and ``recording`` items (validated, client ids
    distinct), in a fixed number of statements whatever the batch's size. Raises
    InvalidInput naming the item when a room is not the workspace's."""
    rooms = _uuids({item.get("room_id") for item in items} - {None})
    stored, found = _known(
        workspace, [i["id"] for i in items], ContactEvent, Recording, rooms=rooms
    )
    _rooms_check(items, found)
    fresh = [item for item in items if item["id"] not in stored]
    events = [item for item in fresh if item["kind"] == "contact_event"]
    recordings = [item for item in fresh if item["kind"] == "recording"]
    accepted: set[str] = set()
    if events:
        _contacts_create(workspace, events)
        page_refs = [
            {"key": i["booking_page"]["slug"], "name": i["booking_page"].get("title")}
            for i in events
            if i.get("booking_page")
        ]
        if page_refs:
            _named_upsert(BookingPage, workspace, "slug", "title", page_refs)
        accepted |= _items_insert(
            workspace,
            _EVENTS_INSERT,
            events,
            event_type=[item["type"] for item in events],
            email=[item["contact"]["email"] for item in events],
            room=_uuids([item.get("room_id") for item in events]),
            slug=[(item.get("booking_page") or {}).get("slug") for item in events],
            occurred_at=[item["at"] for item in events],
            metadata=[json.dumps(item.get("metadata", {})) for item in events],
        )
    accepted |= _items_insert(
        workspace,
        _RECORDINGS_INSERT,
        recordings,
        room=_uuids([item["room_id"] for item in recordings]),
        duration_seconds=[item["duration_seconds"] for item in recordings],
        status=[item["status"] for item in recordings],
        created_at=[item["at"] for item in recordings],
    )
    return IngestResult(accepted=len(accepted), duplicates=len(items) - len(accepted))


def chat_flows_name(*, workspace: Workspace, names: dict[str, str]) -> None:
    """Create flows, or rename them, by upstream id (a chatbot pull's list of workflows)."""
    refs = [{"key": upstream_id, "name": name} for upstream_id, name in names.items()]
    _named_upsert(Flow, workspace, "upstream_id", "name", refs)


def booking_pages_name(*, workspace: Workspace, titles: dict[str, str]) -> None:
    """Create booking pages, or retitle them, by slug (a video-rooms pull's list of pages)."""
    refs = [{"key": slug, "name": title} for slug, title in titles.items()]
    _named_upsert(BookingPage, workspace, "slug", "title", refs)
