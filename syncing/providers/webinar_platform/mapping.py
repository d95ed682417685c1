"""Upstream webinar records as rows of the events app.

Each ``*_row``/``*_record`` function takes a record validated at the edge and returns the
model fields it sets (by attribute name), or raises ``RecordError`` naming the record when it
cannot be stored: a value outside our columns' limits (checked by the model fields' own
validators), an operator it names that we do not have, a wall-clock start that does not exist.

The compiled report's CSV bodies are read back in the format flowsync itself writes
(``events/csv_reports.py``): RFC 4180 with a header row, ISO 8601 times, ``true``/``false``,
and a text cell that starts like a formula prefixed with ``'`` (taken off again here).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from events.csv_reports import FORMULA_PREFIXES
from events.models import Event, Operator, Session, SessionOperator, Survey
from syncing.errors import RecordError
from syncing.providers.webinar_platform import schemas
from syncing.validation import Text

# --- shapes: the upstream schemas narrowed to what our columns hold --------------------------


class PulledRegistrant(schemas.Registrant):
    """A registrant of the report list (flowsync serves it as ``RegistrantReportOutput``)."""

    email = serializers.EmailField(max_length=254)
    firstName = Text(max_length=150, required=False, allow_blank=True, allow_null=True)
    lastName = Text(max_length=150, required=False, allow_blank=True, allow_null=True)
    # Required here: a registration without its time could not be mirrored stably.
    registeredAt = serializers.DateTimeField()
    answers = serializers.DictField(child=Text(allow_blank=True), required=False, allow_null=True)
    joinedAt = serializers.DateTimeField(required=False, allow_null=True)
    leftAt = serializers.DateTimeField(required=False, allow_null=True)
    minutesWatched = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, default=0
    )


class PulledSurvey(schemas.Survey):
    questions = serializers.ListField(child=Text(), required=False, default=list)
    createdAt = serializers.DateTimeField(required=False, allow_null=True)


# --- rows -------------------------------------------------------------------------------------


def _checked(instance: models.Model, upstream_id: str, *, exclude: list[str]) -> None:
    """The model fields' own validators (lengths, ranges, choices, JSON shapes); no queries."""
    try:
        instance.clean_fields(exclude=exclude)
    except DjangoValidationError as error:
        problems = [f"{field}: {' '.join(texts)}" for field, texts in error.message_dict.items()]
        raise RecordError(
            "invalid record: " + "; ".join(problems), upstream_id=upstream_id
        ) from None


def operator_row(data: dict) -> dict:
    row = {
        "email": data["email"],
        "first_name": data.get("firstName") or "",
        "last_name": data.get("lastName") or "",
        "permission": data["permission"],
        "upstream_id": str(data["id"]),
    }
    _checked(Operator(**row), str(data["id"]), exclude=["workspace"])
    return row


@dataclass
class SessionRecord:
    """One upstream session: its event's fields, its own, and its operators (local operator
    id -> role and rights)."""

    token: str
    event_token: str
    event: dict
    session: dict
    operators: dict[int, dict]


# Upstream name -> Session field. A null or absent value stores flowsync's default.
SESSION_FIELDS = {
    "date": "date",
    "time": "time",
    "timezone": "timezone",
    "duration": "duration",
    "earlyAccessPeriod": "early_access_period",
    "published": "published",
    "videoRecord": "video_record",
    "onDemandReplays": "on_demand_replays",
    "privatizeChat": "privatize_chat",
    "emailMessage": "email_message",
    "hasQnA": "has_qna",
    "useAdvancedQna": "use_advanced_qna",
    "qnaPublicByDefault": "qna_public_by_default",
    "redirectUrl": "redirect_url",
    "reminderOne": "reminder_one",
    "reminderTwo": "reminder_two",
    "hasRecording": "has_recording",
    "refSources": "ref_sources",
    "questions": "questions",
}


def _operator(ref: dict | None, operators: dict[str, int], token: str, what: str) -> int:
    upstream_id = ref.get("id") if ref else None
    if str(upstream_id) not in operators:
        raise RecordError(
            f"{what}: operator {upstream_id!r} is not on the platform's operator list",
            upstream_id=token,
        )
    return operators[str(upstream_id)]


def _hours(value):
    """The upstream's hours are a JSON number; ours a Decimal with two places."""
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return value  # left for the field's validation to name


def session_record(data: dict, *, operators: dict[str, int]) -> SessionRecord:
    """``data``: a session validated with ``schemas.Session``; ``operators``: upstream
    operator id -> local operator id."""
    token = data["token"]
    event = {
        "title": data["title"],
        "description": data.get("description") or "",
        "creator_id": _operator(data.get("creator"), operators, token, "creator"),
        "upstream_id": data["eventToken"],
    }
    if data.get("createDate"):
        event["created_at"] = data["createDate"]
    session = {
        name: Session._meta.get_field(name).get_default()
        if data.get(upstream) is None
        else data[upstream]
        for upstream, name in SESSION_FIELDS.items()
    }
    session["duration"] = _hours(session["duration"])
    session["upstream_id"] = token
    instance = Session(**session)
    _checked(Event(**event), token, exclude=["workspace", "creator"])
    _checked(instance, token, exclude=["event", "starts_at", "opens_at", "ends_at"])
    try:
        instance.schedule()
    except DjangoValidationError as error:
        message = f"invalid record: time: {' '.join(error.messages)}"
        raise RecordError(message, upstream_id=token) from None
    session |= {name: getattr(instance, name) for name in ("starts_at", "opens_at", "ends_at")}
    assignments = {}
    for ref in data.get("operators") or []:
        operator_id = _operator(ref, operators, token, "operators")
        if ref.get("role") not in SessionOperator.Role.values:
            raise RecordError(
                f"invalid record: operators: role {ref.get('role')!r} is not 5 or 10",
                upstream_id=token,
            )
        assignments[operator_id] = {
            "role": ref["role"],
            "mic_enabled": ref.get("micEnabled", False),
            "cam_enabled": ref.get("camEnabled", False),
            "screen_sharing_enabled": ref.get("screenSharingEnabled", False),
        }
    return SessionRecord(token, data["eventToken"], event, session, assignments)


def registrant_row(data: dict) -> dict:
    """``data`` validated with ``PulledRegistrant`` (its limits are the columns')."""
    return {
        "email": data["email"],
        "first_name": data.get("firstName") or "",
        "last_name": data.get("lastName") or "",
        "answers": data.get("answers") or {},
        "registered_at": data["registeredAt"],
        "attended": data["attended"],
        "joined_at": data.get("joinedAt"),
        "left_at": data.get("leftAt"),
        "minutes_watched": data["minutesWatched"],
    }


def survey_row(data: dict) -> dict:
    row = {
        "title": data.get("title") or "",
        "questions": data["questions"],
        "upstream_id": data["id"],
    }
    if data.get("createdAt"):
        row["created_at"] = data["createdAt"]
    _checked(Survey(**row), data["id"], exclude=["session"])
    return row


# --- the compiled report's CSV bodies ---------------------------------------------------------


def _text(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_PREFIXES else cell


def _moment(value: str, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"{what}: {value!r} is not an ISO 8601 time with a UTC offset")
    return moment


def _flag(value: str, what: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"{what}: {value!r} is not true or false")
    return value == "true"


def csv_rows(body: str, *, where: str) -> Iterator[dict[str, str] | RecordError]:
    """Each data line of a CSV body as {header cell: cell} (formula guards taken off), or a
    RecordError whose upstream id is ``<where>:<line number>``."""
    lines = csv.reader(io.StringIO(body))
    header = [_text(cell) for cell in next(lines, [])]
    for number, cells in enumerate(lines, start=2):
        if len(cells) != len(header):
            yield RecordError(
                f"{len(cells)} cells where the header has {len(header)}",
                upstream_id=f"{where}:{number}",
            )
        else:
            yield {
                "_line": f"{where}:{number}",
                **dict(zip(header, map(_text, cells), strict=True)),
            }


@dataclass(frozen=True)
class ChatLine:
    sender_email: str  # lower-cased
    sent_at: dt.datetime
    text: str
    is_private: bool


def chat_line(row: dict[str, str]) -> ChatLine:
    try:
        return ChatLine(
            sender_email=row["senderEmail"].lower(),
            sent_at=_moment(row["sentAt"], "sentAt"),
            text=row["message"],
            is_private=_flag(row["private"], "private"),
        )
    except (KeyError, ValueError) as error:
        raise RecordError(f"invalid chat line: {error}", upstream_id=row["_line"]) from None


FIXED_SURVEY_COLUMNS = ("_line", "responseId", "email", "firstName", "lastName", "submittedAt")


@dataclass(frozen=True)
class SurveyAnswer:
    email: str  # lower-cased
    submitted_at: dt.datetime
    answers: dict[str, str]


def survey_answer(row: dict[str, str]) -> SurveyAnswer:
    """A survey response line; a question left empty is one not answered."""
    try:
        return SurveyAnswer(
            email=row["email"].lower(),
            submitted_at=_moment(row["submittedAt"], "submittedAt"),
            answers={
                question: answer
                for question, answer in row.items()
                if question not in FIXED_SURVEY_COLUMNS and answer != ""
            },
        )
    except (KeyError, ValueError) as error:
        raise RecordError(f"invalid survey response: {error}", upstream_id=row["_line"]) from None
