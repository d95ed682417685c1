"""Sync API: the workspace's connections, their runs, and a run started on request.

Like an Airbyte or dlt operator's API: scripts list connections, start a stream
(``POST /api/sync/connections/{id}/runs`` answers 202 with the queued run) and poll the run
until its ``status`` is one of succeeded, partial, failed or skipped.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import Conflict, NotFound, invalid_field
from config.openapi import ERROR_RESPONSES, INPUT_ERRORS, NOT_FOUND, error
from rooms.selectors import paginate
from syncing import selectors
from syncing.api import serializers as s
from syncing.models import Connection, SyncRun
from syncing.streams import stream_queue, streams_of

TAGS = ["sync"]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


MAX_ID = 2**63 - 1


def _get(queryset, pk: str, name: str):
    """The object with the path id ``pk`` from a workspace-scoped queryset, or a 404 (also for
    an id that is not a number of the id column's range)."""
    obj = None
    if pk.isascii() and pk.isdigit() and 0 < int(pk) <= MAX_ID:
        obj = queryset.filter(pk=int(pk)).first()
    if obj is None:
        raise NotFound(f"No {name} with id {pk}.")
    return obj


class ConnectionsView(APIView):
    @extend_schema(
        summary="List connections",
        description="The workspace's upstream connections with their health and stream names. "
        "Credentials are never shown.",
        responses={200: s.ConnectionSerializer(many=True), **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request):
        connections = selectors.connection_list(workspace=request.workspace)
        return Response(s.ConnectionSerializer(connections, many=True).data)


class ConnectionRunsView(APIView):
    @extend_schema(
        summary="Start a run",
        description="Queues one run of the connection's stream for a worker and answers the "
        "queued run; poll `GET /api/sync/runs/{run_id}` until it has finished. A run that "
        "finds the stream already running is recorded as `skipped`.",
        request=s.RunCreateInputSerializer,
        responses={
            202: s.RunSerializer,
            **INPUT_ERRORS,
            **NOT_FOUND,
            409: error("The connection is disabled."),
            **ERROR_RESPONSES,
        },
        tags=TAGS,
    )
    def post(self, request, connection_id: str):
        connection = _get(
            Connection.objects.for_workspace(request.workspace), connection_id, "connection"
        )
        body = _valid(s.RunCreateInputSerializer, request.data)
        if body["stream"] not in streams_of(connection.provider):
            names = ", ".join(sorted(streams_of(connection.provider))) or "none"
            raise invalid_field("stream", f"Not a stream of this connection (streams: {names}).")
        if not connection.enabled:
            raise Conflict("The connection is disabled.")
        run = stream_queue(
            connection=connection, stream=body["stream"], full_refresh=body["full_refresh"]
        )
        return Response(s.RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunsView(APIView):
    @extend_schema(
        summary="List runs",
        description="Runs of the workspace's connections, newest first, paged.",
        parameters=[s.RunListQuerySerializer],
        responses={200: s.RunPageSerializer, **INPUT_ERRORS, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request):
        params = _valid(s.RunListQuerySerializer, request.query_params.dict())
        runs = selectors.run_list(
            workspace=request.workspace,
            connection_id=params.get("connection"),
            stream=params.get("stream"),
            status=params.get("status"),
        )
        page = paginate(runs, page=params["page"], limit=params["limit"])
        return Response(s.RunPageSerializer(page).data)


class RunView(APIView):
    @extend_schema(
        summary="Get a run",
        description="One run with its counts so far; `finishedAt` is null until it ends.",
        responses={200: s.RunSerializer, **NOT_FOUND, **ERROR_RESPONSES},
        tags=TAGS,
    )
    def get(self, request, run_id: str):
        run = _get(SyncRun.objects.for_workspace(request.workspace), run_id, "run")
        return Response(s.RunSerializer(run).data)
