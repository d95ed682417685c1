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
from rooms.activity import ENGAGEMENT, KINDS, MAX_EVENTS, VIEW, VISIT, ActivityEvent
from rooms.analytics import ASSIGNEE_TYPES, EXTERNAL, INTERNAL
from rooms.api.serializers import CrmDealSummarySerializer
from rooms.models import Action, Engagement

# One view longer than a day is a client bug, and the cap keeps viewership sums in range.
MAX_VIEW_SECONDS = 24 * 60 * 60

# --- activity ingestion -------------------------------------------------------------------------


class ActivityViewerSerializer(StrictSerializer):
    email = StrictEmailField(max_length=254)
    name = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class ActivityEventSerializer(StrictSerializer):
    id = StrictCharField(max_length=255, help_text="The sender's id, unique per workspace.")
    kind = serializers.ChoiceField(KINDS)
    viewer = ActivityViewerSerializer()
    at = IsoDateTimeField(help_text="ISO 8601; without an offset it is UTC.")
    stepId = serializers.UUIDField(required=False, help_text="view, engagement: a page's id.")
    actionId = serializers.UUIDField(
        required=False, help_text="view, engagement: an action item's id."
    )
    durationInSeconds = StrictIntegerField(
        min_value=0, max_value=MAX_VIEW_SECONDS, required=False, help_text="view only."
    )
    type = serializers.ChoiceField(
        Engagement.Type.choices, required=False, help_text="engagement only."
    )

    # Fields each kind takes besides id, kind, viewer and at (targets handled separately).
    _REQUIRED = {VISIT: (), VIEW: ("durationInSeconds",), ENGAGEMENT: ("type",)}
    _FORBIDDEN = {
        VISIT: ("stepId", "actionId", "durationInSeconds", "type"),
        VIEW: ("type",),
        ENGAGEMENT: ("durationInSeconds",),
    }

    def validate(self, attrs):
        kind = attrs["kind"]
        errors = {}
        for name in self._REQUIRED[kind]:
            if name not in attrs:
                errors[name] = [f"Required for a {kind}."]
        for name in self._FORBIDDEN[kind]:
            if name in attrs:
                errors[name] = [f"Not allowed for a {kind}."]
        if kind != VISIT:
            if "stepId" in attrs and "actionId" in attrs:
                errors["actionId"] = ["Give stepId or actionId, not both."]
            elif "stepId" not in attrs and "actionId" not in attrs:
                errors["stepId"] = [f"A {kind} needs a stepId or an actionId."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ActivityBatchSerializer(StrictSerializer):
    events = ActivityEventSerializer(many=True, max_length=MAX_EVENTS)

    def to_events(self) -> list[ActivityEvent]:
        return [
            ActivityEvent(
                index=index,
                id=item["id"],
                kind=item["kind"],
                email=item["viewer"]["email"].lower(),
                name=item["viewer"]["name"],
                at=item["at"],
                step_id=item.get("stepId"),
                action_id=item.get("actionId"),
                duration_in_seconds=item.get("durationInSeconds", 0),
                engagement_type=item.get("type"),
            )
            for index, item in enumerate(self.validated_data["events"])
        ]


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
