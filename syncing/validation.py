"""Upstream JSON is checked at the edge, one record at a time, with DRF serializers: a record
that does not fit is a RecordError the caller records, not a crash of the run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rest_framework import serializers

from syncing.errors import RecordError


class Text(serializers.CharField):
    """Upstream text kept exactly as sent: DRF's CharField trims surrounding whitespace by
    default, which would change titles and CSV bodies (and make unchanged rows look changed)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


def _flatten(errors, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        return [
            message
            for field, nested in errors.items()
            for message in _flatten(nested, f"{prefix}{field}.")
        ]
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        return [
            message
            for index, nested in enumerate(errors)
            for message in _flatten(nested, f"{prefix}{index}.")
        ]
    return [f"{prefix.rstrip('.')}: {message}" for message in errors]


def validate_record(serializer_class: type[serializers.Serializer], raw, *, id_field="id") -> dict:
    """The validated data of one upstream record, or RecordError naming what is wrong."""
    if not isinstance(raw, dict):
        raise RecordError(f"expected an object, got {type(raw).__name__}")
    serializer = serializer_class(data=raw)
    if not serializer.is_valid():
        upstream_id = raw.get(id_field)
        raise RecordError(
            "invalid record: " + "; ".join(_flatten(serializer.errors)),
            upstream_id=str(upstream_id) if upstream_id is not None else None,
            errors=serializer.errors,
        )
    return serializer.validated_data


def validate_records(
    serializer_class: type[serializers.Serializer], records: Iterable, *, id_field="id"
) -> Iterator[dict | RecordError]:
    """Each record validated, or the RecordError that stands for it."""
    for raw in records:
        try:
            yield validate_record(serializer_class, raw, id_field=id_field)
        except RecordError as error:
            yield error
