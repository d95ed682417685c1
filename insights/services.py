"""Writes for the insights app: batch ingestion of chatbot events and workspace activity.

A batch is validated as a whole before it arrives here (insights.api.serializers), so a service
either stores every new item or raises. Items whose client id is already stored are skipped,
which makes a replayed batch change nothing. The number of queries is fixed per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower

from config.errors import invalid_field
from insights.models import (
    BookingPage,
    ChatMessage,
    ChatUser,
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
    stored: set[str] = set()
    for model in models:
        stored.update(
            model.objects.for_workspace(workspace)
            .filter(client_id__in=ids)
            .values_list("client_id", flat=True)
        )
    return stored


def _named_upsert(
    model, workspace: Workspace, key_field: str, name_field: str, refs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Get or create rows by ``key_field`` from references ``{"key", "name"?}``; a name given
    by a later reference renames the row, a reference without one leaves the name alone.
    Rows created without a name are named after their key if the model requires a name."""
    names: dict[str, str | None] = {}
    for ref in refs:
        if ref.get("name") or ref["key"] not in names:
            names[ref["key"]] = ref.get("name")
    name_may_be_blank = model._meta.get_field(name_field).blank

    def row(key: str, name: str | None):
        name = name or ("" if name_may_be_blank else key)
        return model(workspace=workspace, **{key_field: key, name_field: name})

    named = [row(key, name) for key, name in names.items() if name]
    unnamed = [row(key, name) for key, name in names.items() if not name]
    if named:
        model.objects.bulk_create(
            named,
            update_conflicts=True,
            unique_fields=["workspace", key_field],
            update_fields=[name_field],
        )
    if unnamed:
        model.objects.bulk_create(unnamed, ignore_conflicts=True)
    rows = model.objects.for_workspace(workspace).filter(**{f"{key_field}__in": names})
    return {getattr(r, key_field): r for r in rows}


def _chat_users_upsert(workspace: Workspace, items: list[dict[str, Any]]) -> dict[str, ChatUser]:
    """Create users on first sight and move ``first_seen_at`` back when an item is earlier
    than what is stored (items may arrive in any order)."""
    seen: dict[str, datetime] = {}
    names: dict[str, str] = {}
    for item in items:
        user_id = item["user"]["id"]
        seen[user_id] = min(item["at"], seen.get(user_id, item["at"]))
        if item["user"].get("name"):
            names[user_id] = item["user"]["name"]
    ChatUser.objects.bulk_create(
        [
            ChatUser(workspace=workspace, upstream_id=i, name=names.get(i, ""), first_seen_at=at)
            for i, at in seen.items()
        ],
        ignore_conflicts=True,
    )
    # Locked so that two batches moving the same user's first-seen time cannot interleave.
    users = {
        user.upstream_id: user
        for user in ChatUser.objects.for_workspace(workspace)
        .filter(upstream_id__in=seen)
        .select_for_update()
    }
    changed = []
    for upstream_id, user in users.items():
        name = names.get(upstream_id, user.name)
        if seen[upstream_id] < user.first_seen_at or name != user.name:
            user.first_seen_at = min(seen[upstream_id], user.first_seen_at)
            user.name = name
            changed.append(user)
    ChatUser.objects.bulk_update(changed, ["first_seen_at", "name"])
    return users


@transaction.atomic  # all or nothing, also when called outside a request
def chat_events_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> IngestResult:
    """Store a batch of ``message`` and ``trigger`` items (validated, client ids distinct)."""
    stored = _stored_client_ids(workspace, [i["id"] for i in items], ChatMessage, FlowTrigger)
    fresh = [item for item in items if item["id"] not in stored]
    if fresh:
        flow_refs = [{"key": i["flow"]["id"], **i["flow"]} for i in fresh if i.get("flow")]
        flows = _named_upsert(Flow, workspace, "upstream_id", "name", flow_refs)
        users = _chat_users_upsert(workspace, fresh)
        # ignore_conflicts: a concurrent replay of the same batch must not fail on the
        # unique client id; the row is stored once either way.
        ChatMessage.objects.bulk_create(
            [
                ChatMessage(
                    workspace=workspace,
                    client_id=item["id"],
                    user=users[item["user"]["id"]],
                    direction=item["direction"],
                    text=item["text"],
                    sent_at=item["at"],
                    flow=flows[item["flow"]["id"]] if item.get("flow") else None,
                )
                for item in fresh
                if item["kind"] == "message"
            ],
            ignore_conflicts=True,
        )
        FlowTrigger.objects.bulk_create(
            [
                FlowTrigger(
                    workspace=workspace,
                    client_id=item["id"],
                    flow=flows[item["flow"]["id"]],
                    user=users[item["user"]["id"]],
                    at=item["at"],
                )
                for item in fresh
                if item["kind"] == "trigger"
            ],
            ignore_conflicts=True,
        )
    return IngestResult(accepted=len(fresh), duplicates=len(items) - len(fresh))


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
    for item in items:
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
    if events:
        contacts = _contacts_get_or_create(workspace, events)
        page_refs = [
            {"key": i["booking_page"]["slug"], "name": i["booking_page"].get("title")}
            for i in events
            if i.get("booking_page")
        ]
        pages = _named_upsert(BookingPage, workspace, "slug", "title", page_refs)
        ContactEvent.objects.bulk_create(
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
            ignore_conflicts=True,
        )
    Recording.objects.bulk_create(
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
        ignore_conflicts=True,
    )
    return IngestResult(accepted=len(fresh), duplicates=len(items) - len(fresh))
