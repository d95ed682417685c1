"""Shapes of Attio's REST v2 JSON, checked at the edge.

An Attio record is ``{"id": {"workspace_id", "object_id", "record_id"}, "created_at",
"web_url", "values": {slug: [value, ...]}}``: every attribute is a list of value objects (the
current ones; historic values come only from the attribute-values endpoint), typed by
``attribute_type``. Only what a deal cannot be stored without is required; the value lists
we read are checked for the fields we take from them.
"""

from __future__ import annotations

from rest_framework import serializers

from syncing.validation import Text


class RecordId(serializers.Serializer):
    record_id = Text()


class TextValue(serializers.Serializer):
    value = Text(allow_blank=True)


class Status(serializers.Serializer):
    title = Text(allow_blank=True)


class StatusValue(serializers.Serializer):
    status = Status()


class CurrencyValue(serializers.Serializer):
    # Any precision Attio sends (stored rounded to cents), within what the deal row holds.
    currency_value = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        max_value=10**15,
        min_value=-(10**15),
        allow_null=True,
    )
    currency_code = Text(required=False, allow_null=True, allow_blank=True)


class ActorReferenceValue(serializers.Serializer):
    referenced_actor_type = Text()
    referenced_actor_id = Text(allow_null=True)


class RecordReferenceValue(serializers.Serializer):
    target_object = Text()
    target_record_id = Text()


class DateValue(serializers.Serializer):
    value = serializers.DateField()


class DealValues(serializers.Serializer):
    name = TextValue(many=True, required=False)
    stage = StatusValue(many=True, required=False)
    value = CurrencyValue(many=True, required=False)
    owner = ActorReferenceValue(many=True, required=False)
    associated_people = RecordReferenceValue(many=True, required=False)
    # Not a standard deal attribute: read when the workspace has added one with this slug.
    close_date = DateValue(many=True, required=False)


class DealRecord(serializers.Serializer):
    id = RecordId()
    values = DealValues()


class WorkspaceMember(serializers.Serializer):
    email_address = serializers.EmailField()


class EmailAddressValue(serializers.Serializer):
    email_address = serializers.EmailField()


class PersonValues(serializers.Serializer):
    email_addresses = EmailAddressValue(many=True, required=False)


class PersonRecord(serializers.Serializer):
    values = PersonValues()
