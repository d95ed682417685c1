from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSES, INPUT_ERRORS
from insights import chat_analytics, services, workspace_analytics
from insights.api.access import member_workspace
from insights.api.serializers import (
    ChatEventsInputSerializer,
    IngestOutputSerializer,
    InsightsOutputSerializer,
    InsightsQuerySerializer,
    TopFlowSerializer,
    TopMessageSerializer,
    TopQuerySerializer,
    WorkspaceActivityInputSerializer,
    WorkspaceAnalyticsSerializer,
)

READ_ERRORS = {**INPUT_ERRORS, **ERROR_RESPONSES}
WORKSPACE_ID = OpenApiParameter(
    "workspace_id", int, OpenApiParameter.PATH, description="The id `GET /api/whoami` returns."
)


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ChatEventsIngestView(APIView):
    @extend_schema(
        summary="Ingest a batch of chatbot messages and flow triggers",
        description="At most 1,000 items. Items whose id is already stored are skipped; one "
        "invalid item rejects the whole batch (400 naming `events.<index>.<field>`).",
        request=ChatEventsInputSerializer,
        responses={200: IngestOutputSerializer, **READ_ERRORS},
        tags=["insights"],
    )
    def post(self, request):
        serializer = ChatEventsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.chat_events_ingest(
            workspace=request.workspace, items=serializer.validated_data["events"]
        )
        return Response(IngestOutputSerializer(result).data)


class InsightsView(APIView):
    @extend_schema(
        summary="Chatbot stats and time series",
        parameters=[InsightsQuerySerializer],
        responses={200: InsightsOutputSerializer, **READ_ERRORS},
        tags=["insights"],
    )
    def get(self, request):
        params = _query(InsightsQuerySerializer, request)
        result = chat_analytics.insights_metrics(
            workspace=request.workspace, series=params["series"]
        )
        return Response(
            InsightsOutputSerializer(
                {"stats": [result["stats"]], "metrics": result["metrics"]}
            ).data
        )


class TopMessagesView(APIView):
    @extend_schema(
        summary="Most frequent received messages",
        parameters=[TopQuerySerializer],
        responses={200: TopMessageSerializer(many=True), **READ_ERRORS},
        tags=["insights"],
    )
    def get(self, request):
        params = _query(TopQuerySerializer, request)
        rows = chat_analytics.insights_top_messages(
            workspace=request.workspace, time_range=params["range"], limit=params["limit"]
        )
        return Response(TopMessageSerializer(rows, many=True).data)


class TopFlowsView(APIView):
    @extend_schema(
        summary="Most triggered flows",
        parameters=[TopQuerySerializer],
        responses={200: TopFlowSerializer(many=True), **READ_ERRORS},
        tags=["insights"],
    )
    def get(self, request):
        params = _query(TopQuerySerializer, request)
        rows = chat_analytics.insights_top_flows(
            workspace=request.workspace, time_range=params["range"], limit=params["limit"]
        )
        return Response(TopFlowSerializer(rows, many=True).data)


class WorkspaceActivityIngestView(APIView):
    @extend_schema(
        summary="Ingest a batch of contact events and recordings",
        description="At most 1,000 items. Items whose id is already stored are skipped; one "
        "invalid item (or a `roomId` that is not a room of the workspace) rejects the whole "
        "batch (400 naming `events.<index>.<field>`). Members of the workspace only.",
        parameters=[WORKSPACE_ID],
        request=WorkspaceActivityInputSerializer,
        responses={200: IngestOutputSerializer, **READ_ERRORS},
        tags=["insights"],
    )
    def post(self, request, workspace_id: str):
        workspace = member_workspace(request, workspace_id)
        serializer = WorkspaceActivityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.workspace_activity_ingest(
            workspace=workspace, items=serializer.validated_data["events"]
        )
        return Response(IngestOutputSerializer(result).data)


class WorkspaceAnalyticsView(APIView):
    @extend_schema(
        summary="Workspace analytics dashboard",
        description="KPIs, 30-day timelines, event breakdown, top booking pages and rooms. "
        "Members of the workspace only (403 for anyone else).",
        parameters=[WORKSPACE_ID],
        responses={200: WorkspaceAnalyticsSerializer, **ERROR_RESPONSES},
        tags=["insights"],
    )
    def get(self, request, workspace_id: str):
        workspace = member_workspace(request, workspace_id)
        result = workspace_analytics.workspace_analytics(
            workspace=workspace, today=timezone.now().date()
        )
        return Response(WorkspaceAnalyticsSerializer(result).data)
