"""Serializers of the room analytics and activity ingestion endpoints."""

from __future__ import annotations

from rest_framework import serializers

from config.fields import (
    IsoDateTimeField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictSerializer,
)
from rooms.activity import KINDS, MAX_EVENTS
from rooms.activity_input import (
    MAX_EMAIL_LENGTH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_VIEW_SECONDS,
)
from rooms.analytics import ASSIGNEE_TYPES, EXTERNAL, INTERNAL
from rooms.api.serializers import CrmDealSummarySerializer
from rooms.models import Action, Engagement

# --- activity ingestion -------------------------------------------------------------------------
# The shape of an ingestion batch for the OpenAPI schema. rooms.activity_input validates batches
# itself with the same rules (plain Python: a nested serializer per event is slow for 1,000
# events); the conformance test checks that the endpoint takes what this describes.


class ActivityViewerSerializer(StrictSerializer):
    email = StrictEmailField(max_length=MAX_EMAIL_LENGTH)
    name = StrictCharField(max_length=MAX_NAME_LENGTH, required=False, allow_blank=True, default="")


class ActivityEventSerializer(StrictSerializer):
    id = StrictCharField(
        max_length=MAX_ID_LENGTH, help_text="The sender's id, unique per workspace."
    )
    kind = serializers.ChoiceField(KINDS)
    viewer = ActivityViewerSerializer()
    at = IsoDateTimeField(help_text="ISO 8601; without an offset it is UTC.")
    stepId = serializers.UUIDField(required=False, help_text="view, engagement: a page's id.")
    actionId = serializers.UUIDField(
        required=False, help_text="view, engagement: an action item's id."
    )
    durationInSeconds = StrictIntegerField(
        min_value=0,
        max_value=MAX_VIEW_SECONDS,
        required=False,
        help_text="view only (and required there).",
    )
    type = serializers.ChoiceField(
        Engagement.Type.choices, required=False, help_text="engagement only (and required there)."
    )


class ActivityBatchSerializer(StrictSerializer):
    events = ActivityEventSerializer(many=True, max_length=MAX_EVENTS)


class ActivityResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this call.")
    duplicates = serializers.IntegerField(
        help_text="Events whose id was already stored (or repeated in the batch): ignored."
    )


# --- analytics ----------------------------------------------------------------------------------
# The shape of the analytics body for the OpenAPI schema. rooms.analytics builds the body itself
# (tens of thousands of nested entries for a large room); the conformance test checks real
# responses against this description.


class _PersonIdentity(serializers.Serializer):
    belongsTo = serializers.ChoiceField([INTERNAL, EXTERNAL])
    email = serializers.EmailField()
    name = serializers.CharField(allow_null=True)


class _PersonTitle(serializers.Serializer):
    title = serializers.CharField(allow_null=True)


class _PersonFlags(serializers.Serializer):
    isRoomOwner = serializers.BooleanField(required=False, help_text="Internal people only.")
    isPrimaryContact = serializers.BooleanField(required=False, help_text="External only.")
    lastSeen = IsoDateTimeField(
        required=False, allow_null=True, help_text="External only: their latest visit."
    )
    viewCount = serializers.IntegerField(
        required=False, help_text="External only: their number of visits."
    )


class AnalyticsPersonSerializer(_PersonIdentity, _PersonFlags):
    """A person as nested in viewership and action assignees."""


class AnalyticsAssigneeSerializer(_PersonIdentity, _PersonTitle, _PersonFlags):
    """A person of the room's ``assignees``: as nested, plus the job title."""


class AnalyticsEngagementSerializer(serializers.Serializer):
    type = serializers.ChoiceField(Engagement.Type.choices)
    createdAt = IsoDateTimeField()


class AnalyticsViewershipSerializer(serializers.Serializer):
    user = AnalyticsPersonSerializer()
    durationInSeconds = StrictIntegerField()
    timesViewed = serializers.IntegerField()
    engagements = AnalyticsEngagementSerializer(many=True)


class AnalyticsActionAssigneeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        ASSIGNEE_TYPES, help_text="user: a workspace member; contact: an external person."
    )
    user = AnalyticsPersonSerializer()


class AnalyticsStepSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    isVisibleToExternal = serializers.BooleanField()
    viewership = AnalyticsViewershipSerializer(many=True)


class AnalyticsActionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.ChoiceField(Action.Status.choices)
    description = serializers.CharField(allow_null=True)
    internal = serializers.BooleanField()
    dueDate = IsoDateTimeField(allow_null=True)
    isOverdue = serializers.BooleanField()
    isVisibleToExternal = serializers.BooleanField()
    actionType = serializers.CharField(allow_null=True)
    assignees = AnalyticsActionAssigneeSerializer(many=True)
    viewership = AnalyticsViewershipSerializer(many=True)


class AnalyticsSectionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    isCompleted = serializers.BooleanField()
    isVisibleToExternal = serializers.BooleanField()
    steps = AnalyticsStepSerializer(many=True)
    actions = AnalyticsActionSerializer(many=True)


class AnalyticsCompanySerializer(serializers.Serializer):
    type = serializers.ChoiceField(["internal"])
    name = serializers.CharField()


class RoomAnalyticsSerializer(serializers.Serializer):
    title = serializers.CharField()
    progressPercentage = serializers.FloatField(
        help_text="Percent of the not cancelled action items that are done (2 decimals; 0 if none)."
    )
    internalCompany = AnalyticsCompanySerializer()
    assignees = AnalyticsAssigneeSerializer(many=True)
    sections = AnalyticsSectionSerializer(many=True)
    # Present when the room links that CRM deal and the deal was pulled (see CRM sync).
    hsDeal = CrmDealSummarySerializer(required=False)
    sfOpportunity = CrmDealSummarySerializer(required=False)
    attioDeal = CrmDealSummarySerializer(required=False)
