"""The dashboard's period: the last 7, 30 or 90 UTC days, or a custom range of whole days."""

from __future__ import annotations

from datetime import date, timedelta

from rest_framework import serializers

from rooms.dashboard import Period, period_last_days

PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_CUSTOM_DAYS = 366


class PeriodQuerySerializer(serializers.Serializer):
    """``days`` (7, 30 or 90), or ``start`` and ``end`` (dates, both included) for a custom
    period of at most 366 days. Neither: the last 30 days."""

    days = serializers.ChoiceField(choices=PRESET_DAYS, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def to_internal_value(self, data):
        # DRF reads an empty query parameter as an absent one; "start=" is a mistake.
        blank = [name for name in self.fields if data.get(name) == ""]
        if blank:
            raise serializers.ValidationError({name: ["May not be blank."] for name in blank})
        return super().to_internal_value(data)

    def validate(self, attrs):
        custom = [name for name in ("start", "end") if name in attrs]
        if custom and "days" in attrs:
            raise serializers.ValidationError({"days": ["Give days, or start and end, not both."]})
        if len(custom) == 1:
            missing = ({"start", "end"} - set(custom)).pop()
            raise serializers.ValidationError({missing: ["A custom period needs start and end."]})
        if custom:
            if attrs["end"] < attrs["start"]:
                raise serializers.ValidationError({"end": ["end is before start."]})
            if (attrs["end"] - attrs["start"]).days + 1 > MAX_CUSTOM_DAYS:
                raise serializers.ValidationError(
                    {"end": [f"A custom period spans at most {MAX_CUSTOM_DAYS} days."]}
                )
        return attrs


def period_from(params: dict, *, today: date) -> Period:
    """The Period of validated PeriodQuerySerializer data."""
    if "start" in params:
        return Period(start=params["start"], end=params["end"] + timedelta(days=1))
    return period_last_days(params.get("days", DEFAULT_DAYS), today=today)
