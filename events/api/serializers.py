"""Input and output shapes of the webinar API, with the spec's field names."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.fields import (
    IsoDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerChoiceField,
    StrictIntegerField,
)
from events.api.fields import ClockTimeField, HoursField
from events.login_links import login_link
from events.models import Session, SessionOperator
from events.timing import PERIODS, access_status, local_start, timezone_get

# --- Operators --------------------------------------------------------------------------------


class OperatorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    permission = serializers.IntegerField()


class OperatorInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    firstName = StrictCharField(max_length=150)
    lastName = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    permission = StrictIntegerField(min_value=0, max_value=10, required=False, default=0)


# --- Sessions ---------------------------------------------------------------------------------


class SessionOperatorOutput(serializers.Serializer):
    id = serializers.IntegerField(source="operator.id")
    email = serializers.EmailField(source="operator.email")
    firstName = serializers.CharField(source="operator.first_name")
    lastName = serializers.CharField(source="operator.last_name")
    permission = serializers.IntegerField(source="operator.permission")
    role = serializers.IntegerField()
    micEnabled = serializers.BooleanField(source="mic_enabled")
    camEnabled = serializers.BooleanField(source="cam_enabled")
    screenSharingEnabled = serializers.BooleanField(source="screen_sharing_enabled")


class SessionAnalyticsOutput(serializers.Serializer):
    registrants = serializers.IntegerField(source="registrant_count")
    attendees = serializers.IntegerField(source="attendee_count")
    attendanceRate = serializers.FloatField(source="attendance_rate")


class SessionOutput(serializers.Serializer):
    """The event info object (one session of an event, with the event's own fields)."""

    title = serializers.CharField(source="event.title")
    description = serializers.CharField(source="event.description")
    time = ClockTimeField()
    published = serializers.BooleanField()
    eventToken = serializers.CharField(source="event.token")
    timezone = serializers.CharField()
    duration = serializers.FloatField()
    earlyAccessPeriod = serializers.IntegerField(source="early_access_period")
    creator = OperatorOutput(source="event.creator")
    token = serializers.CharField()
    date = serializers.DateField(format="%Y-%m-%d")
    createDate = IsoDateTimeField(source="event.created_at")
    refSources = serializers.ListField(child=serializers.CharField(), source="ref_sources")
    operators = SessionOperatorOutput(many=True, source="session_operators.all")
    accessStatus = serializers.SerializerMethodField()
    videoRecord = serializers.BooleanField(source="video_record")
    onDemandReplays = serializers.BooleanField(source="on_demand_replays")
    privatizeChat = serializers.ChoiceField(
        choices=Session.ChatPrivacy.values, source="privatize_chat"
    )
    emailMessage = serializers.CharField(source="email_message")
    hasQnA = serializers.BooleanField(source="has_qna")
    useAdvancedQna = serializers.BooleanField(source="use_advanced_qna")
    redirectUrl = serializers.SerializerMethodField()
    qnaPublicByDefault = serializers.BooleanField(source="qna_public_by_default")
    reminderOne = serializers.IntegerField(source="reminder_one")
    reminderTwo = serializers.IntegerField(source="reminder_two")
    hasRecording = serializers.BooleanField(source="has_recording")
    questions = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(serializers.ChoiceField(choices=[1, 2, 3]))
    def get_accessStatus(self, session: Session) -> int:
        now = self.context.get("now") or timezone.now()
        return int(access_status(opens_at=session.opens_at, ends_at=session.ends_at, now=now))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_redirectUrl(self, session: Session) -> str | None:
        return session.redirect_url or None


class SessionWithAnalyticsOutput(SessionOutput):
    analytics = SessionAnalyticsOutput(
        source="*", required=False, help_text="Only with simple_analytics=1."
    )


class SessionListInput(serializers.Serializer):
    """An empty value (``period=``) means the parameter is absent."""

    period = serializers.ChoiceField(choices=list(PERIODS), required=False, allow_blank=True)
    periodName = serializers.ChoiceField(choices=list(PERIODS), required=False, allow_blank=True)
    simple_analytics = serializers.ChoiceField(
        choices=["0", "1"], required=False, allow_blank=True, default="0"
    )

    def validate(self, attrs):
        period, period_name = attrs.get("period"), attrs.get("periodName")
        if period and period_name and period != period_name:
            raise serializers.ValidationError(
                {"periodName": ["Conflicts with period; send one of the two."]}
            )
        chosen = period or period_name
        return {
            "status": PERIODS[chosen] if chosen else None,
            "with_analytics": attrs["simple_analytics"] == "1",
        }


MAX_ID = 2**63 - 1


class OperatorAssignmentInput(serializers.Serializer):
    id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    role = StrictIntegerChoiceField(choices=SessionOperator.Role.values)
    micEnabled = StrictBooleanField()
    camEnabled = StrictBooleanField()
    screenSharingEnabled = StrictBooleanField()


class EventCreateInput(serializers.Serializer):
    published = StrictBooleanField(required=False, default=False)
    creatorID = StrictIntegerField(min_value=1, max_value=MAX_ID)
    title = StrictCharField(max_length=255)
    description = StrictCharField(required=False, allow_blank=True, default="")
    date = serializers.DateField(input_formats=["%Y-%m-%d"])
    time = ClockTimeField()
    timezone = StrictCharField(max_length=64)
    operators = OperatorAssignmentInput(many=True)
    duration = HoursField(required=False, default=1)
    earlyAccessPeriod = StrictIntegerField(min_value=0, max_value=1440, required=False, default=15)
    videoRecord = StrictBooleanField(required=False, default=False)
    onDemandReplays = StrictBooleanField(required=False, default=False)

    def validate_timezone(self, value: str) -> str:
        try:
            timezone_get(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value

    def validate_operators(self, value: list[dict]) -> list[dict]:
        ids = [item["id"] for item in value]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("Each operator may be listed only once.")
        return value

    def validate(self, attrs):
        try:
            local_start(attrs["date"], attrs["time"], attrs["timezone"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"time": error.messages}) from error
        return attrs


# --- Registrants ------------------------------------------------------------------------------


class RegistrationInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    firstName = StrictCharField(max_length=150)
    lastName = StrictCharField(max_length=150, allow_blank=True)
    eventSessionToken = StrictCharField(max_length=64)
    redirect = StrictBooleanField(required=False, default=False)


class RegistrationAcceptedOutput(serializers.Serializer):
    """What an anonymous registration answers: what was sent, nothing that was stored."""

    email = serializers.EmailField()
    firstName = serializers.CharField()
    lastName = serializers.CharField(allow_blank=True)
    eventSessionToken = serializers.CharField()


class RegistrantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    eventSessionToken = serializers.CharField(source="session.token")
    registeredAt = IsoDateTimeField(source="registered_at")
    loginLink = serializers.SerializerMethodField()

    def get_loginLink(self, registrant) -> str:
        return login_link(registrant)


class RegistrantReportOutput(RegistrantOutput):
    answers = serializers.DictField(child=serializers.CharField())
    attended = serializers.BooleanField()
    joinedAt = IsoDateTimeField(source="joined_at", allow_null=True)
    leftAt = IsoDateTimeField(source="left_at", allow_null=True)
    minutesWatched = serializers.IntegerField(source="minutes_watched")


class PageInput(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)


# --- Surveys ----------------------------------------------------------------------------------


class SurveyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    questions = serializers.ListField(child=serializers.CharField())
    responseCount = serializers.IntegerField(source="response_count")
    createdAt = IsoDateTimeField(source="created_at")


class CompiledReportOutput(serializers.Serializer):
    registrants = serializers.CharField()
    operatorChat = serializers.CharField()
    attendeeChat = serializers.CharField()
    surveys = serializers.DictField(child=serializers.CharField())
