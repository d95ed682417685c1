"""Reads for the rooms API: the room list with its engagement totals, lookups and content lists.

Engagement totals (``with_engagement_totals``), each a correlated subquery so that any room
queryset can be annotated, sorted and paged in one SQL query whatever the activity volume:

- ``total_views``: the number of Visit rows of the room (one per visit of any viewer);
- ``total_unique_views``: the number of distinct viewers (members or contacts) among them;
- ``total_engagements``: the number of Engagement rows of the room, of any type;
- ``last_engaged_at``: the latest of the room's engagement times and visit times (null when
  the room has neither);
- ``engagement_<type>`` (``engagement_click``, …, ``engagement_task_completed``) for the
  breakdown: the room's Engagement rows of that type (the breakdown's ``views`` counts VIEW
  engagements, not visits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Lower
from django.urls import reverse

from rooms.models import Action, Company, Engagement, Label, Room, RoomStatus, Section, Step, Visit
from syncing.crm.links import with_deal_summaries
from workspaces.models import Membership, User, Workspace


def _count_per_room(queryset: QuerySet, aggregate=None) -> Coalesce:
    """A count over ``queryset``'s rows of the outer room (0 when none), as a subquery."""
    per_room = (
        queryset.filter(room=OuterRef("pk"))
        .order_by()
        .values("room")
        .annotate(value=aggregate or Count("*"))
        .values("value")[:1]
    )
    return Coalesce(Subquery(per_room), Value(0), output_field=IntegerField())


def _latest_per_room(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.filter(room=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


def with_engagement_totals(rooms: QuerySet) -> QuerySet:
    """Annotate a Room queryset with the totals described in this module's docstring."""
    engagements = Engagement.objects.all()
    visits = Visit.objects.all()
    # The newest row by the (room, time) indexes: one index probe per room, not a scan.
    last_engagement = _latest_per_room(engagements, "created_at")
    last_visit = _latest_per_room(visits, "at")
    breakdown = {
        f"engagement_{type_.lower()}": _count_per_room(engagements.filter(type=type_))
        for type_ in Engagement.Type.values
    }
    return rooms.annotate(
        total_views=_count_per_room(visits),
        # Exactly one of user/contact is set per visit, so the two distinct counts add up.
        total_unique_views=_count_per_room(
            visits, Count("user", distinct=True) + Count("contact", distinct=True)
        ),
        total_engagements=_count_per_room(engagements),
        # GREATEST ignores NULLs on PostgreSQL but not on SQLite: coalesce each side first.
        last_engaged_at=Greatest(
            Coalesce(last_engagement, last_visit), Coalesce(last_visit, last_engagement)
        ),
        **breakdown,
    )


# sortBy values and the annotation or field each one orders by.
ROOM_SORT_KEYS = {
    "createdAt": F("created_at"),
    "updatedAt": F("updated_at"),
    "title": Lower("title"),
    "lastEngagedAt": F("last_engaged_at"),
    "totalViews": F("total_views"),
    "totalUniqueViews": F("total_unique_views"),
    "totalEngagements": F("total_engagements"),
}


@dataclass(frozen=True)
class Page:
    results: list
    page: int
    limit: int
    total: int


def paginate(queryset: QuerySet, *, page: int, limit: int) -> Page:
    """Two queries: the count and the page's rows."""
    offset = (page - 1) * limit
    return Page(
        results=list(queryset[offset : offset + limit]),
        page=page,
        limit=limit,
        total=queryset.count(),
    )


def room_list(
    *, workspace: Workspace, is_template: bool, sort_by: str, descending: bool
) -> QuerySet:
    """Rooms (or templates) of a workspace with their totals, ordered by ``sort_by`` and then
    by id in the same direction, so pages never overlap. Rooms without any activity sort as
    the oldest on ``lastEngagedAt``."""
    key = ROOM_SORT_KEYS[sort_by]
    if descending:
        ordering = [key.desc(nulls_last=True), F("id").desc()]
    else:
        ordering = [key.asc(nulls_first=True), F("id").asc()]
    rooms = Room.objects.for_workspace(workspace).filter(is_template=is_template)
    return with_engagement_totals(rooms).order_by(*ordering)


def room_page_url(room_id) -> str:
    """The room's page in flowsync (its admin page: flowsync serves no buyer-facing page), as
    an absolute URL on PUBLIC_BASE_URL. Written to CRM deals as the room's URL."""
    return settings.PUBLIC_BASE_URL + reverse("admin:rooms_room_change", args=[room_id])


def room_page_url_builder() -> Callable[[object], str]:
    """``room_page_url`` for many rooms: the path is reversed once, not per room."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    prefix, suffix = room_page_url(placeholder).split(placeholder)
    return lambda room_id: f"{prefix}{room_id}{suffix}"


def room_detail_queryset(*, workspace: Workspace) -> QuerySet:
    return with_deal_summaries(
        with_engagement_totals(
            Room.objects.for_workspace(workspace).select_related("primary_contact")
        )
    )


def template_list(*, workspace: Workspace) -> QuerySet:
    return Room.objects.for_workspace(workspace).filter(is_template=True).order_by("title", "id")


def status_list(*, workspace: Workspace) -> QuerySet:
    return RoomStatus.objects.for_workspace(workspace)


def company_list(*, workspace: Workspace) -> QuerySet:
    return Company.objects.for_workspace(workspace)


def label_list(*, workspace: Workspace) -> QuerySet:
    return Label.objects.for_workspace(workspace)


def member_list(*, workspace: Workspace) -> QuerySet:
    """The workspace's members, each annotated with ``role``."""
    role = Membership.objects.filter(workspace=workspace, user=OuterRef("pk")).values("role")[:1]
    return (
        User.objects.filter(memberships__workspace=workspace)
        .annotate(role=Subquery(role))
        .order_by("email", "id")
    )


def section_list(*, room: Room) -> QuerySet:
    return Section.objects.for_workspace(room.workspace_id).filter(room=room)


def page_list(*, section: Section) -> QuerySet:
    return Step.objects.for_workspace(section.workspace_id).filter(section=section)


def action_item_list(*, section: Section | None = None, step: Step | None = None) -> QuerySet:
    """The action items of a section, or of one of its pages, with their assignees."""
    parent = step or section
    actions = Action.objects.for_workspace(parent.workspace_id)
    actions = actions.filter(step=step) if step else actions.filter(section=section)
    return actions.prefetch_related("assignees__user", "assignees__contact")
