from rest_framework import serializers


class WorkspaceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class WhoAmISerializer(serializers.Serializer):
    workspace = WorkspaceSummarySerializer()
