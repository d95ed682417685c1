"""The webinar platform client against the fake webinar platform over a real socket."""

from __future__ import annotations

import pytest

from syncing import errors
from syncing.providers.webinar_platform import schemas
from syncing.services import connection_client
from syncing.validation import validate_records

pytestmark = pytest.mark.django_db


def test_sessions_by_period_with_simple_analytics(webinar_connection, webinar_fake):
    past = webinar_fake.add_session(period="past", title="Launch recap")
    webinar_fake.add_session(period="future", title="Roadmap")
    webinar_fake.add_registrant(past["token"], attended=True)
    webinar_fake.add_registrant(past["token"])

    client = connection_client(webinar_connection)
    sessions = client.sessions(period="past")

    assert [s["title"] for s in sessions] == ["Launch recap"]
    # 2 registrants, 1 attended.
    assert sessions[0]["analytics"] == {"registrants": 2, "attendees": 1, "attendanceRate": 0.5}
    assert len(client.sessions()) == 2


def test_session_info_is_validated(webinar_connection, webinar_fake):
    session = webinar_fake.add_session(title="Launch", duration=1.5)
    client = connection_client(webinar_connection)

    info = client.session_info(session["token"])

    assert info["title"] == "Launch"
    assert info["duration"] == 1.5
    assert str(info["date"]) == "2026-12-01"

    with pytest.raises(errors.NotFoundError):
        client.session_info("no-such-session")


def test_registrants_page_by_x_total_count_and_bad_records_are_failures(
    webinar_connection, webinar_fake
):
    session = webinar_fake.add_session()
    for n in range(5):
        webinar_fake.add_registrant(session["token"], email=f"p{n}@example.com")
    webinar_fake.registrants[session["token"]][3]["email"] = "not-an-email"
    client = connection_client(webinar_connection)

    pages = list(client.registrant_pages(session["token"], limit=2))
    raw = [record for page in pages for record in page]
    records = list(validate_records(schemas.Registrant, raw, id_field="email"))

    # 5 registrants at 2 per page: 2, 2 and 1, stopped by the total.
    assert [len(page) for page in pages] == [2, 2, 1]
    assert webinar_fake.count("GET", "/api/v1/reports/events/sessions/registrants/") == 3
    bad = [r for r in records if isinstance(r, errors.RecordError)]
    assert [(r.upstream_id, r.message) for r in bad] == [
        ("not-an-email", "invalid record: email: Enter a valid email address.")
    ]


def test_operators_surveys_and_compiled_report(webinar_connection, webinar_fake):
    session = webinar_fake.add_session()
    webinar_fake.surveys[session["token"]] = [{"id": "sv1", "title": "NPS", "questions": []}]
    webinar_fake.reports[session["token"]] = {
        "registrants": "email\r\np0@example.com\r\n",
        "operatorChat": "",
        "attendeeChat": "sender,text\r\np0@example.com,hi\r\n",
        "surveys": {"sv1": "email,score\r\np0@example.com,9\r\n"},
    }
    client = connection_client(webinar_connection)

    assert [o["email"] for o in client.operators()] == ["host@flow.example"]
    assert client.surveys(session["token"])[0]["id"] == "sv1"
    report = client.compiled_report(session["token"])
    assert report["surveys"] == {"sv1": "email,score\r\np0@example.com,9\r\n"}


def test_event_creation_and_registration(webinar_connection, webinar_fake):
    client = connection_client(webinar_connection)

    created = client.event_create(
        {
            "title": "Q3 webinar",
            "description": "",
            "date": "2026-12-02",
            "time": "16:00:00",
            "timezone": "UTC",
            "creatorID": 1,
            "operators": [],
        }
    )
    body = {
        "email": "ana@example.com",
        "firstName": "Ana",
        "lastName": "Lima",
        "eventSessionToken": created["token"],
    }
    first = client.registrant_create(body)
    again = client.registrant_create(body)

    assert created["token"] in webinar_fake.sessions
    assert first["email"] == again["email"] == "ana@example.com"
    assert len(webinar_fake.registrants[created["token"]]) == 1


def test_a_lost_registration_response_is_transient_and_applied_once(
    webinar_connection, webinar_fake
):
    session = webinar_fake.add_session()
    webinar_fake.inject("lost", method="POST")
    client = connection_client(webinar_connection)
    body = {"email": "ana@example.com", "eventSessionToken": session["token"]}

    with pytest.raises(errors.TransientError):
        client.registrant_create(body)

    assert [r["email"] for r in webinar_fake.registrants[session["token"]]] == ["ana@example.com"]


def test_a_wrong_secret_is_an_auth_error(webinar_connection, webinar_fake):
    webinar_fake.api_key = "rotated"

    with pytest.raises(errors.AuthError):
        connection_client(webinar_connection).operators()
