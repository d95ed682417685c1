"""The session CSV reports: registrants, attendee chat, operator chat and survey responses.

Each report is a generator of text chunks read from the database with a server-side cursor
(``iterator(chunk_size=...)``), so a report of any size streams in bounded memory. The compiled
report joins the very same generators, which is what makes its values equal the individual
bodies byte for byte.

Cells are written by :mod:`csv` (RFC 4180 quoting, CRLF line ends). A text cell that starts
with = + - @, a tab or a carriage return is prefixed with a single quote, so a spreadsheet shows
it as text instead of running it as a formula (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import groupby

from django.db.models import F
from django.db.models.functions import Coalesce

from config.formats import iso_utc
from events.models import ChatMessage, Registrant, Session, Survey, SurveyResponse

CHUNK_SIZE = 2000
FORMULA_PREFIXES = frozenset("=+-@\t\r")


class _Echo:
    """A file-like object whose write returns the line, so csv.writer produces strings."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if isinstance(value, str):
        return "'" + value if value[:1] in FORMULA_PREFIXES else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    return str(value)  # numbers: a leading minus is a sign, not a formula


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text of ``header`` and ``rows``, yielded a few hundred rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow([_cell(name) for name in header])
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow([_cell(value) for value in row]))
        if len(batch) == 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _answers(answers, questions: list[str]) -> list:
    answers = answers if isinstance(answers, dict) else {}
    return [answers.get(question, "") for question in questions]


def registrants_csv(session: Session) -> Iterator[str]:
    """id, email, names, registration and attendance, then one column per registration
    question, ordered by registration time."""
    questions = list(session.questions)
    header = [
        "id",
        "email",
        "firstName",
        "lastName",
        "registeredAt",
        "attended",
        "joinedAt",
        "leftAt",
        "minutesWatched",
        *questions,
    ]
    rows = (
        Registrant.objects.filter(session=session)
        .order_by("registered_at", "id")
        .values_list(
            "id",
            "email",
            "first_name",
            "last_name",
            "registered_at",
            "attended",
            "joined_at",
            "left_at",
            "minutes_watched",
            "answers",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_lines(header, ((*row[:-1], *_answers(row[-1], questions)) for row in rows))


CHAT_HEADER = ["sentAt", "senderName", "senderEmail", "message", "private"]


def chat_csv(session: Session, kind: ChatMessage.Kind) -> Iterator[str]:
    """The attendee or operator chat log in the order it was sent."""
    rows = (
        ChatMessage.objects.filter(session=session, kind=kind)
        .order_by("sent_at", "id")
        .annotate(
            sender_first=Coalesce(F("registrant__first_name"), F("operator__first_name")),
            sender_last=Coalesce(F("registrant__last_name"), F("operator__last_name")),
            sender_email=Coalesce(F("registrant__email"), F("operator__email")),
        )
        .values_list("sent_at", "sender_first", "sender_last", "sender_email", "text", "is_private")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_lines(
        CHAT_HEADER,
        (
            (sent_at, f"{first} {last}".strip(), email, text, private)
            for sent_at, first, last, email, text, private in rows
        ),
    )


def _survey_responses(responses) -> Iterator[tuple]:
    return (
        responses.order_by("survey_id", "submitted_at", "id")
        .values_list(
            "survey_id",
            "id",
            "registrant__email",
            "registrant__first_name",
            "registrant__last_name",
            "submitted_at",
            "answers",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _survey_lines(survey: Survey, responses: Iterable[tuple]) -> Iterator[str]:
    questions = list(survey.questions)
    header = ["responseId", "email", "firstName", "lastName", "submittedAt", *questions]
    return csv_lines(header, ((*row[1:-1], *_answers(row[-1], questions)) for row in responses))


def survey_csv(survey: Survey) -> Iterator[str]:
    """One survey's responses: who answered, when, then one column per question."""
    return _survey_lines(survey, _survey_responses(SurveyResponse.objects.filter(survey=survey)))


def compiled_report(session: Session) -> dict:
    """Every report of the session, as the compiled report's JSON object. Survey responses
    of all surveys come from one query, grouped by survey."""
    surveys = list(Survey.objects.filter(session=session).order_by("id"))
    responses = groupby(
        _survey_responses(SurveyResponse.objects.filter(survey__session=session)),
        key=lambda row: row[0],
    )
    responses_by_survey = {survey_id: list(rows) for survey_id, rows in responses}
    return {
        "registrants": "".join(registrants_csv(session)),
        "operatorChat": "".join(chat_csv(session, ChatMessage.Kind.OPERATOR)),
        "attendeeChat": "".join(chat_csv(session, ChatMessage.Kind.ATTENDEE)),
        "surveys": {
            str(survey.id): "".join(_survey_lines(survey, responses_by_survey.get(survey.id, [])))
            for survey in surveys
        },
    }
