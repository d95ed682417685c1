"""Writes for the insights app: batch ingestion of chatbot events.

A batch is validated as a whole before it arrives here (insights.api.serializers), so a service
either stores every new item or raises. Items whose client id is already stored are skipped,
which makes a replayed batch change nothing. The number of queries is fixed per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from insights.models import ChatMessage, ChatUser, Flow, FlowTrigger
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


def _flows_upsert(workspace: Workspace, items: list[dict[str, Any]]) -> dict[str, Flow]:
    """Create flows on first sight; a name given by a later item renames the flow."""
    names: dict[str, str | None] = {}
    for item in items:
        if item.get("flow"):
            ref = item["flow"]
            if ref.get("name") or ref["id"] not in names:
                names[ref["id"]] = ref.get("name")
    named = [Flow(workspace=workspace, upstream_id=i, name=n) for i, n in names.items() if n]
    unnamed = [Flow(workspace=workspace, upstream_id=i) for i, n in names.items() if not n]
    if named:
        Flow.objects.bulk_create(
            named,
            update_conflicts=True,
            unique_fields=["workspace", "upstream_id"],
            update_fields=["name"],
        )
    if unnamed:
        Flow.objects.bulk_create(unnamed, ignore_conflicts=True)
    flows = Flow.objects.for_workspace(workspace).filter(upstream_id__in=names)
    return {flow.upstream_id: flow for flow in flows}


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


def chat_events_ingest(*, workspace: Workspace, items: list[dict[str, Any]]) -> IngestResult:
    """Store a batch of ``message`` and ``trigger`` items (validated, client ids distinct)."""
    stored = _stored_client_ids(workspace, [i["id"] for i in items], ChatMessage, FlowTrigger)
    fresh = [item for item in items if item["id"] not in stored]
    if fresh:
        flows = _flows_upsert(workspace, fresh)
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
