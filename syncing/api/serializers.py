"""Input and output of the sync API: connections and their runs. Credentials never appear."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rooms.api.serializers import (
    IsoDateTimeField,
    PageQuerySerializer,
    StrictSerializer,
    page_serializer,
)
from syncing.models import Connection, SyncRun
from syncing.streams import streams_of


class ConnectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provider = serializers.ChoiceField(Connection.Provider.choices)
    baseUrl = serializers.CharField(source="base_url")
    enabled = serializers.BooleanField()
    status = serializers.ChoiceField(Connection.Status.choices)
    statusDetail = serializers.CharField(source="status_detail")
    statusChangedAt = IsoDateTimeField(source="status_changed_at", allow_null=True)
    streams = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_streams(self, connection: Connection) -> list[str]:
        return sorted(streams_of(connection.provider))


class RunCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()


class RunErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    upstreamId = serializers.CharField(allow_null=True, required=False)
    correlationId = serializers.CharField(allow_null=True, required=False)
    status = serializers.IntegerField(allow_null=True, required=False)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    connectionId = serializers.IntegerField(source="connection_id")
    stream = serializers.CharField()
    trigger = serializers.ChoiceField(SyncRun.Trigger.choices)
    fullRefresh = serializers.BooleanField(source="full_refresh")
    status = serializers.ChoiceField(SyncRun.Status.choices)
    startedAt = IsoDateTimeField(source="started_at")
    finishedAt = IsoDateTimeField(source="finished_at", allow_null=True)
    counts = RunCountsSerializer(source="*")
    upstreamCalls = serializers.IntegerField(source="upstream_calls")
    errorCount = serializers.IntegerField(source="error_count")
    errors = RunErrorSerializer(many=True)


class RunListQuerySerializer(PageQuerySerializer):
    connection = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    stream = serializers.CharField(max_length=64, required=False)
    status = serializers.ChoiceField(SyncRun.Status.choices, required=False)


class RunCreateInputSerializer(StrictSerializer):
    stream = serializers.CharField(max_length=64)
    fullRefresh = serializers.BooleanField(default=False, source="full_refresh")


RunPageSerializer = page_serializer("SyncRunPage", RunSerializer)
