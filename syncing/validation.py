"""Upstream JSON is checked at the edge, one record at a time: a record that does not fit is a
RecordError the caller records (naming the record and the field), not a crash of the run.

A schema is a ``Schema`` (msgspec, compiled: used where records are large or many, such as the
rooms platform's analytics) or a DRF serializer (the providers not moved yet). Both give the
record as plain dicts and lists with datetimes parsed, and defaults filled in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated

import msgspec
from rest_framework import serializers

from syncing.errors import RecordError


class Schema(msgspec.Struct):
    """Base of compiled upstream schemas; fields the schema does not name are ignored."""


# Text that may not be empty (ids, names of things).
NonBlank = Annotated[str, msgspec.Meta(min_length=1)]
# A count of something: never negative.
Count = Annotated[int, msgspec.Meta(ge=0)]
Percentage = Annotated[float, msgspec.Meta(ge=0, le=100)]
# As loose as the address part of Django's EmailValidator needs it to be stored and matched.
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

# msgspec's "… - at `$.sections[0].title`" and "Object missing required field `id`".
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def _schema_error(error: msgspec.ValidationError) -> str:
    """``path.to.field: message`` in the shape DRF's errors are reported in."""
    match = _AT.match(str(error))
    message, path = match["message"], match["path"] or ""
    path = re.sub(r"\[(\d+)\]", r".\1", path).strip(".")
    missing = _MISSING.match(message)
    if missing:
        path, message = ".".join(filter(None, [path, missing["field"]])), "This field is required."
    return f"{path}: {message}" if path else message


def _validate_schema(schema: type[Schema], raw: dict, id_field: str) -> dict:
    try:
        record = msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as error:
        upstream_id = raw.get(id_field)
        raise RecordError(
            f"invalid record: {_schema_error(error)}",
            upstream_id=str(upstream_id) if upstream_id is not None else None,
        ) from None
    return msgspec.to_builtins(record, builtin_types=(datetime,))


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


def validate_record(
    serializer_class: type[serializers.Serializer] | type[Schema], raw, *, id_field="id"
) -> dict:
    """The validated data of one upstream record, or RecordError naming what is wrong."""
    if not isinstance(raw, dict):
        raise RecordError(f"expected an object, got {type(raw).__name__}")
    if issubclass(serializer_class, Schema):
        return _validate_schema(serializer_class, raw, id_field)
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
    serializer_class: type[serializers.Serializer] | type[Schema],
    records: Iterable,
    *,
    id_field="id",
) -> Iterator[dict | RecordError]:
    """Each record validated, or the RecordError that stands for it."""
    for raw in records:
        try:
            yield validate_record(serializer_class, raw, id_field=id_field)
        except RecordError as error:
            yield error
