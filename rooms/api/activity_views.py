"""Room analytics and activity ingestion: thin views over rooms.analytics and rooms.activity."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSES, INPUT_ERRORS, NOT_FOUND, error
from rooms.activity import activity_ingest
from rooms.activity_input import activity_batch_parse
from rooms.analytics import room_analytics
from rooms.api.activity_serializers import (
    ActivityBatchSerializer,
    ActivityResultSerializer,
    RoomAnalyticsSerializer,
)
from rooms.api.views import _get, room_body
from rooms.models import Room


class RoomAnalyticsView(APIView):
    @extend_schema(
        summary="Get room analytics",
        description=(
            "Progress, the internal company, everyone on the room (owner, primary contact, "
            "action item assignees, visitors) and viewership per section, page and action item."
        ),
        responses={200: RoomAnalyticsSerializer, **NOT_FOUND, **ERROR_RESPONSES},
        tags=["rooms"],
    )
    def get(self, request, room_id):
        # Already the body (see rooms.analytics); RoomAnalyticsSerializer documents its shape.
        return Response(room_body(room_analytics, request, room_id))


class RoomActivityView(APIView):
    @extend_schema(
        summary="Record room activity",
        description=(
            "Stores up to 1,000 visits, views and engagements. Each event's `id` is unique per "
            "workspace: an id already stored (or repeated in the batch) is counted as a "
            "duplicate and changes nothing. Any invalid event rejects the whole batch."
        ),
        request=ActivityBatchSerializer,
        responses={
            200: ActivityResultSerializer,
            **INPUT_ERRORS,
            **NOT_FOUND,
            409: error("A concurrent request stored some of the same ids; send the batch again."),
            **ERROR_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "A visit and a view",
                request_only=True,
                value={
                    "events": [
                        {
                            "id": "evt-1",
                            "kind": "visit",
                            "viewer": {"email": "morgan.lee@acme.com", "name": "Morgan Lee"},
                            "at": "2026-05-05T14:30:44.260Z",
                        },
                        {
                            "id": "evt-2",
                            "kind": "view",
                            "viewer": {"email": "morgan.lee@acme.com"},
                            "at": "2026-05-05T14:31:02.000Z",
                            "stepId": "14968206-ac51-4da1-9846-8b6b85a10edf",
                            "durationInSeconds": 144,
                        },
                    ]
                },
            )
        ],
        tags=["rooms"],
    )
    def post(self, request, room_id):
        rooms = Room.objects.for_workspace(request.workspace).select_related("workspace")
        room = _get(rooms, room_id, "room")
        result = activity_ingest(room=room, events=activity_batch_parse(request.data))
        return Response(ActivityResultSerializer(result).data)
