"""Output of the dashboard endpoints: the figures of rooms.dashboard and events.dashboard."""

from __future__ import annotations

from rest_framework import serializers

from rooms.api.serializers import IsoDateTimeField
from rooms.models import Engagement


class ComparedSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    previous = serializers.IntegerField()


class DayRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")


class RoomDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    views = serializers.IntegerField()
    engagements = serializers.IntegerField()


class TopRoomSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    engagements = serializers.IntegerField()


class QuietRoomSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    last_engaged_at = IsoDateTimeField(allow_null=True)


class RoomsDashboardSerializer(serializers.Serializer):
    period = DayRangeSerializer()
    previous_period = DayRangeSerializer()
    rooms_engaged = ComparedSerializer()
    views = ComparedSerializer()
    unique_viewers = ComparedSerializer()
    engagements = ComparedSerializer()
    engagements_by_type = serializers.DictField(
        child=ComparedSerializer(),
        help_text="One entry per engagement type: " + ", ".join(Engagement.Type.values) + ".",
    )
    action_plan_progress = serializers.FloatField(
        allow_null=True, help_text="Mean share of done action items per live room, in percent."
    )
    timeline = RoomDaySerializer(many=True)
    top_rooms = TopRoomSerializer(many=True)
    gone_quiet = QuietRoomSerializer(many=True)
    quiet_after_days = serializers.IntegerField()


class RegistrationDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    registrations = serializers.IntegerField()


class SessionSerializer(serializers.Serializer):
    token = serializers.CharField()
    event = serializers.CharField()
    starts_at = IsoDateTimeField()
    timezone = serializers.CharField()


class FunnelSessionSerializer(SessionSerializer):
    registered = serializers.IntegerField()
    attended = serializers.IntegerField()
    watched_replay = serializers.IntegerField()


class UpcomingSessionSerializer(SessionSerializer):
    registrants = serializers.IntegerField()


class WebinarsDashboardSerializer(serializers.Serializer):
    period = DayRangeSerializer()
    registrations = ComparedSerializer()
    registrations_timeline = RegistrationDaySerializer(many=True)
    funnel = FunnelSessionSerializer(many=True)
    upcoming = UpcomingSessionSerializer(many=True)
