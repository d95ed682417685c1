from __future__ import annotations

from datetime import datetime

from django.core.validators import RegexValidator, validate_slug
from django.utils import timezone
from rest_framework import serializers

from config.fields import StrictCharField, StrictIntegerField
from config.formats import iso_utc
from insights.api.batches import (
    MAX_BATCH,
    BatchSerializer,
    InlineChoiceField,
    ItemOfKindSerializer,
    KindField,
)
from insights.models import ChatMessage, Recording
from insights.periods import (
    DEFAULT_SPAN,
    MAX_OFFSET_MINUTES,
    UNITS,
    TimeRange,
    TooManyBuckets,
    fixed_offset,
    parse_bound,
    series_build,
)

CLIENT_ID = {"max_length": 255}
EVENT_TYPE = RegexValidator(r"^[a-z0-9_.-]+$", "Lower-case letters, digits, _ . - only.")
DATE_HELP = (
    "ISO 8601 date (2021-10-01) or date-time (2021-10-01T08:00:00Z). Without a zone it is read "
    "at `offset`. A date-only `end` includes that whole day."
)

# --- Ingestion ----------------------------------------------------------------------------------


class ChatUserRefSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID)
    name = StrictCharField(max_length=255, required=False, allow_blank=True)


class FlowRefSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID)
    name = StrictCharField(max_length=255, required=False, allow_blank=True)


class MessageItemSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID, help_text="Client id, unique per workspace.")
    kind = KindField("message")
    direction = serializers.ChoiceField(choices=ChatMessage.Direction.values)
    user = ChatUserRefSerializer()
    text = StrictCharField(allow_blank=True, trim_whitespace=False, max_length=10_000)
    flow = FlowRefSerializer(required=False, allow_null=True)
    at = serializers.DateTimeField(help_text="ISO 8601; UTC when it carries no zone.")


class TriggerItemSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID, help_text="Client id, unique per workspace.")
    kind = KindField("trigger")
    flow = FlowRefSerializer()
    user = ChatUserRefSerializer()
    at = serializers.DateTimeField(help_text="ISO 8601; UTC when it carries no zone.")


class ChatEventSerializer(ItemOfKindSerializer):
    kinds = {"message": MessageItemSerializer, "trigger": TriggerItemSerializer}


class ChatEventsInputSerializer(BatchSerializer):
    """A batch of chatbot items: `message` and `trigger`."""

    events = ChatEventSerializer(many=True, max_length=MAX_BATCH)


class EventContactSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = StrictCharField(max_length=255, required=False, allow_blank=True)
    createdAt = serializers.DateTimeField(
        source="created_at", required=False, help_text="Used only when the contact is new."
    )

    def validate_email(self, value: str) -> str:
        return value.lower()


class EventBookingPageSerializer(serializers.Serializer):
    slug = StrictCharField(max_length=255, validators=[validate_slug])
    title = StrictCharField(max_length=255, required=False, allow_blank=True)


class ContactEventItemSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID, help_text="Client id, unique per workspace.")
    kind = KindField("contact_event")
    type = StrictCharField(
        max_length=64,
        validators=[EVENT_TYPE],
        help_text="Event type in lower case: room_join, booking, or any other.",
    )
    contact = EventContactSerializer()
    roomId = serializers.UUIDField(source="room_id", required=False, allow_null=True)
    bookingPage = EventBookingPageSerializer(source="booking_page", required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    at = serializers.DateTimeField(help_text="ISO 8601; UTC when it carries no zone.")


class RecordingItemSerializer(serializers.Serializer):
    id = StrictCharField(**CLIENT_ID, help_text="Client id, unique per workspace.")
    kind = KindField("recording")
    roomId = serializers.UUIDField(source="room_id")
    durationInSeconds = StrictIntegerField(
        source="duration_seconds", min_value=0, max_value=2**31 - 1
    )
    status = InlineChoiceField(
        choices=Recording.Status.values, required=False, default=Recording.Status.AVAILABLE
    )
    at = serializers.DateTimeField(help_text="When the recording was made; ISO 8601.")


class WorkspaceActivityItemSerializer(ItemOfKindSerializer):
    kinds = {"contact_event": ContactEventItemSerializer, "recording": RecordingItemSerializer}


class WorkspaceActivityInputSerializer(BatchSerializer):
    """A batch of workspace activity: `contact_event` and `recording` items."""

    events = WorkspaceActivityItemSerializer(many=True, max_length=MAX_BATCH)


class IngestOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Items stored by this call.")
    duplicates = serializers.IntegerField(help_text="Items whose id was already stored.")


# --- Query parameters ---------------------------------------------------------------------------


class RangeQuerySerializer(serializers.Serializer):
    """``offset``, ``start`` and ``end`` turned into a UTC range ``[start, end)``."""

    offset = serializers.IntegerField(
        required=False,
        default=0,
        min_value=-MAX_OFFSET_MINUTES,
        max_value=MAX_OFFSET_MINUTES,
        help_text="Minutes east of UTC (-480 for UTC-8).",
    )
    start = serializers.CharField(
        required=False, help_text=f"Default: 30 days before end. {DATE_HELP}"
    )
    end = serializers.CharField(required=False, help_text=f"Default: now. {DATE_HELP}")

    def to_internal_value(self, data):
        # DRF reads an empty query parameter as an absent one; "start=" is a mistake, not a
        # request for the default.
        blank = [name for name in self.fields if data.get(name) == ""]
        if blank:
            raise serializers.ValidationError({name: ["May not be blank."] for name in blank})
        return super().to_internal_value(data)

    def validate(self, attrs):
        tz = fixed_offset(attrs["offset"])
        end, whole_day = self._bound(attrs, "end", tz) or (timezone.now(), False)
        start, _ = self._bound(attrs, "start", tz) or (self._default_start(end), False)
        # A date-only end names a day that must hold part of the range.
        if end < start or (whole_day and end == start):
            raise serializers.ValidationError({"end": ["Must not be before start."]})
        return {**attrs, "tz": tz, "range": TimeRange(start=start, end=end)}

    @staticmethod
    def _bound(attrs, name: str, tz) -> tuple[datetime, bool] | None:
        if name not in attrs:
            return None
        try:
            return parse_bound(attrs[name], tz=tz, is_end=name == "end")
        except (ValueError, OverflowError):
            raise serializers.ValidationError(
                {name: ["Not an ISO 8601 date or date-time."]}
            ) from None

    @staticmethod
    def _default_start(end: datetime) -> datetime:
        try:
            return end - DEFAULT_SPAN
        except OverflowError:
            raise serializers.ValidationError(
                {"end": ["Too early for the default start."]}
            ) from None


class InsightsQuerySerializer(RangeQuerySerializer):
    unit = serializers.ChoiceField(choices=UNITS, required=False, default="day")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        try:
            series = series_build(time_range=attrs["range"], tz=attrs["tz"], unit=attrs["unit"])
        except TooManyBuckets as error:
            raise serializers.ValidationError({"unit": [str(error)]}) from None
        except (ValueError, OverflowError):
            raise serializers.ValidationError(
                {"end": ["Outside the supported calendar."]}
            ) from None
        return {**attrs, "series": series}


class TopQuerySerializer(RangeQuerySerializer):
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)


# --- Output -------------------------------------------------------------------------------------


class IsoMillisField(serializers.DateTimeField):
    """UTC, ISO 8601 with milliseconds and Z, as the specs write times."""

    def to_representation(self, value: datetime) -> str:
        return iso_utc(value)


class FiguresSerializer(serializers.Serializer):
    active_users = serializers.IntegerField(help_text="Users with a received message.")
    total_users = serializers.IntegerField(help_text="Users first seen before the end.")
    new_users = serializers.IntegerField(help_text="Users first seen in the unit.")
    triggers = serializers.IntegerField()
    received_messages = serializers.IntegerField()
    sent_messages = serializers.IntegerField()


# The key fields sit in their own bases so that they come first in the output, as in the spec.
class StatsKeySerializer(serializers.Serializer):
    _id = serializers.CharField(allow_null=True, help_text="Always null: the whole range.")


class MetricKeySerializer(serializers.Serializer):
    _id = serializers.CharField(source="label", help_text="The unit in local time.")
    _timestamp = IsoMillisField(source="start", help_text="The unit's start, UTC.")


class StatsSerializer(StatsKeySerializer, FiguresSerializer):
    pass


class MetricSerializer(MetricKeySerializer, FiguresSerializer):
    pass


class InsightsOutputSerializer(serializers.Serializer):
    stats = StatsSerializer(many=True)
    metrics = MetricSerializer(many=True)


class TopMessageSerializer(serializers.Serializer):
    _id = serializers.CharField(source="text_key", help_text="Trimmed, lower-cased text.")
    count = serializers.IntegerField()


class FlowKeySerializer(serializers.Serializer):
    id = serializers.CharField(source="flow__upstream_id")
    name = serializers.CharField(source="flow__name")


class TopFlowSerializer(serializers.Serializer):
    _id = FlowKeySerializer(source="*")
    count = serializers.IntegerField()


class KpisSerializer(serializers.Serializer):
    rooms = serializers.IntegerField(help_text="Rooms of the workspace, templates excluded.")
    recordings = serializers.IntegerField()
    recordingDuration = serializers.IntegerField(
        source="recording_duration", help_text="Seconds, over all recordings."
    )
    contacts = serializers.IntegerField()
    bookings = serializers.IntegerField(help_text="Contact events of type booking.")


class ActivityTimelineDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    bookings = serializers.IntegerField()
    room_joins = serializers.IntegerField()


class EventTypeCountSerializer(serializers.Serializer):
    type = serializers.CharField(source="event_type")
    count = serializers.IntegerField()


class TopBookingPageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="booking_page.pk")
    title = serializers.CharField(source="booking_page.title")
    slug = serializers.CharField(source="booking_page.slug")
    count = serializers.IntegerField()


class NewContactsDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class TopRoomSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="room.pk", help_text="The room's UUID (integer upstream).")
    name = serializers.CharField(source="room.slug", help_text="The room's slug.")
    display_name = serializers.CharField(source="room.title", allow_null=True)
    count = serializers.IntegerField()


class WorkspaceAnalyticsSerializer(serializers.Serializer):
    kpis = KpisSerializer()
    activityTimeline = ActivityTimelineDaySerializer(source="activity_timeline", many=True)
    eventTypeBreakdown = EventTypeCountSerializer(source="event_type_breakdown", many=True)
    topBookingPages = TopBookingPageSerializer(source="top_booking_pages", many=True)
    newContactsTimeline = NewContactsDaySerializer(source="new_contacts_timeline", many=True)
    topRooms = TopRoomSerializer(source="top_rooms", many=True)
