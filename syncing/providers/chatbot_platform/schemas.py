"""Shapes of the chatbot platform's JSON (Flow XO public API; facts in specs/README.md)."""

from __future__ import annotations

from rest_framework import serializers

from syncing.validation import Text


class LastMessage(serializers.Serializer):
    id = Text()
    timestamp = serializers.DateTimeField()


class Conversation(serializers.Serializer):
    id = Text()
    id_url_encoded = Text()
    bot_id = Text(required=False, allow_blank=True)
    user_id = Text()
    user_name = Text(required=False, allow_blank=True, allow_null=True, max_length=255)
    created_at = serializers.DateTimeField(required=False, allow_null=True)
    last_message = LastMessage(required=False, allow_null=True)


class Message(serializers.Serializer):
    id = Text(max_length=255)
    role = Text()
    type = Text(required=False, allow_blank=True)
    # Text messages carry their words; other types (cards, custom payloads) may carry none.
    message = serializers.JSONField(required=False, allow_null=True)
    timestamp = serializers.DateTimeField()


class Workflow(serializers.Serializer):
    _id = Text(max_length=255)
    name = Text(allow_blank=True, max_length=255)
    active = serializers.BooleanField(required=False)
