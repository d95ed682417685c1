"""CSV reports: hostile content read back with the csv module, streaming, compiled report."""

import csv
import datetime as dt
import io
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import ChatMessage
from tests.events.factories import (
    ChatMessageFactory,
    OperatorFactory,
    RegistrantFactory,
    SessionFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/events/sessions"


def body_of(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def hostile_session(cast):
    session = SessionFactory(
        workspace=cast.workspace, questions=["Company, size?", "=Evil()", "Why?"]
    )
    RegistrantFactory(
        session=session,
        email="mallory@x.example",
        first_name='=HYPERLINK("http://evil.example","click")',
        last_name='O"Brien, Jr.',
        answers={"Company, size?": "+1 555", "=Evil()": "@SUM(A1:A9)", "Why?": "two\nlines"},
        registered_at=dt.datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        attended=True,
        joined_at=dt.datetime(2026, 5, 5, 13, 55, 0, 500000, tzinfo=UTC),
        minutes_watched=42,
    )
    RegistrantFactory(
        session=session,
        email="zoe@x.example",
        first_name="Zoë 🎉",
        last_name="\tTabbed",
        answers={"Why?": "-2+3"},
        registered_at=dt.datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
    )
    return session


def test_registrants_csv_reads_back_exactly(cast, hostile_session):
    response = cast.owner.client("api-secret").get(
        f"{REPORTS}/registrants/{hostile_session.token}/csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="registrants-{hostile_session.token}.csv"'
    )
    text = body_of(response)
    assert text.endswith("\r\n")
    header, first, second = rows_of(text)
    assert header == [
        "id",
        "email",
        "firstName",
        "lastName",
        "registeredAt",
        "attended",
        "joinedAt",
        "leftAt",
        "minutesWatched",
        "Company, size?",
        "'=Evil()",
        "Why?",
    ]
    assert first[1:] == [
        "mallory@x.example",
        '\'=HYPERLINK("http://evil.example","click")',
        'O"Brien, Jr.',
        "2026-05-01T09:00:00.000Z",
        "true",
        "2026-05-05T13:55:00.500Z",
        "",
        "42",
        "'+1 555",
        "'@SUM(A1:A9)",
        "two\nlines",
    ]
    assert second[1:] == [
        "zoe@x.example",
        "Zoë 🎉",
        "'\tTabbed",
        "2026-05-01T10:00:00.000Z",
        "false",
        "",
        "",
        "0",
        "",
        "",
        "'-2+3",
    ]


def test_registrants_csv_quotes_as_rfc4180(cast, hostile_session):
    text = body_of(cast.owner.client().get(f"{REPORTS}/registrants/{hostile_session.token}/csv"))
    assert '"\'=HYPERLINK(""http://evil.example"",""click"")"' in text
    assert '"O""Brien, Jr."' in text
    assert '"two\nlines"' in text


def test_an_empty_session_has_a_header_only(cast, session_a):
    text = body_of(cast.owner.client().get(f"{REPORTS}/registrants/{session_a.token}/csv"))
    assert text == (
        "id,email,firstName,lastName,registeredAt,attended,joinedAt,leftAt,minutesWatched\r\n"
    )


@pytest.fixture
def chat_session(cast):
    session = SessionFactory(workspace=cast.workspace)
    ada = RegistrantFactory(session=session, email="ada@x.example", first_name="Ada", last_name="L")
    olga = OperatorFactory(
        workspace=cast.workspace, email="olga@acme.example", first_name="Olga", last_name="O"
    )
    ChatMessageFactory(
        session=session,
        registrant=ada,
        text='=1+1, "quoted"\nnext line',
        sent_at=dt.datetime(2026, 5, 5, 14, 2, tzinfo=UTC),
    )
    ChatMessageFactory(
        session=session,
        registrant=ada,
        text="private 🤫",
        is_private=True,
        sent_at=dt.datetime(2026, 5, 5, 14, 1, tzinfo=UTC),
    )
    ChatMessageFactory(
        session=session,
        kind=ChatMessage.Kind.OPERATOR,
        registrant=None,
        operator=olga,
        text="@here welcome",
        sent_at=dt.datetime(2026, 5, 5, 14, 0, tzinfo=UTC),
    )
    return session


def test_attendee_chat_csv(cast, chat_session):
    response = cast.owner.client().get(f"{REPORTS}/attendee-chat/{chat_session.token}/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="attendee-chat-{chat_session.token}.csv"'
    )
    assert rows_of(body_of(response)) == [
        ["sentAt", "senderName", "senderEmail", "message", "private"],
        ["2026-05-05T14:01:00.000Z", "Ada L", "ada@x.example", "private 🤫", "true"],
        [
            "2026-05-05T14:02:00.000Z",
            "Ada L",
            "ada@x.example",
            '\'=1+1, "quoted"\nnext line',
            "false",
        ],
    ]


def test_operator_chat_csv(cast, chat_session):
    response = cast.owner.client().get(f"{REPORTS}/operator-chat/{chat_session.token}/csv")
    assert rows_of(body_of(response)) == [
        ["sentAt", "senderName", "senderEmail", "message", "private"],
        ["2026-05-05T14:00:00.000Z", "Olga O", "olga@acme.example", "'@here welcome", "false"],
    ]


@pytest.fixture
def survey(cast, session_a):
    survey = SurveyFactory(session=session_a, questions=["Score", "Comment"])
    SurveyResponseFactory(
        survey=survey,
        registrant=RegistrantFactory(session=session_a, email="b@x.example", first_name="Bo"),
        answers={"Score": "-1", "Comment": "Too long,\r\nbut good"},
        submitted_at=dt.datetime(2026, 5, 5, 15, 1, tzinfo=UTC),
    )
    SurveyResponseFactory(
        survey=survey,
        registrant=RegistrantFactory(session=session_a, email="a@x.example", first_name="Al"),
        answers={"Score": "5"},
        submitted_at=dt.datetime(2026, 5, 5, 15, 0, tzinfo=UTC),
    )
    return survey


def test_survey_csv(cast, session_a, survey):
    response = cast.owner.client().get(f"{REPORTS}/surveys/{session_a.token}/{survey.id}/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="survey-{survey.id}-{session_a.token}.csv"'
    )
    header, first, second = rows_of(body_of(response))
    assert header == [
        "responseId",
        "email",
        "firstName",
        "lastName",
        "submittedAt",
        "Score",
        "Comment",
    ]
    assert first[1:] == ["a@x.example", "Al", "Attendee", "2026-05-05T15:00:00.000Z", "5", ""]
    assert second[1:] == [
        "b@x.example",
        "Bo",
        "Attendee",
        "2026-05-05T15:01:00.000Z",
        "'-1",
        "Too long,\r\nbut good",
    ]


def test_survey_of_another_session_is_404(cast, session_a):
    elsewhere = SurveyFactory(session=SessionFactory(workspace=cast.workspace))
    response = cast.owner.client().get(f"{REPORTS}/surveys/{session_a.token}/{elsewhere.id}/csv")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_errors_stay_json_when_csv_is_accepted(cast):
    response = cast.owner.client().get(f"{REPORTS}/registrants/nope/csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_compiled_report_equals_the_individual_reports(cast, hostile_session, settings):
    ada = hostile_session.registrants.first()
    ChatMessageFactory(session=hostile_session, registrant=ada, text="=cmd|' /C calc'!A0")
    ChatMessageFactory(
        session=hostile_session,
        kind=ChatMessage.Kind.OPERATOR,
        registrant=None,
        operator=OperatorFactory(workspace=cast.workspace),
        text='Hi, "all" 👋',
    )
    poll = SurveyFactory(session=hostile_session, questions=["Q1"])
    SurveyResponseFactory(survey=poll, registrant=ada, answers={"Q1": "+yes"})
    empty = SurveyFactory(session=hostile_session, questions=["Q2"])
    exit_survey = SurveyFactory(session=hostile_session, questions=["Q3", "Q4"])
    SurveyResponseFactory(survey=exit_survey, registrant=ada, answers={"Q3": "a", "Q4": "b"})
    client = cast.owner.client()
    token = hostile_session.token

    compiled = client.get(f"{REPORTS}/compiled/{token}")

    assert compiled.status_code == 200
    assert compiled.json() == {
        "registrants": body_of(client.get(f"{REPORTS}/registrants/{token}/csv")),
        "operatorChat": body_of(client.get(f"{REPORTS}/operator-chat/{token}/csv")),
        "attendeeChat": body_of(client.get(f"{REPORTS}/attendee-chat/{token}/csv")),
        "surveys": {
            str(survey.id): body_of(client.get(f"{REPORTS}/surveys/{token}/{survey.id}/csv"))
            for survey in (poll, empty, exit_survey)
        },
    }
    assert rows_of(compiled.json()["surveys"][str(poll.id)])[1][-1] == "'+yes"


def test_compiled_report_query_count_does_not_grow_with_surveys(cast, session_a):
    client = cast.owner.client()
    client.get("/api/whoami")
    SurveyResponseFactory(survey=SurveyFactory(session=session_a))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{REPORTS}/compiled/{session_a.token}").status_code == 200
        return len(queries)

    one = count()
    for _ in range(4):
        SurveyResponseFactory.create_batch(2, survey=SurveyFactory(session=session_a))
    assert count() == one
