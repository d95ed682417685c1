"""Webinar body fields beyond the shared strict toolkit (config.fields)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


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


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time HH:MM:SS, as spec 004 writes it ("24 hour format, HH:MI:SS"); the
    zone is the event's ``timezone``. Declared as a pattern, not OpenAPI's ``time`` format,
    which requires an offset this field never has."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M:%S", input_formats=["%H:%M:%S"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="HH:MM:SS")
        return super().to_internal_value(value)
