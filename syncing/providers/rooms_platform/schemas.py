"""Shapes of the rooms platform's JSON (Flowla API v2; specs 001 and 000), checked at the edge.

Field names are the upstream's own. Only what a record cannot be stored without is required;
an optional field may be absent or null, and gets the default shown. Compiled by msgspec
(syncing.validation): a room's analytics nest thousands of entries, which DRF serializers
validated field object by field object (see docs/providers/rooms-platform.md, Decisions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from syncing.validation import Count, Email, NonBlank, Percentage, Schema


class EngagementBreakdown(Schema):
    clicks: int | None = None
    comments: int | None = None
    downloads: int | None = None
    reactions: int | None = None
    shares: int | None = None
    views: int | None = None
    tasksCompleted: int | None = None


class Room(Schema):
    id: NonBlank
    title: str
    createdAt: datetime
    updatedAt: datetime
    description: str | None = None
    userId: NonBlank | None = None
    companyId: NonBlank | None = None
    statusId: NonBlank | None = None
    labelId: NonBlank | None = None
    hsDealId: str | None = None
    sfOpportunityId: str | None = None
    attioDealId: str | None = None
    isTemplate: bool = False
    totalEngagements: int | None = None
    lastEngagedAt: datetime | None = None
    totalViews: Count | None = None
    totalUniqueViews: Count | None = None
    engagements: EngagementBreakdown | None = None
    coverTitle: str | None = None
    coverDescription: str | None = None
    coverDisabled: bool | None = None
    themeColor: str | None = None
    navColor: str | None = None


class Status(Schema):
    id: NonBlank
    title: NonBlank
    defaultStatus: bool = False


class AnalyticsUser(Schema):
    belongsTo: Literal["internal_organization", "external_organization"]
    email: Email
    name: str | None = None
    title: str | None = None
    isRoomOwner: bool = False
    isPrimaryContact: bool = False
    lastSeen: datetime | None = None
    viewCount: Count | None = None


class Engagement(Schema):
    type: NonBlank
    createdAt: datetime


class Viewership(Schema):
    user: AnalyticsUser
    durationInSeconds: Count
    timesViewed: Count
    engagements: list[Engagement] = []


class ActionAssignee(Schema):
    user: AnalyticsUser
    type: NonBlank | None = None


class Step(Schema):
    id: NonBlank
    title: str
    isVisibleToExternal: bool = True
    viewership: list[Viewership] = []


class Action(Step):
    status: NonBlank | None = None
    description: str | None = None
    internal: bool = False
    dueDate: datetime | None = None
    isOverdue: bool = False
    actionType: str | None = None
    assignees: list[ActionAssignee] = []


class Section(Schema):
    id: NonBlank
    title: str
    isCompleted: bool = False
    isVisibleToExternal: bool = True
    steps: list[Step] = []
    actions: list[Action] = []


class InternalCompany(Schema):
    name: str
    type: NonBlank | None = None


class RoomAnalytics(Schema):
    title: str
    progressPercentage: Percentage
    internalCompany: InternalCompany | None = None
    assignees: list[AnalyticsUser] = []
    sections: list[Section] = []
