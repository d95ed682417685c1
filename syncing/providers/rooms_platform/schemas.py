"""Shapes of the rooms platform's JSON (Flowla API v2; specs 001 and 000), checked at the edge.

Field names are the upstream's own. Only what a record cannot be stored without is required.
"""

from __future__ import annotations

from rest_framework import serializers

from syncing.validation import Text


class EngagementBreakdown(serializers.Serializer):
    clicks = serializers.IntegerField(required=False, allow_null=True)
    comments = serializers.IntegerField(required=False, allow_null=True)
    downloads = serializers.IntegerField(required=False, allow_null=True)
    reactions = serializers.IntegerField(required=False, allow_null=True)
    shares = serializers.IntegerField(required=False, allow_null=True)
    views = serializers.IntegerField(required=False, allow_null=True)
    tasksCompleted = serializers.IntegerField(required=False, allow_null=True)


class Room(serializers.Serializer):
    id = Text()
    title = Text(allow_blank=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    description = Text(required=False, allow_null=True, allow_blank=True)
    userId = Text(required=False, allow_null=True)
    companyId = Text(required=False, allow_null=True)
    statusId = Text(required=False, allow_null=True)
    labelId = Text(required=False, allow_null=True)
    hsDealId = Text(required=False, allow_null=True, allow_blank=True)
    sfOpportunityId = Text(required=False, allow_null=True, allow_blank=True)
    attioDealId = Text(required=False, allow_null=True, allow_blank=True)
    isTemplate = serializers.BooleanField(required=False, default=False)
    totalEngagements = serializers.IntegerField(required=False, allow_null=True)
    lastEngagedAt = serializers.DateTimeField(required=False, allow_null=True)
    totalViews = serializers.IntegerField(required=False, allow_null=True)
    totalUniqueViews = serializers.IntegerField(required=False, allow_null=True)
    engagements = EngagementBreakdown(required=False, allow_null=True)
    coverTitle = Text(required=False, allow_null=True, allow_blank=True)
    coverDescription = Text(required=False, allow_null=True, allow_blank=True)
    coverDisabled = serializers.BooleanField(required=False, allow_null=True)
    themeColor = Text(required=False, allow_null=True, allow_blank=True)
    navColor = Text(required=False, allow_null=True, allow_blank=True)


class Status(serializers.Serializer):
    id = Text()
    title = Text()
    defaultStatus = serializers.BooleanField(required=False, default=False)


class AnalyticsUser(serializers.Serializer):
    belongsTo = serializers.ChoiceField(["internal_organization", "external_organization"])
    email = serializers.EmailField()
    name = Text(required=False, allow_blank=True, allow_null=True)
    title = Text(required=False, allow_blank=True, allow_null=True)
    isRoomOwner = serializers.BooleanField(required=False)
    isPrimaryContact = serializers.BooleanField(required=False)
    lastSeen = serializers.DateTimeField(required=False, allow_null=True)
    viewCount = serializers.IntegerField(required=False, allow_null=True)


class Engagement(serializers.Serializer):
    type = Text()
    createdAt = serializers.DateTimeField()


class Viewership(serializers.Serializer):
    user = AnalyticsUser()
    durationInSeconds = serializers.IntegerField(min_value=0)
    timesViewed = serializers.IntegerField(min_value=0)
    engagements = Engagement(many=True, required=False, default=list)


class ActionAssignee(serializers.Serializer):
    type = Text(required=False)
    user = AnalyticsUser()


class Step(serializers.Serializer):
    id = Text()
    title = Text(allow_blank=True)
    isVisibleToExternal = serializers.BooleanField(required=False, default=True)
    viewership = Viewership(many=True, required=False, default=list)


class Action(Step):
    status = Text(required=False, allow_null=True)
    description = Text(required=False, allow_blank=True, allow_null=True)
    internal = serializers.BooleanField(required=False, default=False)
    dueDate = serializers.DateTimeField(required=False, allow_null=True)
    isOverdue = serializers.BooleanField(required=False)
    actionType = Text(required=False, allow_blank=True, allow_null=True)
    assignees = ActionAssignee(many=True, required=False, default=list)


class Section(serializers.Serializer):
    id = Text()
    title = Text(allow_blank=True)
    isCompleted = serializers.BooleanField(required=False, default=False)
    isVisibleToExternal = serializers.BooleanField(required=False, default=True)
    steps = Step(many=True, required=False, default=list)
    actions = Action(many=True, required=False, default=list)


class InternalCompany(serializers.Serializer):
    type = Text(required=False)
    name = Text(allow_blank=True)


class RoomAnalytics(serializers.Serializer):
    title = Text(allow_blank=True)
    progressPercentage = serializers.FloatField(min_value=0, max_value=100)
    internalCompany = InternalCompany(required=False, allow_null=True)
    assignees = AnalyticsUser(many=True, required=False, default=list)
    sections = Section(many=True, required=False, default=list)
