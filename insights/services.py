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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models.functions import Lower

from config.errors import invalid_field
from insights.models import (
    BookingPage,
    ChatMessage,
    ContactEvent,
    Flow,
    FlowTrigger,
    Recording,
)
from rooms.models import Contact, Room
from workspaces.models import Workspace


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def _stored_client_ids(workspace: Workspace, ids: list[str], *models) -> set[str]:
    """Which of ``ids`` are stored in any of the ``models``' tables (one query)."""
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT client_id FROM {quote(model._meta.db_table)}"
        " WHERE workspace_id = %s AND client_id = ANY(%s::text[])"
        for model in models
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for _ in models for value in (workspace.pk, ids)])
        return {client_id for (client_id,) in cursor.fetchall()}


def _insert_new(model: type[models.Model], rows: list[models.Model]) -> int:
    """INSERT ``rows`` in client-id order, skipping those whose client id is stored (also by
    a concurrent batch, once it commits); how many rows this call stored."""
    if not rows:
        return 0
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    rows = sorted(rows, key=lambda row: row.client_id)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)}"
            f" ({', '.join(quote(field.column) for field in fields)})"
            f" VALUES {', '.join([row_sql] * len(rows))} ON CONFLICT DO NOTHING",
            [
                field.get_db_prep_save(getattr(row, field.attname), connection)
                for row in rows
                for field in fields
            ],
        )
        return cursor.rowcount


def _named_upsert(
    model, workspace: Workspace, key_field: str, name_field: str, refs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Get or create rows by ``key_field`` from references ``{"key", "name"?}``; a name given
    by a later reference renames the row, a reference without one leaves the name alone.
    Rows created without a name are named after their key if the model requires a name."""
    names: dict[str, str | None] = {}
    for ref in sorted(refs, key=lambda ref: ref["key"]):
        if ref.get("name") or ref["key"] not in names:
            names[ref["key"]] = ref.get("name")
    name_may_be_blank = model._meta.get_field(name_field).blank

    def row(key: str, name: str | None):
        name = name or ("" if name_may_be_blank else key)
        return model(workspace=workspace, **{key_field: key, name_field: name})

    # Every row first (a new one takes its name, or its key), then the renames: each
    # statement in key order, so that concurrent batches take the rows' locks in one order.
    model.objects.bulk_create(
        [row(key, name) for key, name in names.items()], ignore_conflicts=True
    )
    named = [row(key, name) for key, name in names.items() if name]
    if named:
        model.objects.bulk_create(
            named,
            update_conflicts=True,
            unique_fields=["workspace", key_field],
            update_fields=[name_field],
        )
    rows = model.objects.for_workspace(workspace).filter(**{f"{key_field}__in": names})
    return {getattr(r, key_field): r for r in rows}


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


# Items of a chat batch into their table, in client-id order, joined to their user and flow
# by upstream id; an id stored already (also by a concurrent batch, once it commits) is
# skipped. RETURNING names the rows this statement stored.
_CHAT_INSERT = """
    INSERT INTO {table} (workspace_id, client_id, user_id, flow_id, {columns})
    SELECT %(workspace)s, i.client_id, u.id, f.id, {values}
    FROM unnest(%(client_ids)s::text[], %(users)s::text[], %(flows)s::text[], {arrays})
        AS i (client_id, user_upstream, flow_upstream, {names})
    JOIN insights_chatuser u ON u.workspace_id = %(workspace)s AND u.upstream_id = i.user_upstream
    {flow_join} insights_flow f
        ON f.workspace_id = %(workspace)s AND f.upstream_id = i.flow_upstream
    ORDER BY i.client_id
    ON CONFLICT (workspace_id, client_id) DO NOTHING
    RETURNING client_id
"""
_MESSAGES_INSERT = _CHAT_INSERT.format(
    table="insights_chatmessage",
    columns="direction, text, sent_at",
    values="i.direction, i.text, i.sent_at",
    arrays="%(directions)s::text[], %(texts)s::text[], %(ats)s::timestamptz[]",
    names="direction, text, sent_at",
    flow_join="LEFT JOIN",
)
_TRIGGERS_INSERT = _CHAT_INSERT.format(
    table="insights_flowtrigger",
    columns="at",
    values="i.at",
    arrays="%(ats)s::timestamptz[]",
    names="at",
    flow_join="JOIN",
)


def _chat_insert(workspace: Workspace, sql: str, items: list[dict[str, Any]], **arrays) -> set:
    """Insert ``items`` with ``sql`` (one statement); the client ids it stored."""
    if not items:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "workspace": workspace.pk,
                "client_ids": [item["id"] for item in items],
                "users": [item["user"]["id"] for item in items],
                "flows": [item["flow"]["id"] if item.get("flow") else None for item in items],
                **arrays,
            },
        )
        return {client_id for (client_id,) in cursor.fetchall()}


@dataclass(frozen=True)
class ChatIngestResult(IngestResult):
    # The client ids this call stored (the others were stored before).
    accepted_ids: frozenset[str] = frozenset()


@transaction.atomic  # all or nothing, also when called outside a request
def chat_events_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> ChatIngestResult:
    """Store a batch of ``message`` and ``trigger`` items (validated, client ids distinct), in
    a fixed number of statements whatever the batch's size."""
    stored = _stored_client_ids(workspace, [i["id"] for i in items], ChatMessage, FlowTrigger)
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
            directions=[item["direction"] for item in messages],
            texts=[item["text"] for item in messages],
            ats=[item["at"] for item in messages],
        )
        accepted |= _chat_insert(
            workspace, _TRIGGERS_INSERT, triggers, ats=[item["at"] for item in triggers]
        )
    return ChatIngestResult(
        accepted=len(accepted),
        duplicates=len(items) - len(accepted),
        accepted_ids=frozenset(accepted),
    )


def _rooms_check(workspace: Workspace, items: list[dict[str, Any]]) -> None:
    """Every ``room_id`` must be a room of the workspace (one query); else a 400 naming the
    first item that points elsewhere."""
    wanted = {item["room_id"] for item in items if item.get("room_id")}
    found = set(
        Room.objects.for_workspace(workspace).filter(id__in=wanted).values_list("id", flat=True)
    )
    for index, item in enumerate(items):
        if item.get("room_id") and item["room_id"] not in found:
            raise invalid_field(f"events.{index}.roomId", "No room with this id in the workspace.")


def _contacts_get_or_create(
    workspace: Workspace, items: list[dict[str, Any]]
) -> dict[str, Contact]:
    """Contacts by (lower-cased) email, created on first sight with ``created_at`` = the earliest
    ``contact.createdAt`` or ``at`` of their items in the batch. Existing contacts are left as
    they are (rooms owns them)."""
    new: dict[str, Contact] = {}
    for item in sorted(items, key=lambda item: item["contact"]["email"]):
        ref = item["contact"]
        email = ref["email"]
        created_at = ref.get("created_at") or item["at"]
        contact = new.setdefault(
            email, Contact(workspace=workspace, email=email, created_at=created_at)
        )
        contact.created_at = min(contact.created_at, created_at)
        contact.name = ref.get("name") or contact.name
    # Conflicts with the case-insensitive unique email are contacts that already exist.
    Contact.objects.bulk_create(new.values(), ignore_conflicts=True)
    contacts = (
        Contact.objects.for_workspace(workspace)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=new)
    )
    return {contact.email_key: contact for contact in contacts}


@transaction.atomic  # all or nothing, also when called outside a request
def workspace_activity_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> IngestResult:
    """Store a batch of ``contact_event`` and ``recording`` items (validated, client ids
    distinct). Raises InvalidInput naming the item when a room is not the workspace's."""
    _rooms_check(workspace, items)
    stored = _stored_client_ids(workspace, [i["id"] for i in items], ContactEvent, Recording)
    fresh = [item for item in items if item["id"] not in stored]
    events = [item for item in fresh if item["kind"] == "contact_event"]
    accepted = 0
    if events:
        contacts = _contacts_get_or_create(workspace, events)
        page_refs = [
            {"key": i["booking_page"]["slug"], "name": i["booking_page"].get("title")}
            for i in events
            if i.get("booking_page")
        ]
        pages = _named_upsert(BookingPage, workspace, "slug", "title", page_refs)
        accepted += _insert_new(
            ContactEvent,
            [
                ContactEvent(
                    workspace=workspace,
                    client_id=item["id"],
                    event_type=item["type"],
                    contact=contacts[item["contact"]["email"]],
                    room_id=item.get("room_id"),
                    booking_page=pages[item["booking_page"]["slug"]]
                    if item.get("booking_page")
                    else None,
                    occurred_at=item["at"],
                    metadata=item.get("metadata", {}),
                )
                for item in events
            ],
        )
    accepted += _insert_new(
        Recording,
        [
            Recording(
                workspace=workspace,
                client_id=item["id"],
                room_id=item["room_id"],
                duration_seconds=item["duration_seconds"],
                status=item["status"],
                created_at=item["at"],
            )
            for item in fresh
            if item["kind"] == "recording"
        ],
    )
    return IngestResult(accepted=accepted, duplicates=len(items) - accepted)


def chat_flows_name(*, workspace: Workspace, names: dict[str, str]) -> None:
    """Create flows, or rename them, by upstream id (a chatbot pull's list of workflows)."""
    refs = [{"key": upstream_id, "name": name} for upstream_id, name in names.items()]
    _named_upsert(Flow, workspace, "upstream_id", "name", refs)


def booking_pages_name(*, workspace: Workspace, titles: dict[str, str]) -> None:
    """Create booking pages, or retitle them, by slug (a video-rooms pull's list of pages)."""
    refs = [{"key": slug, "name": title} for slug, title in titles.items()]
    _named_upsert(BookingPage, workspace, "slug", "title", refs)
