"""Insights data: chatbot activity (flows, chat users, messages, triggers).

Rows arrive through the ingestion endpoints (insights.services) with a client ``id`` unique per
workspace, kept in ``client_id`` so a replayed batch changes nothing. Every time-range read is
served by a (workspace, time) index.
"""

from __future__ import annotations

from django.db import models

from workspaces.models import WorkspaceOwned


class Flow(WorkspaceOwned):
    """A chatbot flow, known by the chatbot platform's id."""

    upstream_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "upstream_id"], name="insights_flow_unique_upstream"
            )
        ]
        ordering = ["name", "upstream_id"]

    def __str__(self) -> str:
        return self.name or self.upstream_id


class ChatUser(WorkspaceOwned):
    """Someone who talked to a chatbot. ``first_seen_at`` is the earliest ``at`` of any of
    their ingested items, whatever order the items arrived in."""

    upstream_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "upstream_id"], name="insights_chatuser_unique_upstream"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "first_seen_at"], name="insights_chatuser_ws_seen")
        ]
        ordering = ["first_seen_at", "id"]

    def __str__(self) -> str:
        return self.name or self.upstream_id


class ChatMessage(WorkspaceOwned):
    class Direction(models.TextChoices):
        RECEIVED = "received", "Received (user to bot)"
        SENT = "sent", "Sent (bot to user)"

    client_id = models.CharField(max_length=255)
    user = models.ForeignKey(ChatUser, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    text = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    flow = models.ForeignKey(
        Flow, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="insights_chatmessage_unique_client"
            )
        ]
        # direction and user after the time range so the metrics can be read from the index
        # alone (an index-only scan on PostgreSQL).
        indexes = [
            models.Index(
                fields=["workspace", "sent_at", "direction", "user"],
                name="insights_chatmsg_ws_sent",
            )
        ]
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.sent_at:%Y-%m-%d %H:%M}: {self.text[:40]}"


class FlowTrigger(WorkspaceOwned):
    """One run of a flow for a chat user."""

    client_id = models.CharField(max_length=255)
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="triggers")
    user = models.ForeignKey(ChatUser, on_delete=models.CASCADE, related_name="triggers")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="insights_flowtrigger_unique_client"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "at", "flow"], name="insights_flowtrigger_ws_at")
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.flow} at {self.at:%Y-%m-%d %H:%M}"
