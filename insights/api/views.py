from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSES, INPUT_ERRORS
from insights import analytics, services
from insights.api.serializers import (
    ChatEventsInputSerializer,
    IngestOutputSerializer,
    InsightsOutputSerializer,
    InsightsQuerySerializer,
    TopFlowSerializer,
    TopMessageSerializer,
    TopQuerySerializer,
)

READ_ERRORS = {**INPUT_ERRORS, **ERROR_RESPONSES}


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
        result = analytics.insights_metrics(workspace=request.workspace, series=params["series"])
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
        rows = analytics.insights_top_messages(
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
        rows = analytics.insights_top_flows(
            workspace=request.workspace, time_range=params["range"], limit=params["limit"]
        )
        return Response(TopFlowSerializer(rows, many=True).data)
