"""JSON body fields that take only the JSON type the schema declares (DRF's own fields also
coerce: 12 into "12", "true" into True, "5" into 5), so the API accepts what its OpenAPI
schema says and nothing else."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def _is_integer(data) -> bool:
    return isinstance(data, int) and not isinstance(data, bool)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not _is_integer(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not _is_integer(data):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "number", "minimum": 0.01, "maximum": 168})
class HoursField(serializers.DecimalField):
    """A JSON number of hours, 0.01 to 168, at most two decimals."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=5,
            decimal_places=2,
            min_value=Decimal("0.01"),
            max_value=Decimal(168),
            coerce_to_string=False,
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)

    def to_representation(self, value) -> float:
        return float(super().to_representation(value))
