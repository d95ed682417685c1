"""Plain validation of an activity batch (POST /api/v2/rooms/{room_id}/activity).

A batch holds up to 1,000 events; checking them with plain Python instead of a nested DRF
serializer (one field object per value) takes a fraction of the time. The rules are those that
rooms.api.activity_serializers documents in the OpenAPI schema: JSON types as declared (no
coercion), no undeclared fields, the fields each kind takes. Every invalid value of the batch is
named (``events.3.at``) in one 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_datetime

from config.errors import InvalidInput
from rooms.activity import ENGAGEMENT, KINDS, MAX_EVENTS, VIEW, VISIT, ActivityEvent
from rooms.models import Engagement

# One view longer than a day is a client bug, and the cap keeps viewership sums in range.
MAX_VIEW_SECONDS = 24 * 60 * 60
MAX_ID_LENGTH = 255
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 255

_EVENT_FIELDS = {"id", "kind", "viewer", "at", "stepId", "actionId", "durationInSeconds", "type"}
_VIEWER_FIELDS = {"email", "name"}
# Fields each kind takes besides id, kind, viewer and at (targets are checked apart).
_REQUIRED = {VISIT: (), VIEW: ("durationInSeconds",), ENGAGEMENT: ("type",)}
_FORBIDDEN = {
    VISIT: ("stepId", "actionId", "durationInSeconds", "type"),
    VIEW: ("type",),
    ENGAGEMENT: ("durationInSeconds",),
}
_TYPES = set(Engagement.Type.values)
REQUIRED = "This field is required."


class _Invalid(Exception):
    def __init__(self, message: str):
        self.message = message


def activity_batch_parse(data) -> list[ActivityEvent]:
    """The events of a request body ``{"events": [...]}``, or InvalidInput naming every
    invalid field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("The body must be a JSON object.", fields={"events": [REQUIRED]})
    errors = {name: ["Unknown field."] for name in sorted(set(data) - {"events"})}
    items = data.get("events")
    if items is None:
        errors["events"] = [REQUIRED]
    elif not isinstance(items, list):
        errors["events"] = ["Must be a list of events."]
    elif len(items) > MAX_EVENTS:
        errors["events"] = [f"Ensure this field has no more than {MAX_EVENTS} elements."]
    if errors:
        _raise(errors)
    events = []
    for index, item in enumerate(items):
        event = _event(index, item, errors)
        if event is not None:
            events.append(event)
    if errors:
        _raise(errors)
    return events


def _raise(errors: dict[str, list[str]]) -> None:
    field, messages = next(iter(errors.items()))
    raise InvalidInput(f"{field}: {messages[0]}", fields=errors)


def _event(index: int, item, errors: dict) -> ActivityEvent | None:
    prefix = f"events.{index}"
    if not isinstance(item, Mapping):
        errors[prefix] = ["Must be an object."]
        return None
    own: dict[str, str] = {name: "Unknown field." for name in sorted(set(item) - _EVENT_FIELDS)}
    values = {}
    for name, parse in _PARSERS.items():
        if name in item:
            try:
                values[name] = parse(item[name])
            except _Invalid as error:
                own[name] = error.message
        elif name in ("id", "kind", "viewer", "at"):
            own[name] = REQUIRED
    viewer = values.get("viewer")
    if isinstance(viewer, dict) and "errors" in viewer:
        own.update({f"viewer.{name}": message for name, message in viewer["errors"].items()})
    if not own:
        own = _kind_rules(values)
    errors.update({f"{prefix}.{name}": [message] for name, message in own.items()})
    if own:
        return None
    return ActivityEvent(
        index=index,
        id=values["id"],
        kind=values["kind"],
        email=viewer["email"],
        name=viewer["name"],
        at=values["at"],
        step_id=values.get("stepId"),
        action_id=values.get("actionId"),
        duration_in_seconds=values.get("durationInSeconds", 0),
        engagement_type=values.get("type"),
    )


def _kind_rules(values: dict) -> dict[str, str]:
    kind = values["kind"]
    errors = {name: f"Required for a {kind}." for name in _REQUIRED[kind] if name not in values}
    errors |= {name: f"Not allowed for a {kind}." for name in _FORBIDDEN[kind] if name in values}
    if kind != VISIT:
        if "stepId" in values and "actionId" in values:
            errors["actionId"] = "Give stepId or actionId, not both."
        elif "stepId" not in values and "actionId" not in values:
            errors["stepId"] = f"A {kind} needs a stepId or an actionId."
    return errors


def _string(value, *, max_length: int, blank: bool = False) -> str:
    if not isinstance(value, str):
        raise _Invalid("Not a valid string.")
    if not blank and not value.strip():
        raise _Invalid("This field may not be blank.")
    if len(value) > max_length:
        raise _Invalid(f"Ensure this field has no more than {max_length} characters.")
    return value


def _id(value) -> str:
    return _string(value, max_length=MAX_ID_LENGTH)


def _kind(value) -> str:
    if value not in KINDS:
        raise _Invalid(f'"{value}" is not a valid choice.')
    return value


def _type(value) -> str:
    if not isinstance(value, str) or value not in _TYPES:
        raise _Invalid(f'"{value}" is not a valid choice.')
    return value


def _at(value) -> datetime:
    if not isinstance(value, str):
        raise _Invalid("Must be an ISO 8601 date and time.")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Invalid("Must be an ISO 8601 date and time.")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # without an offset it is UTC
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _Invalid("Datetime value out of the range.") from None


def _uuid(value) -> UUID:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise _Invalid("Must be a valid UUID.")


def _seconds(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("A valid integer is required.")
    if not 0 <= value <= MAX_VIEW_SECONDS:
        raise _Invalid(f"Must be between 0 and {MAX_VIEW_SECONDS}.")
    return value


def _viewer(value) -> dict:
    """The viewer's lower-cased email and name, or ``{"errors": {...}}`` naming its fields."""
    if not isinstance(value, Mapping):
        raise _Invalid("Must be an object with an email.")
    errors = {name: "Unknown field." for name in sorted(set(value) - _VIEWER_FIELDS)}
    email, name = None, ""
    try:
        email = _string(value["email"], max_length=MAX_EMAIL_LENGTH) if "email" in value else None
        if email is None:
            errors["email"] = REQUIRED
        else:
            validate_email(email)
    except _Invalid as error:
        errors["email"] = error.message
    except ValidationError:
        errors["email"] = "Enter a valid email address."
    try:
        name = _string(value.get("name", ""), max_length=MAX_NAME_LENGTH, blank=True)
    except _Invalid as error:
        errors["name"] = error.message
    if errors:
        return {"errors": errors}
    return {"email": email.lower(), "name": name}


_PARSERS = {
    "id": _id,
    "kind": _kind,
    "viewer": _viewer,
    "at": _at,
    "stepId": _uuid,
    "actionId": _uuid,
    "durationInSeconds": _seconds,
    "type": _type,
}
