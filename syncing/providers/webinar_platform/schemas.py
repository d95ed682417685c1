"""Shapes of the webinar platform's JSON (FLOW API v1; spec 004 and specs/README.md)."""

from __future__ import annotations

from rest_framework import serializers

from syncing.validation import Text


class SessionAnalytics(serializers.Serializer):
    registrants = serializers.IntegerField(min_value=0)
    attendees = serializers.IntegerField(min_value=0)
    attendanceRate = serializers.FloatField(min_value=0)


class OperatorRef(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.IntegerField(required=False)
    email = serializers.EmailField(required=False)
    firstName = Text(required=False, allow_blank=True)
    lastName = Text(required=False, allow_blank=True)
    micEnabled = serializers.BooleanField(required=False)
    camEnabled = serializers.BooleanField(required=False)
    screenSharingEnabled = serializers.BooleanField(required=False)


class Session(serializers.Serializer):
    """A session as the events list and the event info endpoint answer it."""

    token = Text()
    eventToken = Text()
    title = Text(allow_blank=True)
    date = serializers.DateField()
    time = serializers.TimeField()
    timezone = Text()
    description = Text(required=False, allow_blank=True, allow_null=True)
    published = serializers.BooleanField(required=False, default=False)
    duration = serializers.FloatField(required=False, allow_null=True, min_value=0)
    earlyAccessPeriod = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    createDate = serializers.DateTimeField(required=False, allow_null=True)
    creator = OperatorRef(required=False, allow_null=True)
    operators = OperatorRef(many=True, required=False, default=list)
    refSources = serializers.ListField(required=False, default=list)
    accessStatus = serializers.ChoiceField([1, 2, 3], required=False)
    videoRecord = serializers.BooleanField(required=False)
    onDemandReplays = serializers.BooleanField(required=False)
    privatizeChat = serializers.ChoiceField([0, 1, 2], required=False)
    emailMessage = Text(required=False, allow_blank=True, allow_null=True)
    hasQnA = serializers.BooleanField(required=False)
    useAdvancedQna = serializers.BooleanField(required=False)
    redirectUrl = Text(required=False, allow_blank=True, allow_null=True)
    qnaPublicByDefault = serializers.BooleanField(required=False)
    reminderOne = serializers.IntegerField(required=False, allow_null=True)
    reminderTwo = serializers.IntegerField(required=False, allow_null=True)
    hasRecording = serializers.BooleanField(required=False)
    questions = serializers.ListField(required=False, default=list)
    analytics = SessionAnalytics(required=False)


class Registrant(serializers.Serializer):
    email = serializers.EmailField()
    firstName = Text(required=False, allow_blank=True, allow_null=True)
    lastName = Text(required=False, allow_blank=True, allow_null=True)
    registeredAt = serializers.DateTimeField(required=False, allow_null=True)
    attended = serializers.BooleanField(required=False, default=False)
    answers = serializers.JSONField(required=False, allow_null=True)


class Operator(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    firstName = Text(required=False, allow_blank=True)
    lastName = Text(required=False, allow_blank=True)
    permission = serializers.IntegerField(required=False, default=0)


class Survey(serializers.Serializer):
    id = Text()
    title = Text(required=False, allow_blank=True)
    questions = serializers.ListField(required=False, default=list)


class CompiledReport(serializers.Serializer):
    # CSV bodies, kept byte for byte (final newlines included).
    registrants = Text(allow_blank=True)
    operatorChat = Text(allow_blank=True)
    attendeeChat = Text(allow_blank=True)
    surveys = serializers.DictField(child=Text(allow_blank=True))


class CreatedEvent(serializers.Serializer):
    eventToken = Text()
    token = Text()
