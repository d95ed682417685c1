"""Shapes of HubSpot's CRM JSON (v3 objects, owners, OAuth v1 token), checked at the edge.

HubSpot sends every property as a string, an empty string or null; empty means "not set".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from rest_framework import serializers

from syncing.validation import Text


class BlankAsNull:
    """An empty string is "no value" in HubSpot's properties, not an invalid one."""

    def validate_empty_values(self, data):
        if data == "":
            if not self.allow_null:
                self.fail("null")
            return True, None
        return super().validate_empty_values(data)


class Amount(BlankAsNull, serializers.DecimalField):
    """A currency amount rounded to cents (CrmDeal keeps two decimals)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=2, **kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        return super().validate_precision(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


class CloseDate(BlankAsNull, serializers.Field):
    """HubSpot date properties: midnight UTC as an ISO datetime, a plain date, or epoch ms."""

    default_error_messages = {"invalid": "Not a date: {value!r}."}

    def to_internal_value(self, data) -> date:
        text = str(data)
        try:
            if text.isdigit():
                return datetime.fromtimestamp(int(text) / 1000, UTC).date()
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).date()
        except ValueError:
            self.fail("invalid", value=text)

    def to_representation(self, value: date) -> str:
        return value.isoformat()


class DealProperties(serializers.Serializer):
    dealname = Text(required=False, allow_null=True, allow_blank=True)
    dealstage = Text(required=False, allow_null=True, allow_blank=True)
    amount = Amount(required=False, allow_null=True)
    deal_currency_code = Text(required=False, allow_null=True, allow_blank=True, max_length=8)
    closedate = CloseDate(required=False, allow_null=True)
    hubspot_owner_id = Text(required=False, allow_null=True, allow_blank=True)
    hs_lastmodifieddate = serializers.DateTimeField()


class Deal(serializers.Serializer):
    id = serializers.RegexField(r"^[0-9]+$")
    properties = DealProperties()
    archived = serializers.BooleanField(required=False, default=False)
    archivedAt = serializers.DateTimeField(required=False, allow_null=True)


class Owner(serializers.Serializer):
    id = Text()
    email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)


class Contact(serializers.Serializer):
    id = Text()
    properties = serializers.DictField()


class Token(serializers.Serializer):
    access_token = Text()
    expires_in = serializers.IntegerField(min_value=1)
