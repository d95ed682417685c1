from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from syncing import crypto
from syncing.urlguard import validate_upstream_url
from workspaces.models import WorkspaceOwned, WorkspaceQuerySet
from workspaces.timezones import time_label


class Connection(WorkspaceOwned):
    """One upstream account of a workspace. The credentials column holds only a Fernet token;
    read and write them through ``credentials``."""

    class Provider(models.TextChoices):
        ROOMS_PLATFORM = "rooms_platform", "Rooms platform (Flowla API v2)"
        WEBINAR_PLATFORM = "webinar_platform", "Webinar platform (FLOW API v1)"
        CHATBOT_PLATFORM = "chatbot_platform", "Chatbot platform (Flow XO API)"
        VIDEO_PLATFORM = "video_platform", "Video rooms platform (Livestorm Nexus API)"
        # Reserved for the CRM sync.
        HUBSPOT = "hubspot", "HubSpot"
        SALESFORCE = "salesforce", "Salesforce"
        ATTIO = "attio", "Attio"

    class Status(models.TextChoices):
        # Until the first test or run: nothing is known about the credentials yet.
        NEVER_RUN = "never_run", "Never run"
        OK = "ok", "OK"
        FAILING = "failing", "Failing"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authentication"

    provider = models.CharField(max_length=32, choices=Provider.choices)
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=500, validators=[validate_upstream_url])
    credentials_encrypted = models.TextField(blank=True, default="", editable=False)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEVER_RUN)
    status_detail = models.TextField(blank=True, default="")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # CRM connections: owns the rooms auto-created for deals whose owner is not a member.
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="CRM connections: owner of auto-created rooms when the deal's owner is not "
        "a member of the workspace.",
    )
    # What a CRM's own lists said at the last test (syncing.crm.catalog): its pipelines and
    # stages, and which write-back fields exist. Not a secret; read by forms, never edited.
    crm_catalog = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="connection_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def clean(self) -> None:
        if not isinstance(self.options, dict):
            raise ValidationError({"options": "Options must be a JSON object."})
        for name, kind in (
            ("requests_per_second", (int, float)),
            ("burst", (int,)),
            ("pool_size", (int,)),
        ):
            value = self.options.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, kind) or value <= 0
            ):
                raise ValidationError({"options": f"{name} must be a positive number."})

    @property
    def credentials(self) -> dict:
        return crypto.decrypt_json(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = crypto.encrypt_json(value) if value else ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)


class SyncRun(WorkspaceOwned):
    """One run of one stream of one connection, recorded as it goes."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial (some records failed)"
        FAILED = "failed", "Failed"
        # A queued run that did not start: the stream was already running, or the connection
        # was disabled meanwhile. ``errors`` says which.
        SKIPPED = "skipped", "Skipped"

        @classmethod
        def finished(cls) -> set[str]:
            return {cls.SUCCEEDED, cls.PARTIAL, cls.FAILED, cls.SKIPPED}

        @classmethod
        def active(cls) -> set[str]:
            return {cls.QUEUED, cls.RUNNING}

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    stream = models.CharField(max_length=64)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    full_refresh = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cursor_before = models.JSONField(null=True, blank=True)
    cursor_after = models.JSONField(null=True, blank=True)
    upstream_calls = models.PositiveIntegerField(default=0)
    # The first SYNC_RUN_MAX_ERRORS errors: {message, upstream_id, correlation_id, status}.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "stream", "-started_at"], name="syncrun_stream_idx")
        ]

    def __str__(self) -> str:
        return f"{self.stream} of {self.connection_id} at {time_label(self.started_at)}"


def _idempotency_key() -> str:
    return uuid.uuid4().hex


class OutboxQuerySet(WorkspaceQuerySet):
    def deliverable(self, now):
        """Due pending messages of usable connections that no older message of the same
        object is still waiting for."""
        older_waiting = OutboxMessage.objects.filter(
            connection=OuterRef("connection"),
            object_key=OuterRef("object_key"),
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
            pk__lt=OuterRef("pk"),
        )
        return (
            self.filter(
                status=OutboxMessage.Status.PENDING,
                next_attempt_at__lte=now,
                connection__enabled=True,
            )
            .exclude(connection__status=Connection.Status.NEEDS_REAUTH)
            .exclude(~Q(object_key="") & Exists(older_waiting))
        )


class OutboxMessage(WorkspaceOwned):
    """A local change to deliver upstream, written in the same transaction as the change."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    kind = models.CharField(max_length=64, help_text="Names the handler that delivers it.")
    # The local object the message is about: messages of one object are delivered in order.
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True, default="")
    target = GenericForeignKey("content_type", "object_id")
    # "<app_label>.<model>:<pk>" or a plain reference; messages with the same key are
    # delivered one at a time in creation order. Empty: no ordering.
    object_key = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    upstream_id = models.CharField(max_length=255, blank=True, default="")
    # A reference flowsync puts in what it creates, so a retried create can find its object.
    idempotency_key = models.CharField(max_length=64, default=_idempotency_key, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbox_due_idx",
            ),
            models.Index(
                fields=["connection", "object_key", "id"],
                name="outbox_object_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


# --- CRM -------------------------------------------------------------------------------------

CRM_PROVIDERS = (
    Connection.Provider.HUBSPOT,
    Connection.Provider.SALESFORCE,
    Connection.Provider.ATTIO,
)


class CrmDeal(WorkspaceOwned):
    """A HubSpot deal, Salesforce opportunity or Attio deal as last pulled. Rooms link to it
    through their ``hs_deal_id`` / ``sf_opportunity_id`` / ``attio_deal_id``."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="deals")
    provider = models.CharField(max_length=32, choices=Connection.Provider.choices)
    upstream_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    stage = models.CharField(max_length=128, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    owner_email = models.EmailField(blank=True)
    close_date = models.DateField(null=True, blank=True)
    upstream_modified_at = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    # Emails of the deal's contacts, primary first.
    contact_emails = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True, help_text="Raw upstream record.")
    # Hash of the stored content: a pull that reads the same deal again changes nothing.
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace_id", "name", "id"]
        verbose_name = "CRM deal"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "upstream_id"], name="crmdeal_unique_upstream"
            )
        ]
        indexes = [models.Index(fields=["connection", "stage"], name="crmdeal_stage_idx")]

    def __str__(self) -> str:
        return self.name or f"{self.provider} {self.upstream_id}"


class DealRoomRule(WorkspaceOwned):
    """When a deal of the connection enters ``stage``, create a room from ``template``."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="deal_room_rules"
    )
    stage = models.CharField(max_length=128, help_text="The upstream stage id or name.")
    template = models.ForeignKey(
        "rooms.Room",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"is_template": True},
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["connection_id", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "stage"], name="dealroomrule_unique_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} → {self.template}"


class DealRoom(WorkspaceOwned):
    """The room auto-created for a deal. The unique constraint is what guarantees one room per
    deal, whatever webhooks, schedules and retries do at the same time."""

    provider = models.CharField(max_length=32, choices=Connection.Provider.choices)
    deal_upstream_id = models.CharField(max_length=64)
    room = models.OneToOneField("rooms.Room", on_delete=models.CASCADE, related_name="deal_room")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "deal_upstream_id"], name="dealroom_unique_deal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.deal_upstream_id} → {self.room_id}"


class CrmWriteBack(WorkspaceOwned):
    """What was last written successfully for one room to one CRM connection."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    values_hash = models.CharField(max_length=64)
    written_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "room"], name="crmwriteback_unique")
        ]


class WebhookDelivery(WorkspaceOwned):
    """Event ids of webhook deliveries already handled: a delivery seen before is ignored."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "event_id"], name="webhook_event_once")
        ]


class VideoRoom(WorkspaceOwned):
    """A room of the video-rooms platform and the ``rooms.Room`` that stands for it in the
    workspace analytics (docs/decisions.md: the room keeps no upstream id of its own, so the
    rooms platform's pull never sees, matches or archives it)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    upstream_id = models.CharField(max_length=64)
    room = models.OneToOneField("rooms.Room", on_delete=models.CASCADE, related_name="+")
    # The upstream record as last pulled (slug, owner, schedule, waiting room, ...).
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "upstream_id"], name="videoroom_unique_upstream"
            )
        ]

    def __str__(self) -> str:
        return f"video room {self.upstream_id} → {self.room_id}"
