"""The webinar API (FLOW API 0.0.4 paths under /api/v1). One thin view per operation."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import invalid_field
from config.openapi import ERROR_RESPONSES, INPUT_ERRORS, NOT_FOUND, error
from events import csv_reports, selectors, services
from events.api.serializers import (
    CompiledReportOutput,
    EventCreateInput,
    OperatorInput,
    OperatorOutput,
    PageInput,
    RegistrantOutput,
    RegistrantReportOutput,
    RegistrationAcceptedOutput,
    RegistrationInput,
    SessionListInput,
    SessionOutput,
    SessionWithAnalyticsOutput,
    SurveyOutput,
)
from events.models import ChatMessage
from workspaces.authentication import ApiKeyAuthentication
from workspaces.permissions import AllowPublic
from workspaces.throttling import PublicRateThrottle

TAGS = ["webinars"]
PUBLIC_ERRORS = {429: ERROR_RESPONSES[429]}
SESSION_TOKEN = OpenApiParameter(
    "sessionToken", str, OpenApiParameter.PATH, description="The session's token."
)


class SessionListView(APIView):
    @extend_schema(
        summary="Sessions of the workspace's events",
        description=(
            "`period` (or its synonym `periodName`) keeps sessions that are `current` (open: "
            "from start minus earlyAccessPeriod until start plus duration), `past` or "
            "`future`; none lists all. `simple_analytics=1` adds `analytics`."
        ),
        parameters=[SessionListInput],
        responses={200: SessionWithAnalyticsOutput(many=True), **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request):
        params = SessionListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        now = timezone.now()
        sessions = selectors.session_list(
            workspace=request.workspace, now=now, **params.validated_data
        )
        output = (
            SessionWithAnalyticsOutput if params.validated_data["with_analytics"] else SessionOutput
        )
        return Response(output(sessions, many=True, context={"now": now}).data)


class SessionPublicView(APIView):
    """Public upstream. A workspace key, when sent, also shows that workspace's drafts."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AllowPublic]
    throttle_classes = [PublicRateThrottle]

    @extend_schema(
        summary="Event info of a published session (public)",
        parameters=[SESSION_TOKEN],
        responses={
            200: SessionOutput,
            401: ERROR_RESPONSES[401],
            404: error("No published session with this token."),
            **PUBLIC_ERRORS,
        },
        # Public; a key is optional (it also shows the workspace's drafts).
        auth=[{"FlowlaApiKey": []}, {"ApiSecret": []}, {"BearerKey": []}, {}],
        tags=TAGS,
    )
    def get(self, request, sessionToken: str):
        session = selectors.session_public_get(
            token=sessionToken, workspace=getattr(request, "workspace", None)
        )
        return Response(SessionOutput(session).data)


class EventCreateView(APIView):
    @extend_schema(
        summary="Create an event with one session",
        request=EventCreateInput,
        responses={201: SessionOutput, **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def post(self, request):
        body = EventCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        session = services.event_create(
            workspace=request.workspace,
            creator_id=data["creatorID"],
            title=data["title"],
            description=data["description"],
            date=data["date"],
            time=data["time"],
            timezone=data["timezone"],
            operators=[
                services.OperatorAssignment(
                    operator_id=item["id"],
                    role=item["role"],
                    mic_enabled=item["micEnabled"],
                    cam_enabled=item["camEnabled"],
                    screen_sharing_enabled=item["screenSharingEnabled"],
                )
                for item in data["operators"]
            ],
            published=data["published"],
            duration=Decimal(data["duration"]),
            early_access_period=data["earlyAccessPeriod"],
            video_record=data["videoRecord"],
            on_demand_replays=data["onDemandReplays"],
        )
        created = selectors.session_get(
            workspace=request.workspace, token=session.token, detailed=True
        )
        return Response(SessionOutput(created).data, status=status.HTTP_201_CREATED)


class RegistrationView(APIView):
    """Public upstream. An anonymous caller gets the same answer whether or not the e-mail is
    registered, and never a login link: the link goes to the e-mail address (#15 finding 6).
    A caller with the session's workspace key (the SSO page of the workspace's own site, which
    vouches for who the user is) gets the registration and its link, or the 302 to it."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AllowPublic]
    throttle_classes = [PublicRateThrottle]

    @extend_schema(
        summary="Register for a published session (public; SSO with redirect=true and a key)",
        request=RegistrationInput,
        responses={
            200: OpenApiResponse(RegistrantOutput, description="With the key: already registered."),
            201: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="RegistrationAnswer",
                    serializers=[RegistrantOutput, RegistrationAcceptedOutput],
                    resource_type_field_name=None,
                ),
                description="Without a key: accepted, the login link is e-mailed (the same "
                "answer for a known e-mail). With the session's workspace key: registered.",
            ),
            302: OpenApiResponse(
                description="redirect=true with the key: Location is the login link."
            ),
            400: INPUT_ERRORS[400],
            404: error("No published session with this eventSessionToken."),
            **PUBLIC_ERRORS,
        },
        auth=[],
        tags=TAGS,
    )
    def post(self, request):
        body = RegistrationInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        registration = services.registrant_register(
            session_token=data["eventSessionToken"],
            email=data["email"],
            first_name=data["firstName"],
            last_name=data["lastName"],
        )
        registrant = registration.registrant
        if getattr(request, "workspace", None) != registrant.session.event.workspace:
            if data["redirect"]:
                raise invalid_field("redirect", "The SSO redirect needs the workspace's API key.")
            services.registrant_login_link_send(registrant=registrant)
            return Response(RegistrationAcceptedOutput(data).data, status=status.HTTP_201_CREATED)
        output = RegistrantOutput(registrant).data
        if data["redirect"]:
            return Response(status=status.HTTP_302_FOUND, headers={"Location": output["loginLink"]})
        return Response(
            output, status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK
        )


def _page_links(request, page: int, limit: int, total: int) -> str:
    """RFC 8288 Link header with the neighbouring pages that exist."""
    links = []
    base = request.build_absolute_uri(request.path)
    if page * limit < total:
        links.append(f'<{base}?{urlencode({"page": page + 1, "limit": limit})}>; rel="next"')
    if page > 1:
        links.append(f'<{base}?{urlencode({"page": page - 1, "limit": limit})}>; rel="prev"')
    return ", ".join(links)


class RegistrantListView(APIView):
    @extend_schema(
        summary="Registrants of a session, by registration time",
        parameters=[
            SESSION_TOKEN,
            PageInput,
            OpenApiParameter(
                "X-Total-Count",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="Registrants of the session across all pages.",
            ),
            OpenApiParameter(
                "Link",
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description='Neighbouring pages (rel="next", rel="prev"), when they exist.',
            ),
        ],
        responses={
            200: RegistrantReportOutput(many=True),
            **INPUT_ERRORS,
            **NOT_FOUND,
            **ERROR_RESPONSES,
        },
        tags=TAGS,
    )
    def get(self, request, sessionToken: str):
        params = PageInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        page = selectors.registrant_page(session=session, **params.validated_data)
        headers = {"X-Total-Count": str(page.total)}
        links = _page_links(request, total=page.total, **params.validated_data)
        if links:
            headers["Link"] = links
        return Response(RegistrantReportOutput(page.rows, many=True).data, headers=headers)


class SurveyListView(APIView):
    @extend_schema(
        summary="Surveys of a session, with the ids their CSV reports take",
        parameters=[SESSION_TOKEN],
        responses={200: SurveyOutput(many=True), **NOT_FOUND, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request, sessionToken: str):
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        return Response(SurveyOutput(selectors.survey_list(session=session), many=True).data)


class OperatorListView(APIView):
    @extend_schema(
        summary="Operators of the workspace",
        responses={200: OperatorOutput(many=True), **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request):
        operators = selectors.operator_list(workspace=request.workspace)
        return Response(OperatorOutput(operators, many=True).data)

    @extend_schema(
        summary="Create an operator",
        request=OperatorInput,
        responses={
            201: OperatorOutput,
            **INPUT_ERRORS,
            409: error("An operator with this email already exists."),
            **ERROR_RESPONSES,
        },
        tags=TAGS,
    )
    def post(self, request):
        body = OperatorInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        operator = services.operator_create(
            workspace=request.workspace,
            email=data["email"],
            first_name=data["firstName"],
            last_name=data["lastName"],
            permission=data["permission"],
        )
        return Response(OperatorOutput(operator).data, status=status.HTTP_201_CREATED)


# --- CSV reports ------------------------------------------------------------------------------

CSV_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8, CRLF."),
    **NOT_FOUND,
    **ERROR_RESPONSES,
}


def csv_response(chunks: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvReportView(APIView):
    """Base of the CSV endpoints: the body streams as CSV; errors stay JSON whatever the
    client's Accept header says."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class RegistrantsCsvView(CsvReportView):
    @extend_schema(
        summary="Registrants CSV report",
        parameters=[SESSION_TOKEN],
        responses=CSV_RESPONSES,
        tags=TAGS,
    )
    def get(self, request, sessionToken: str):
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        return csv_response(
            csv_reports.registrants_csv(session), f"registrants-{session.token}.csv"
        )


class ChatCsvView(CsvReportView):
    kind: ChatMessage.Kind

    def get(self, request, sessionToken: str):
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        return csv_response(
            csv_reports.chat_csv(session, self.kind), f"{self.kind}-chat-{session.token}.csv"
        )


@extend_schema_view(
    get=extend_schema(
        summary="Attendee chat log CSV report",
        parameters=[SESSION_TOKEN],
        responses=CSV_RESPONSES,
        tags=TAGS,
    )
)
class AttendeeChatCsvView(ChatCsvView):
    kind = ChatMessage.Kind.ATTENDEE


@extend_schema_view(
    get=extend_schema(
        summary="Operator chat log CSV report",
        parameters=[SESSION_TOKEN],
        responses=CSV_RESPONSES,
        tags=TAGS,
    )
)
class OperatorChatCsvView(ChatCsvView):
    kind = ChatMessage.Kind.OPERATOR


class SurveyCsvView(CsvReportView):
    @extend_schema(
        summary="Survey responses CSV report",
        parameters=[
            SESSION_TOKEN,
            OpenApiParameter("surveyId", int, OpenApiParameter.PATH, description="Survey id."),
        ],
        responses=CSV_RESPONSES,
        tags=TAGS,
    )
    def get(self, request, sessionToken: str, surveyId: int):
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        survey = selectors.survey_get(session=session, survey_id=surveyId)
        return csv_response(
            csv_reports.survey_csv(survey), f"survey-{survey.pk}-{session.token}.csv"
        )


class CompiledReportView(APIView):
    @extend_schema(
        summary="Every CSV report of a session in one JSON object",
        parameters=[SESSION_TOKEN],
        responses={200: CompiledReportOutput, **NOT_FOUND, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request, sessionToken: str):
        session = selectors.session_get(workspace=request.workspace, token=sessionToken)
        return Response(CompiledReportOutput(csv_reports.compiled_report(session)).data)
