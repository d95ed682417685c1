from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSES, INPUT_ERRORS
from console.api.serializers import RoomsDashboardSerializer, WebinarsDashboardSerializer
from console.periods import PeriodQuerySerializer, period_from
from events.dashboard import webinars_dashboard
from rooms.dashboard import rooms_dashboard

READ_ERRORS = {**INPUT_ERRORS, **ERROR_RESPONSES}


def _period(request):
    serializer = PeriodQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return period_from(serializer.validated_data, today=timezone.now().date())


class RoomsDashboardView(APIView):
    @extend_schema(
        summary="Room figures of a period beside the previous period",
        description="The figures of the console's dashboard (UTC days): rooms engaged, views, "
        "unique viewers, engagements by type, each with the previous period of the same "
        "length; average action-plan progress; views and engagements per day; the top 10 "
        "rooms by engagements; rooms with an open deal and no activity for 14 days.",
        parameters=[PeriodQuerySerializer],
        responses={200: RoomsDashboardSerializer, **READ_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        figures = rooms_dashboard(
            workspace=request.workspace, period=_period(request), today=timezone.now().date()
        )
        return Response(RoomsDashboardSerializer(figures).data)


class WebinarsDashboardView(APIView):
    @extend_schema(
        summary="Webinar figures of a period",
        description="Registrations (beside the previous period) and per UTC day; registered, "
        "attended and watched-the-replay counts of the sessions that started in the period; "
        "the next upcoming sessions with their registrant counts.",
        parameters=[PeriodQuerySerializer],
        responses={200: WebinarsDashboardSerializer, **READ_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        figures = webinars_dashboard(
            workspace=request.workspace, period=_period(request), now=timezone.now()
        )
        return Response(WebinarsDashboardSerializer(figures).data)
