"""Sales rooms: the room structure (sections, steps = pages, actions = action items), the people
on a room (internal members, external contacts) and the activity recorded on it.

Viewer modelling: every row that points at a person (action assignees, viewership, engagements,
visits) has a nullable ``user`` FK (an internal workspace member) and a nullable ``contact`` FK
(an external person), and a check constraint that exactly one of them is set. Both are plain
FKs, so joins and aggregates stay in SQL; ``viewer`` returns whichever is set.

Every table carries the denormalised ``workspace`` FK (WorkspaceOwned): scoping is one filter
and the activity tables can be indexed by (workspace, time) without a join.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from workspaces.models import WorkspaceOwned
from workspaces.timezones import time_label


class Access(models.TextChoices):
    """Who sees a section, step or action: ``hidden`` is internal only."""

    VISIBLE = "visible", "Visible"
    RESTRICTED = "restricted", "Restricted"
    LOCKED = "locked", "Locked"
    HIDDEN = "hidden", "Hidden"


def upstream_id_field() -> models.CharField:
    return models.CharField(
        max_length=64, blank=True, help_text="Its id on the rooms platform, once synced."
    )


def unique_upstream_id(name: str) -> models.UniqueConstraint:
    """One local row per upstream id and workspace; rows never synced have none."""
    return models.UniqueConstraint(
        fields=["workspace", "upstream_id"], condition=~Q(upstream_id=""), name=name
    )


def _exactly_one(first: str, second: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(**{f"{first}__isnull": False}) & Q(**{f"{second}__isnull": True}))
        | (Q(**{f"{first}__isnull": True}) & Q(**{f"{second}__isnull": False})),
        name=name,
    )


class ViewerMixin(models.Model):
    """An internal member (``user``) or an external ``contact``: exactly one is set."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "rooms.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def viewer(self):
        return self.user if self.user_id else self.contact


class Company(WorkspaceOwned):
    """A buyer's company (the room's target company)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    brand_color = models.CharField(max_length=7, blank=True, help_text="Hex color, e.g. #1F6FEB")
    created_at = models.DateTimeField(default=timezone.now)
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        indexes = [models.Index(fields=["workspace", "name"], name="company_ws_name")]
        constraints = [unique_upstream_id("company_unique_upstream_id")]

    def __str__(self) -> str:
        return self.name


class RoomStatus(WorkspaceOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=255)
    is_default = models.BooleanField(
        default=False, help_text="Given to new rooms created without a status."
    )
    position = models.PositiveIntegerField(default=0)
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["position", "title", "id"]
        verbose_name_plural = "room statuses"
        constraints = [
            unique_upstream_id("roomstatus_unique_upstream_id"),
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="roomstatus_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Label(WorkspaceOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    color = models.CharField(max_length=7, blank=True, help_text="Hex color, e.g. #1F6FEB")
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["name", "id"]
        constraints = [unique_upstream_id("label_unique_upstream_id")]

    def __str__(self) -> str:
        return self.name


class Contact(WorkspaceOwned):
    """An external person (buyer). Unique per workspace by email, case-insensitively; services
    store the email lower-cased.

    A pulled room may name people of the seller's own organisation who are not members here:
    they are contacts with ``internal`` set, shown on the internal side like members."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=255, blank=True)
    job_title = models.CharField(max_length=255, blank=True)
    internal = models.BooleanField(
        default=False,
        help_text="The rooms platform lists them on the seller's side, not as a buyer.",
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "workspace", name="contact_unique_email")
        ]
        # The workspace analytics' new-contacts timeline scans a workspace's recent contacts.
        indexes = [models.Index(fields=["workspace", "created_at"], name="contact_ws_created")]

    def __str__(self) -> str:
        return self.email


class Room(WorkspaceOwned):
    class NavColor:
        """The two named values ``nav_color`` takes besides a hex color."""

        ORG = "flow-org-color"
        TARGET_COMPANY = "target-company-color"

    # Optional text fields store "" when unset (Django's convention); the API renders "" as null.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_template = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_rooms",
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="rooms"
    )
    status = models.ForeignKey(
        RoomStatus, null=True, blank=True, on_delete=models.SET_NULL, related_name="rooms"
    )
    label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.SET_NULL, related_name="rooms"
    )
    primary_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_rooms"
    )
    hs_deal_id = models.CharField("HubSpot deal id", max_length=64, blank=True)
    sf_opportunity_id = models.CharField("Salesforce opportunity id", max_length=18, blank=True)
    attio_deal_id = models.CharField("Attio deal id", max_length=64, blank=True)
    cover_title = models.CharField(max_length=255, blank=True)
    cover_description = models.TextField(blank=True)
    cover_disabled = models.BooleanField(default=False)
    theme_color = models.CharField(max_length=7, blank=True)
    nav_color = models.CharField(max_length=32, blank=True)
    slug = models.SlugField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    archived = models.BooleanField(default=False)
    upstream_id = upstream_id_field()
    # The rooms pull's digest of the upstream record and analytics it last wrote, so an
    # unchanged room is not rewritten (syncing.providers.rooms_platform.pull).
    upstream_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The upstream's totalViews and totalUniqueViews at the last pull: visits a pull cannot
    # copy one by one. The room's totals (rooms.totals) add the visits recorded here.
    upstream_views = models.PositiveIntegerField(null=True, blank=True, editable=False)
    upstream_unique_views = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            unique_upstream_id("room_unique_upstream_id"),
            models.UniqueConstraint(fields=["workspace", "slug"], name="room_unique_slug"),
        ]
        indexes = [
            # Ends in the id, the list's tie-break: a page sorted by createdAt is an index scan.
            models.Index(
                fields=["workspace", "is_template", "created_at", "id"], name="room_ws_created_id"
            ),
            models.Index(fields=["workspace", "is_template", "updated_at"], name="room_ws_updated"),
            models.Index(fields=["workspace", "is_template", "title"], name="room_ws_title"),
            models.Index(fields=["hs_deal_id"], name="room_hs_deal"),
            models.Index(fields=["sf_opportunity_id"], name="room_sf_opportunity"),
            models.Index(fields=["attio_deal_id"], name="room_attio_deal"),
        ]

    def __str__(self) -> str:
        return self.title


class RoomMember(WorkspaceOwned):
    """An internal member on the room's team. ``is_room_owner`` mirrors ``Room.owner`` (kept in
    step by rooms.services)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    is_room_owner = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="roommember_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.room}"


class RoomContact(WorkspaceOwned):
    """An external contact on the room. ``is_primary_contact`` mirrors ``Room.primary_contact``
    (kept in step by rooms.services)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="contacts")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="room_links")
    is_primary_contact = models.BooleanField(default=False)
    # Set by the rooms pull only. An internal contact (not a member here) may own the room.
    is_room_owner = models.BooleanField(default=False)
    # The upstream's lastSeen and viewCount of this person on this room at the last pull; the
    # room's analytics add the visits recorded here.
    upstream_last_seen = models.DateTimeField(null=True, blank=True)
    upstream_view_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "contact"], name="roomcontact_unique_contact")
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.room}"


class Section(WorkspaceOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.VISIBLE)
    is_completed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["position", "created_at", "id"]
        indexes = [models.Index(fields=["room", "position"], name="section_room_position")]
        constraints = [unique_upstream_id("section_unique_upstream_id")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible_to_external(self) -> bool:
        return self.access != Access.HIDDEN


class Step(WorkspaceOwned):
    """A page of a section (``/api/v2/pages``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.VISIBLE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["position", "created_at", "id"]
        indexes = [models.Index(fields=["section", "position"], name="step_section_position")]
        constraints = [unique_upstream_id("step_unique_upstream_id")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible_to_external(self) -> bool:
        return self.access != Access.HIDDEN


class Action(WorkspaceOwned):
    """An action item of a section's action plan, optionally placed on one of its pages."""

    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="actions")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TODO)
    internal = models.BooleanField(default=False)
    start_date = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    action_type = models.CharField(max_length=64, blank=True)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.VISIBLE)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    upstream_id = upstream_id_field()

    class Meta:
        ordering = ["position", "created_at", "id"]
        indexes = [
            models.Index(fields=["section", "position"], name="action_section_position"),
            models.Index(fields=["step", "position"], name="action_step_position"),
        ]
        constraints = [unique_upstream_id("action_unique_upstream_id")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible_to_external(self) -> bool:
        return self.access != Access.HIDDEN


class ActionAssignee(WorkspaceOwned, ViewerMixin):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="assignees")

    class Meta:
        constraints = [
            _exactly_one("user", "contact", "actionassignee_one_person"),
            models.UniqueConstraint(fields=["action", "user"], name="actionassignee_unique_user"),
            models.UniqueConstraint(
                fields=["action", "contact"], name="actionassignee_unique_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.viewer} on {self.action}"


class Viewership(WorkspaceOwned, ViewerMixin):
    """How long and how often one viewer looked at one step or one action. One row per viewer
    and target (NULLs are distinct in the unique constraints, so each pair holds alone)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="viewerships")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.CASCADE, related_name="viewerships"
    )
    action = models.ForeignKey(
        Action, null=True, blank=True, on_delete=models.CASCADE, related_name="viewerships"
    )
    duration_in_seconds = models.PositiveIntegerField(default=0)
    times_viewed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            _exactly_one("user", "contact", "viewership_one_viewer"),
            _exactly_one("step", "action", "viewership_one_target"),
            models.UniqueConstraint(fields=["step", "user"], name="viewership_unique_step_user"),
            models.UniqueConstraint(
                fields=["step", "contact"], name="viewership_unique_step_contact"
            ),
            models.UniqueConstraint(
                fields=["action", "user"], name="viewership_unique_action_user"
            ),
            models.UniqueConstraint(
                fields=["action", "contact"], name="viewership_unique_action_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.viewer} viewed {self.step or self.action}"


class Engagement(WorkspaceOwned, ViewerMixin):
    class Type(models.TextChoices):
        VIEW = "VIEW", "View"
        CLICK = "CLICK", "Click"
        COMMENT = "COMMENT", "Comment"
        DOWNLOAD = "DOWNLOAD", "Download"
        REACTION = "REACTION", "Reaction"
        SHARE = "SHARE", "Share"
        TASK_COMPLETED = "TASK_COMPLETED", "Task completed"

    # Indexed by the (room, created_at) and (room, type) indexes below.
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="engagements", db_index=False
    )
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.CASCADE, related_name="engagements"
    )
    action = models.ForeignKey(
        Action, null=True, blank=True, on_delete=models.CASCADE, related_name="engagements"
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # NULL, not "", when there is none: rows without a client id must not collide in the
    # unique constraint below.
    client_id = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, help_text="The sender's event id (ingestion)."
    )

    class Meta:
        constraints = [
            _exactly_one("user", "contact", "engagement_one_viewer"),
            _exactly_one("step", "action", "engagement_one_target"),
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="engagement_unique_client_id"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "created_at"], name="engagement_ws_created"),
            models.Index(fields=["room", "created_at"], name="engagement_room_created"),
            models.Index(fields=["room", "type"], name="engagement_room_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} by {self.viewer}"


class Visit(WorkspaceOwned, ViewerMixin):
    """One visit of a viewer to a room (lastSeen, viewCount, totalViews)."""

    # Indexed by the (room, at) index below.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="visits", db_index=False)
    at = models.DateTimeField(default=timezone.now)
    # NULL, not "", when there is none: rows without a client id must not collide in the
    # unique constraint below.
    client_id = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, help_text="The sender's event id (ingestion)."
    )

    class Meta:
        constraints = [
            _exactly_one("user", "contact", "visit_one_viewer"),
            models.UniqueConstraint(
                fields=["workspace", "client_id"], name="visit_unique_client_id"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "at"], name="visit_ws_at"),
            models.Index(fields=["room", "at"], name="visit_room_at"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer} visited {self.room} at {time_label(self.at)}"


class RoomTotals(models.Model):
    """The room's engagement totals (rooms.totals), one row per room, so the rooms list sorts
    and pages through an index and a detail reads one row instead of aggregating activity.

    The row's key columns (room, workspace, is_template) are kept by database triggers on the
    room table (migration 0005): a room has its row from the moment it exists, whoever inserts
    it. The counts are written by ``rooms.totals.refresh_room_totals`` in the transaction that
    changes the room's activity."""

    room = models.OneToOneField(
        Room, primary_key=True, on_delete=models.CASCADE, related_name="totals"
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    is_template = models.BooleanField(default=False)
    total_views = models.IntegerField(default=0, db_default=0)
    total_unique_views = models.IntegerField(default=0, db_default=0)
    total_engagements = models.IntegerField(default=0, db_default=0)
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    engagement_click = models.IntegerField(default=0, db_default=0)
    engagement_comment = models.IntegerField(default=0, db_default=0)
    engagement_download = models.IntegerField(default=0, db_default=0)
    engagement_reaction = models.IntegerField(default=0, db_default=0)
    engagement_share = models.IntegerField(default=0, db_default=0)
    engagement_view = models.IntegerField(default=0, db_default=0)
    engagement_task_completed = models.IntegerField(default=0, db_default=0)

    class Meta:
        verbose_name_plural = "room totals"
        # One index per sortable total, ending in the room id (the list's tie-break), so every
        # sort order of the list is an index scan in either direction.
        indexes = [
            models.Index(
                fields=["workspace", "is_template", "total_views", "room"],
                name="roomtotals_views",
            ),
            models.Index(
                fields=["workspace", "is_template", "total_unique_views", "room"],
                name="roomtotals_unique_views",
            ),
            models.Index(
                fields=["workspace", "is_template", "total_engagements", "room"],
                name="roomtotals_engagements",
            ),
            # lastEngagedAt (DESC NULLS LAST, ASC NULLS FIRST) has its index on PostgreSQL
            # only, made by migration 0005: SQLite cannot index NULLS LAST.
        ]

    def __str__(self) -> str:
        return f"totals of {self.room_id}"
