"""Rooms API v2: rooms, their content (sections, pages, action items) and the lookup lists.

Every view reads through ``for_workspace(request.workspace)`` (directly or via a parent read
that way): another workspace's object answers 404 on a path and "does not exist" (400) in a
body, exactly like an unknown id.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import NotFound
from config.openapi import ERROR_RESPONSES, INPUT_ERRORS, NOT_FOUND
from rooms import selectors, services
from rooms.api import serializers as s
from rooms.models import Action, Room, Section, Step

TAGS = ["rooms"]
CONTENT_TAGS = ["room content"]
LOOKUP_TAGS = ["room lookups"]
DELETED = {204: OpenApiResponse(description="Deleted.")}


def _get(queryset: QuerySet, pk, name: str):
    """The object with ``pk`` (a UUID, as a string from the path or parsed) from an already
    workspace-scoped queryset, or a 404."""
    try:
        obj = queryset.filter(pk=uuid.UUID(str(pk))).first()
    except ValueError:
        obj = None
    if obj is None:
        raise NotFound(f"No {name} with id {pk}.")
    return obj


def _query(request, serializer_class) -> dict:
    # A plain dict, so that an empty parameter (?page=) is invalid rather than "absent".
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _body(request, serializer_class) -> dict:
    serializer = serializer_class(data=request.data, context={"workspace": request.workspace})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _paged(request, queryset: QuerySet, serializer_class) -> Response:
    params = _query(request, s.PageQuerySerializer)
    page = selectors.paginate(queryset, page=params["page"], limit=params["limit"])
    return Response(serializer_class(page).data)


# --- rooms --------------------------------------------------------------------------------------


class RoomsView(APIView):
    @extend_schema(
        summary="List rooms",
        operation_id="v2_rooms_list",
        description="Rooms of the caller's workspace with their engagement totals, paged and "
        "sorted (ties broken by id). `isTemplate=true` lists the templates instead.",
        parameters=[s.RoomListQuerySerializer],
        responses={200: s.RoomPageSerializer, **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request):
        params = _query(request, s.RoomListQuerySerializer)
        rooms = selectors.room_list(
            workspace=request.workspace,
            is_template=params["is_template"],
            sort_by=params["sort_by"],
            descending=params["sort_direction"] == "DESC",
        )
        page = selectors.room_page(rooms, page=params["page"], limit=params["limit"])
        # Already the body (see rooms.bodies); RoomPageSerializer documents its shape.
        return Response(vars(page))

    @extend_schema(
        summary="Create a room",
        description="Blank, from a template (`templateId`: copies sections, pages and action "
        "items), or duplicating a room (`duplicateFromId`, which wins over `templateId`); never "
        "copies activity.",
        request=s.RoomCreateInputSerializer,
        responses={201: s.RoomDetailSerializer, **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def post(self, request):
        data = dict(_body(request, s.RoomCreateInputSerializer))
        template = data.pop("template", None)
        duplicate_from = data.pop("duplicate_from", None)
        room = services.room_create(
            workspace=request.workspace, source=duplicate_from or template, **data
        )
        return Response(_room_detail(request, room.pk), status=status.HTTP_201_CREATED)


def room_body(read, request, room_id) -> dict:
    """``read(workspace=..., room_id=...)`` for the room of the path (a body the read built), or
    a 404 when the caller's workspace has no such room."""
    try:
        body = read(workspace=request.workspace, room_id=uuid.UUID(str(room_id)))
    except ValueError:
        body = None
    if body is None:
        raise NotFound(f"No room with id {room_id}.")
    return body


def _room_detail(request, room_id) -> dict:
    """The body of the room (RoomDetailSerializer documents it), or a 404."""
    return room_body(selectors.room_detail_body, request, room_id)


class RoomView(APIView):
    @extend_schema(
        summary="Get a room",
        responses={200: s.RoomDetailSerializer, **NOT_FOUND, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request, room_id):
        return Response(_room_detail(request, room_id))

    @extend_schema(
        summary="Update a room",
        description="Only the fields given change; an explicit null clears a nullable field.",
        request=s.RoomUpdateInputSerializer,
        responses={200: s.RoomDetailSerializer, **INPUT_ERRORS, **NOT_FOUND, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def patch(self, request, room_id):
        room = _get(Room.objects.for_workspace(request.workspace), room_id, "room")
        services.room_update(room=room, **_body(request, s.RoomUpdateInputSerializer))
        return Response(_room_detail(request, room.pk))


# --- sections -----------------------------------------------------------------------------------


class SectionsView(APIView):
    @extend_schema(
        summary="List a room's sections",
        parameters=[s.RoomIdQuerySerializer],
        responses={
            200: s.SectionSerializer(many=True),
            **INPUT_ERRORS,
            **NOT_FOUND,
            **ERROR_RESPONSES,
        },
        tags=CONTENT_TAGS,
    )
    def get(self, request):
        room_id = _query(request, s.RoomIdQuerySerializer)["room_id"]
        room = _get(Room.objects.for_workspace(request.workspace), room_id, "room")
        return Response(s.SectionSerializer(selectors.section_list(room=room), many=True).data)

    @extend_schema(
        summary="Create sections",
        description="Appends the sections in the order given, unless a `position` is given.",
        request=s.SectionsCreateInputSerializer,
        responses={201: s.SectionSerializer(many=True), **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def post(self, request):
        data = _body(request, s.SectionsCreateInputSerializer)
        sections = services.sections_create(room=data["room"], items=data["sections"])
        return Response(
            s.SectionSerializer(sections, many=True).data, status=status.HTTP_201_CREATED
        )


class SectionView(APIView):
    def _section(self, request, section_id) -> Section:
        return _get(Section.objects.for_workspace(request.workspace), section_id, "section")

    @extend_schema(
        summary="Update a section",
        request=s.SectionUpdateInputSerializer,
        responses={200: s.SectionSerializer, **INPUT_ERRORS, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def patch(self, request, section_id):
        section = self._section(request, section_id)
        changes = _body(request, s.SectionUpdateInputSerializer)
        return Response(
            s.SectionSerializer(services.section_update(section=section, **changes)).data
        )

    @extend_schema(
        summary="Delete a section with its pages, action items and their activity",
        responses={**DELETED, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def delete(self, request, section_id):
        services.room_content_delete(item=self._section(request, section_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- pages --------------------------------------------------------------------------------------


class PagesView(APIView):
    @extend_schema(
        summary="List a section's pages",
        parameters=[s.SectionIdQuerySerializer],
        responses={
            200: s.PageSerializer(many=True),
            **INPUT_ERRORS,
            **NOT_FOUND,
            **ERROR_RESPONSES,
        },
        tags=CONTENT_TAGS,
    )
    def get(self, request):
        section_id = _query(request, s.SectionIdQuerySerializer)["section_id"]
        section = _get(Section.objects.for_workspace(request.workspace), section_id, "section")
        return Response(s.PageSerializer(selectors.page_list(section=section), many=True).data)

    @extend_schema(
        summary="Create pages",
        description="Appends the pages in the order given, unless a `position` is given.",
        request=s.PagesCreateInputSerializer,
        responses={201: s.PageSerializer(many=True), **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def post(self, request):
        data = _body(request, s.PagesCreateInputSerializer)
        pages = services.pages_create(section=data["section"], items=data["pages"])
        return Response(s.PageSerializer(pages, many=True).data, status=status.HTTP_201_CREATED)


class PageView(APIView):
    def _page(self, request, page_id) -> Step:
        return _get(Step.objects.for_workspace(request.workspace), page_id, "page")

    @extend_schema(
        summary="Update a page",
        request=s.PageUpdateInputSerializer,
        responses={200: s.PageSerializer, **INPUT_ERRORS, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def patch(self, request, page_id):
        page = self._page(request, page_id)
        changes = _body(request, s.PageUpdateInputSerializer)
        return Response(s.PageSerializer(services.page_update(page=page, **changes)).data)

    @extend_schema(
        summary="Delete a page with its action items and their activity",
        responses={**DELETED, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def delete(self, request, page_id):
        services.room_content_delete(item=self._page(request, page_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- action items -------------------------------------------------------------------------------


class ActionItemsView(APIView):
    @extend_schema(
        summary="List the action items of a section or of a page",
        parameters=[s.ActionItemQuerySerializer],
        responses={
            200: s.ActionItemSerializer(many=True),
            **INPUT_ERRORS,
            **NOT_FOUND,
            **ERROR_RESPONSES,
        },
        tags=CONTENT_TAGS,
    )
    def get(self, request):
        params = _query(request, s.ActionItemQuerySerializer)
        if "page_id" in params:
            step = _get(Step.objects.for_workspace(request.workspace), params["page_id"], "page")
            actions = selectors.action_item_list(step=step)
        else:
            section = _get(
                Section.objects.for_workspace(request.workspace), params["section_id"], "section"
            )
            actions = selectors.action_item_list(section=section)
        return Response(s.ActionItemSerializer(actions, many=True).data)

    @extend_schema(
        summary="Create action items",
        description="In a section (`sectionId`) or on a page (`pageId`). Each assignee email "
        "of a workspace member becomes an internal assignee, any other a contact (created if "
        "new).",
        request=s.ActionItemsCreateInputSerializer,
        responses={201: s.ActionItemSerializer(many=True), **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def post(self, request):
        data = _body(request, s.ActionItemsCreateInputSerializer)
        page = data.get("page")
        section = page.section if page else data["section"]
        created = services.action_items_create(section=section, step=page, items=data["items"])
        actions = selectors.action_item_list(section=section).filter(
            pk__in=[action.pk for action in created]
        )
        return Response(
            s.ActionItemSerializer(actions, many=True).data, status=status.HTTP_201_CREATED
        )


class ActionItemView(APIView):
    def _action(self, request, action_id) -> Action:
        return _get(Action.objects.for_workspace(request.workspace), action_id, "action item")

    @extend_schema(
        summary="Update an action item",
        description="Only the fields given change; `assignees` replaces the whole list.",
        request=s.ActionItemUpdateInputSerializer,
        responses={200: s.ActionItemSerializer, **INPUT_ERRORS, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def patch(self, request, action_id):
        action = self._action(request, action_id)
        services.action_item_update(
            action=action, **_body(request, s.ActionItemUpdateInputSerializer)
        )
        updated = selectors.action_item_list(section=action.section).get(pk=action.pk)
        return Response(s.ActionItemSerializer(updated).data)

    @extend_schema(
        summary="Delete an action item and its activity",
        responses={**DELETED, **NOT_FOUND, **ERROR_RESPONSES},
        tags=CONTENT_TAGS,
    )
    def delete(self, request, action_id):
        services.room_content_delete(item=self._action(request, action_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- lookups ------------------------------------------------------------------------------------


class StatusesView(APIView):
    @extend_schema(
        summary="List room statuses",
        responses={200: s.StatusSerializer(many=True), **ERROR_RESPONSES},
        tags=LOOKUP_TAGS,
    )
    def get(self, request):
        statuses = selectors.status_list(workspace=request.workspace)
        return Response(s.StatusSerializer(statuses, many=True).data)


def _paged_lookup(summary: str, page_serializer, list_items):
    """A paged GET list view (``page``, ``limit``) over ``list_items(workspace=...)``."""

    class LookupView(APIView):
        @extend_schema(
            summary=summary,
            parameters=[s.PageQuerySerializer],
            responses={200: page_serializer, **INPUT_ERRORS, **ERROR_RESPONSES},
            tags=LOOKUP_TAGS,
        )
        def get(self, request):
            return _paged(request, list_items(workspace=request.workspace), page_serializer)

    return LookupView


CompaniesView = _paged_lookup("List companies", s.CompanyPageSerializer, selectors.company_list)
LabelsView = _paged_lookup("List labels", s.LabelPageSerializer, selectors.label_list)
UsersView = _paged_lookup("List workspace members", s.MemberPageSerializer, selectors.member_list)
TemplatesView = _paged_lookup(
    "List room templates", s.TemplatePageSerializer, selectors.template_list
)
