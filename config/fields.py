"""The API's strict body toolkit: serializer fields that take only the JSON type the schema
declares (DRF's own fields coerce: 0 into "0", "true" or 0 into a boolean, "5" into 5), and the
serializer base that rejects undeclared fields. Every app's body serializers use them, so the
API accepts what its OpenAPI schema says and nothing else; query parameters, which arrive as
text, keep DRF's parsing fields."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from config.formats import iso_utc


def is_json_integer(data) -> bool:
    return isinstance(data, int) and not isinstance(data, bool)


class StrictCharField(serializers.CharField):
    """A JSON string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField, StrictCharField):
    """An email address, as a JSON string."""


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction (not "5", not true, not 5.0)."""

    def to_internal_value(self, data):
        if not is_json_integer(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerChoiceField(serializers.ChoiceField):
    """One of integer choices, as a JSON number."""

    def to_internal_value(self, data):
        if not is_json_integer(data):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """A JSON object body: anything else, or a field it does not declare, is a 400 naming it."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class IsoDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with milliseconds and Z: 2026-05-05T14:30:44.260Z (input: a JSON string
    in any ISO 8601 form)."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        return super().to_internal_value(value)

    def to_representation(self, value):
        return iso_utc(value)
