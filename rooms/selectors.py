"""Reads for the rooms API: the room list with its engagement totals, lookups and content lists.

The totals (``total_views``, ``total_unique_views``, ``total_engagements``, ``last_engaged_at``
and the ``engagement_<type>`` breakdown, defined in rooms.totals) come from the RoomTotals
rollup: one join, whatever the activity volume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.urls import reverse

from rooms.bodies import room_detail, room_items
from rooms.models import Action, Company, Label, Room, RoomStatus, RoomTotals, Section, Step
from workspaces.models import Membership, User, Workspace

TOTALS = [
    field.name
    for field in RoomTotals._meta.concrete_fields
    if field.name not in ("room", "workspace", "is_template")
]


def with_engagement_totals(rooms: QuerySet) -> QuerySet:
    """Annotate a Room queryset with its totals (see rooms.totals) from the rollup."""
    return rooms.annotate(**{name: F(f"totals__{name}") for name in TOTALS})


# sortBy values and what each one orders by: a room column, or a rollup column (then the ids are
# read from the rollup's indexes alone, see ``room_list``).
ROOM_SORT_KEYS = {
    "createdAt": (Room, F("created_at")),
    "updatedAt": (Room, F("updated_at")),
    "title": (Room, Lower("title")),
    "lastEngagedAt": (RoomTotals, F("last_engaged_at")),
    "totalViews": (RoomTotals, F("total_views")),
    "totalUniqueViews": (RoomTotals, F("total_unique_views")),
    "totalEngagements": (RoomTotals, F("total_engagements")),
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
    """The ids of the rooms (or templates) of a workspace, ordered by ``sort_by`` and then by id
    in the same direction, so pages never overlap; rooms without any activity sort as the
    oldest on ``lastEngagedAt``. Each order is an index scan (Room and RoomTotals indexes)."""
    model, key = ROOM_SORT_KEYS[sort_by]
    id_field = F("id") if model is Room else F("room_id")
    if descending:
        ordering = [key.desc(nulls_last=True), id_field.desc()]
    else:
        ordering = [key.asc(nulls_first=True), id_field.asc()]
    rows = model.objects.filter(workspace=workspace, is_template=is_template)
    return rows.order_by(*ordering).values_list(id_field.name, flat=True)


def room_page(room_ids: QuerySet, *, page: int, limit: int) -> Page:
    """A page of ``room_list`` as the API lists it, ids first: the page's ids come from an
    index alone (a deep page skips index entries, not rooms with their totals), then its rooms
    with their totals in one query (rooms.bodies). Three queries with the count."""
    offset = (page - 1) * limit
    ids = list(room_ids[offset : offset + limit])
    return Page(
        results=room_items(Room.objects.all(), ids),
        page=page,
        limit=limit,
        total=room_ids.count(),
    )


def room_page_url(room_id) -> str:
    """The room's page in flowsync (its admin page: flowsync serves no buyer-facing page), as
    an absolute URL on PUBLIC_BASE_URL. Written to CRM deals as the room's URL."""
    return settings.PUBLIC_BASE_URL + reverse("admin:rooms_room_change", args=[room_id])


def room_page_url_builder() -> Callable[[object], str]:
    """``room_page_url`` for many rooms: the path is reversed once, not per room."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    prefix, suffix = room_page_url(placeholder).split(placeholder)
    return lambda room_id: f"{prefix}{room_id}{suffix}"


def room_detail_body(*, workspace: Workspace, room_id) -> dict | None:
    """A room's detail as the API answers it (rooms.bodies), None when the workspace has no
    such room."""
    return room_detail(workspace_id=workspace.pk, room_id=room_id)


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
