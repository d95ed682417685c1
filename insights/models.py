"""Insights data: chatbot activity (flows, chat users, messages, triggers) and workspace
activity (contact events, booking pages, recordings; contacts and rooms are rooms' models).

Rows arrive through the ingestion endpoints (insights.services) with a client ``id`` unique per
workspace, kept in ``client_id`` so a replayed batch changes nothing. Every time-range read is
served by a (workspace, time) index.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from workspaces.models import WorkspaceOwned
from workspaces.timezones import time_label


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
    contact = models.ForeignKey(
        "rooms.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
        return f"{self.direction} {time_label(self.sent_at)}: {self.text[:40]}"


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
        return f"{self.flow} at {time_label(self.at)}"


class BookingPage(WorkspaceOwned):
    """A scheduling page; created on first sight of its slug in a contact event."""

    title = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="insights_bookingpage_slug")
        ]
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title or self.slug


class ContactEvent(WorkspaceOwned):
    """Something a contact did: joined a room, booked through a booking page, …"""

    class Type:
        """The types the analytics count; any other type is stored and shown in the breakdown."""

        ROOM_JOIN = "room_join"
        BOOKING = "booking"

    client_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=64)
    contact = models.ForeignKey("rooms.Contact", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(
        "rooms.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booking_page = models.ForeignKey(
        BookingPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    occurred_at = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="insights_contactevent_unique_client"
            )
        ]
        # One index per analytics read: the 30-day timeline, the top rooms (and the lifetime
        # breakdown by type), the top booking pages.
        indexes = [
            models.Index(
                fields=["workspace", "occurred_at", "event_type"], name="insights_cevent_ws_time"
            ),
            models.Index(
                fields=["workspace", "event_type", "room"], name="insights_cevent_ws_type_room"
            ),
            models.Index(
                fields=["workspace", "event_type", "booking_page"],
                name="insights_cevent_ws_type_page",
            ),
        ]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_type} at {time_label(self.occurred_at)}"


class Recording(WorkspaceOwned):
    class Status(models.TextChoices):
        STARTED = "started", "Started"
        UPLOADED = "uploaded", "Uploaded"
        AVAILABLE = "available", "Available"
        FAILED = "failed", "Failed"

    client_id = models.CharField(max_length=255)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    duration_seconds = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="insights_recording_unique_client"
            )
        ]
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.room_id} ({self.duration_seconds} s, {self.status})"


# Rollups. Kept by PostgreSQL triggers on the raw tables (migration 0003, see
# docs/insights-rollups.md), in the statement that writes the rows, whoever writes them: the
# ingestion services, a pull, the admin, a cascade. No foreign keys: a cascade may delete a
# rollup row's workspace or user in the same transaction as the rows the triggers subtract.


class Grain(models.TextChoices):
    """UTC buckets the chat rollups are kept at."""

    QUARTER_HOUR = "15min"  # every real-world offset is a multiple of 15 minutes
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


class ChatCount(models.Model):
    """Messages by direction (``received``, ``sent``) and flow triggers (``trigger``) per
    workspace and UTC bucket."""

    workspace_id = models.BigIntegerField()
    grain = models.CharField(max_length=5, choices=Grain.choices)
    bucket = models.DateTimeField()
    metric = models.CharField(max_length=8)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "grain", "bucket", "metric"], name="insights_chatcount_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.grain} {self.bucket:%Y-%m-%d %H:%M}: {self.n}"


class ChatActiveUser(models.Model):
    """Each user with received messages in a UTC bucket, once (``received`` of them): the
    exact distinct count of active users over any union of buckets."""

    workspace_id = models.BigIntegerField()
    grain = models.CharField(max_length=5, choices=Grain.choices)
    bucket = models.DateTimeField()
    user_id = models.BigIntegerField()
    received = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "grain", "bucket", "user_id"],
                name="insights_chatactiveuser_key",
            )
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} {self.grain} {self.bucket:%Y-%m-%d %H:%M}"


class EventDayCount(models.Model):
    """Contact events per workspace, UTC day and type."""

    workspace_id = models.BigIntegerField()
    day = models.DateField()
    event_type = models.CharField(max_length=64)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "day", "event_type"], name="insights_eventdaycount_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.day}: {self.n}"


class EventTargetCount(models.Model):
    """Contact events per workspace, type and target (``room`` or ``booking_page`` and its
    id as text: rooms have UUIDs, booking pages integers), lifetime."""

    workspace_id = models.BigIntegerField()
    event_type = models.CharField(max_length=64)
    target = models.CharField(max_length=12)
    target_id = models.CharField(max_length=36)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "event_type", "target", "target_id"],
                name="insights_eventtargetcount_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.target} {self.target_id}: {self.n}"
