"""The session page: registrations chart, attendance and replay counts, CSV downloads; the
sessions list's counts and times with their zone."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.events.factories import RegistrantFactory, SessionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(cast, client):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)
    return client


@pytest.fixture
def session(cast):
    session = SessionFactory(
        workspace=cast.workspace,
        date=dt.date(2026, 5, 5),
        time=dt.time(16),
        timezone="Europe/Berlin",
    )
    at = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    RegistrantFactory(session=session, registered_at=at, email="a@x.example", attended=True)
    RegistrantFactory(session=session, registered_at=at, email="b@x.example", minutes_watched=9)
    RegistrantFactory(session=session, registered_at=at + dt.timedelta(days=2), email="c@x.example")
    return session


def test_the_session_page_shows_counts_and_report_links(staff, session):
    SurveyFactory(session=session, title="NPS")
    html = staff.get(f"/admin/events/session/{session.pk}/change/").content.decode()

    assert 'data-figure="session.registered">3<' in html
    assert 'data-figure="session.attended">1<' in html
    assert 'data-figure="session.watched_replay">1<' in html
    assert "2026-05-05 16:00 Europe/Berlin (5 May 2026, 14:00 UTC)" in html
    survey = session.surveys.get()
    for report in ("registrants", "attendee-chat", "operator-chat", f"survey-{survey.pk}"):
        assert f"/admin/events/session/{session.pk}/report/{report}.csv" in html


def test_a_report_downloads_as_csv(staff, session):
    response = staff.get(f"/admin/events/session/{session.pk}/report/registrants.csv")
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "a@x.example" in body
    assert "c@x.example" in body


@pytest.mark.parametrize("report", ["secrets", "survey-999", "survey-x", "bogus-chat"])
def test_an_unknown_report_is_not_found(staff, session, report):
    response = staff.get(f"/admin/events/session/{session.pk}/report/{report}.csv")
    assert response.status_code == 404


def test_another_workspaces_session_report_is_not_found(cast, client, session):
    cast.outsider.user.is_staff = True
    cast.outsider.user.save()
    client.force_login(cast.outsider.user)
    response = client.get(f"/admin/events/session/{session.pk}/report/registrants.csv")
    assert response.status_code == 404


def test_the_sessions_list_shows_counts_and_zone(staff, session):
    html = staff.get("/admin/events/session/").content.decode()
    assert "2026-05-05 16:00 Europe/Berlin (5 May 2026, 14:00 UTC)" in html
    cells = dict(re.findall(r'class="field-(\w+)[^>]*>\s*([^<]*?)\s*<', html))
    assert cells["registrants_count"] == "3"
    assert cells["attendees_count"] == "1"
