"""Webinars (the FLOW webinar API): operators, events and their sessions, registrants, surveys
and chat logs. Events belong to a workspace; every other row reaches it through its parent, and
each model's ``objects.for_workspace(ws)`` follows that path."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from events.timing import access_window, local_start
from workspaces.models import WorkspaceOwned
from workspaces.timezones import time_label


def new_token() -> str:
    return secrets.token_urlsafe(16)


def validate_text_list(value) -> None:
    """Registration and survey questions are a list of question texts."""
    if not isinstance(value, list) or not all(isinstance(q, str) and q.strip() for q in value):
        raise ValidationError("Enter a JSON list of non-empty question texts.")
    if len(set(value)) != len(value):
        raise ValidationError("Each question may appear only once.")


def validate_string_list(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Enter a JSON list of strings.")


def validate_answers(value) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationError('Enter a JSON object of question → answer, e.g. {"Role": "CTO"}.')


class ParentScopedQuerySet(models.QuerySet):
    """``for_workspace`` for rows that reach their workspace through a parent."""

    workspace_path = ""

    def for_workspace(self, workspace):
        return self.filter(**{self.workspace_path: workspace})


class Operator(WorkspaceOwned):
    """A workspace user who runs webinars (presenter or organizer of sessions)."""

    ADMINISTRATOR = 10

    email = models.EmailField()
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    permission = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(10)],
        help_text="Admin privileges, 0-10; 10 is an administrator.",
    )
    upstream_id = models.CharField(
        max_length=64, blank=True, help_text="Its id on the webinar platform, once synced."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "workspace", name="operator_unique_email"),
            models.UniqueConstraint(
                fields=["workspace", "upstream_id"],
                condition=~models.Q(upstream_id=""),
                name="operator_unique_upstream_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>".replace("  ", " ")


class Event(WorkspaceOwned):
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    # RESTRICT, not PROTECT: an operator who created events cannot be deleted alone, but a
    # workspace deletion (which cascades to both) still goes through.
    creator = models.ForeignKey(Operator, on_delete=models.RESTRICT, related_name="created_events")
    upstream_id = models.CharField(
        max_length=64, blank=True, help_text="Its event token on the webinar platform."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "upstream_id"],
                condition=~models.Q(upstream_id=""),
                name="event_unique_upstream_id",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.creator_id and self.workspace_id and self.creator.workspace_id != self.workspace_id:
            raise ValidationError({"creator": "The creator must be an operator of the workspace."})


class SessionQuerySet(ParentScopedQuerySet):
    workspace_path = "event__workspace"


class Session(models.Model):
    """One occurrence of an event. ``date``/``time``/``timezone`` are the wall clock the
    organizer chose; ``starts_at``, ``opens_at`` and ``ends_at`` are the same instants in UTC,
    kept in step by ``clean`` (admin) and the services (API) so lists filter in SQL."""

    class ChatPrivacy(models.IntegerChoices):
        OFF = 0, "Attendees see each other's messages"
        WHEN_LIVE = 1, "Private while the session is live"
        ALWAYS = 2, "Always private"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    date = models.DateField()
    upstream_id = models.CharField(
        max_length=64, blank=True, help_text="Its session token on the webinar platform."
    )
    time = models.TimeField()
    timezone = models.CharField(max_length=64, help_text="IANA name, e.g. Europe/Berlin.")
    duration = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(168)],
        help_text="Hours.",
    )
    early_access_period = models.PositiveIntegerField(
        default=15, validators=[MaxValueValidator(1440)], help_text="Minutes."
    )
    published = models.BooleanField(default=False)
    video_record = models.BooleanField(default=False)
    on_demand_replays = models.BooleanField(default=False)
    privatize_chat = models.PositiveSmallIntegerField(
        choices=ChatPrivacy.choices, default=ChatPrivacy.OFF
    )
    email_message = models.TextField(blank=True)
    has_qna = models.BooleanField(default=False)
    use_advanced_qna = models.BooleanField(default=False)
    qna_public_by_default = models.BooleanField(default=False)
    redirect_url = models.URLField(blank=True)
    reminder_one = models.PositiveIntegerField(default=24, help_text="Hours before the start.")
    reminder_two = models.PositiveIntegerField(default=1, help_text="Hours before the start.")
    has_recording = models.BooleanField(default=False)
    ref_sources = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    questions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text="Registration page questions, a JSON list of texts.",
    )
    starts_at = models.DateTimeField(editable=False)
    opens_at = models.DateTimeField(editable=False)
    ends_at = models.DateTimeField(editable=False)
    report_pulled_at = models.DateTimeField(
        null=True,
        editable=False,
        help_text="When the webinar platform's compiled report of this session was last "
        "stored without a failure (by the webinars pull).",
    )
    operators = models.ManyToManyField(Operator, through="SessionOperator", related_name="+")

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "upstream_id"],
                condition=~models.Q(upstream_id=""),
                name="session_unique_upstream_id",
            )
        ]
        indexes = [
            models.Index(fields=["opens_at"], name="session_opens_at"),
            models.Index(fields=["ends_at"], name="session_ends_at"),
        ]

    def __str__(self) -> str:
        return f"{self.event.title} — {self.date} {self.time:%H:%M} {self.timezone}"

    def clean(self) -> None:
        """Validate the wall-clock start and derive the UTC window from it."""
        if self.date is None or self.time is None or not self.timezone:
            return
        try:
            self.schedule()
        except ValidationError as error:
            field = "timezone" if error.code == "unknown_timezone" else "time"
            raise ValidationError({field: error.messages}) from error

    def schedule(self) -> None:
        self.starts_at = local_start(self.date, self.time, self.timezone)
        self.opens_at, self.ends_at = access_window(
            starts_at=self.starts_at,
            duration_hours=self.duration,
            early_access_minutes=self.early_access_period,
        )


class SessionOperator(models.Model):
    class Role(models.IntegerChoices):
        PRESENTER = 5, "Presenter"
        ORGANIZER = 10, "Organizer"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="session_operators")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="sessions")
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    mic_enabled = models.BooleanField()
    cam_enabled = models.BooleanField()
    screen_sharing_enabled = models.BooleanField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "operator"], name="session_operator_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator} ({self.get_role_display()})"

    def clean(self) -> None:
        event = getattr(self.session, "event", None) if self.session_id or self.session else None
        if self.operator_id and event and self.operator.workspace_id != event.workspace_id:
            raise ValidationError(
                {"operator": "The operator must belong to the event's workspace."}
            )


class RegistrantQuerySet(ParentScopedQuerySet):
    workspace_path = "session__event__workspace"


class Registrant(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrants")
    email = models.EmailField()
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    answers = models.JSONField(default=dict, blank=True, validators=[validate_answers])
    registered_at = models.DateTimeField(default=timezone.now)
    attended = models.BooleanField(default=False)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    minutes_watched = models.PositiveIntegerField(default=0)
    contact = models.ForeignKey(
        "rooms.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webinar_registrations",
        help_text="The workspace's contact with this email.",
    )

    objects = RegistrantQuerySet.as_manager()

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "session", name="registrant_unique_email")
        ]
        indexes = [
            models.Index(fields=["session", "registered_at", "id"], name="registrant_by_time")
        ]

    def __str__(self) -> str:
        return self.email


class SurveyQuerySet(ParentScopedQuerySet):
    workspace_path = "session__event__workspace"


class Survey(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=255)
    questions = models.JSONField(default=list, validators=[validate_text_list])
    created_at = models.DateTimeField(default=timezone.now)
    upstream_id = models.CharField(
        max_length=64, blank=True, help_text="Its id on the webinar platform, once synced."
    )

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "upstream_id"],
                condition=~models.Q(upstream_id=""),
                name="survey_unique_upstream_id",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="survey_responses"
    )
    answers = models.JSONField(default=dict, validators=[validate_answers])
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "registrant"], name="survey_response_once")
        ]

    def __str__(self) -> str:
        return f"{self.registrant} on {self.survey}"


class ChatMessage(models.Model):
    """A chat line of a session: written by an attendee (a registrant) or by an operator."""

    class Kind(models.TextChoices):
        ATTENDEE = "attendee", "Attendee"
        OPERATOR = "operator", "Operator"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="chat_messages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    registrant = models.ForeignKey(
        Registrant, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_messages"
    )
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    is_private = models.BooleanField(default=False)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="attendee", registrant__isnull=False, operator__isnull=True)
                    | models.Q(kind="operator", operator__isnull=False, registrant__isnull=True)
                ),
                name="chat_message_sender_matches_kind",
            )
        ]
        indexes = [models.Index(fields=["session", "kind", "sent_at"], name="chat_by_time")]

    def __str__(self) -> str:
        return f"{self.kind} message at {time_label(self.sent_at)}"
