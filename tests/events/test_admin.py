"""The webinar admin: scoping, nested event editing, registrant search and filters, the CSV
report action, read-only survey responses and chat."""

import datetime as dt
import io
import zipfile
from datetime import UTC

import pytest

from events.models import Event, Registrant, Session
from rooms.models import Contact
from tests.events.factories import (
    ChatMessageFactory,
    OperatorFactory,
    RegistrantFactory,
    SurveyFactory,
    SurveyResponseFactory,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, cast):
    user = cast.owner.user
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_operators_are_scoped(staff, cast):
    OperatorFactory(workspace=cast.workspace, email="mine@acme.example")
    OperatorFactory(workspace=cast.other_workspace, email="theirs@globex.example")
    html = page(staff.get("/admin/events/operator/"))
    assert "mine@acme.example" in html
    assert "theirs@globex.example" not in html


def event_form(cast, creator, operator, **session):
    data = {
        "workspace": cast.workspace.pk,
        "creator": creator.pk,
        "title": "Admin-made webinar",
        "description": "",
        "created_at_0": "2026-05-01",
        "created_at_1": "09:00:00",
        "sessions-TOTAL_FORMS": "1",
        "sessions-INITIAL_FORMS": "0",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "1000",
        "sessions-0-date": "2026-10-25",
        "sessions-0-time": "10:00:00",
        "sessions-0-timezone": "Europe/Berlin",
        "sessions-0-duration": "1.5",
        "sessions-0-early_access_period": "5",
        "sessions-0-privatize_chat": "0",
        "sessions-0-reminder_one": "24",
        "sessions-0-reminder_two": "1",
        "sessions-0-ref_sources": "[]",
        "sessions-0-questions": '["Role?"]',
        "sessions-0-published": "on",
        "sessions-0-session_operators-TOTAL_FORMS": "1",
        "sessions-0-session_operators-INITIAL_FORMS": "0",
        "sessions-0-session_operators-MIN_NUM_FORMS": "0",
        "sessions-0-session_operators-MAX_NUM_FORMS": "1000",
        "sessions-0-session_operators-0-operator": operator.pk,
        "sessions-0-session_operators-0-role": "10",
        "sessions-0-session_operators-0-mic_enabled": "on",
    }
    data.update({f"sessions-0-{key}": value for key, value in session.items()})
    return data


def test_an_event_with_session_and_operators_is_created_nested(staff, cast):
    creator = OperatorFactory(workspace=cast.workspace)
    response = staff.post("/admin/events/event/add/", event_form(cast, creator, creator))

    assert response.status_code == 302, response.content.decode()[:3000]
    session = Session.objects.get()
    # 10:00 CET on 25 October 2026 (after the fall-back change) is 09:00Z.
    assert session.starts_at == dt.datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert session.opens_at == dt.datetime(2026, 10, 25, 8, 55, tzinfo=UTC)
    assert session.ends_at == dt.datetime(2026, 10, 25, 10, 30, tzinfo=UTC)
    [assignment] = session.session_operators.all()
    assert (assignment.operator, assignment.role, assignment.mic_enabled) == (creator, 10, True)


def test_admin_rejects_an_ambiguous_local_time(staff, cast):
    creator = OperatorFactory(workspace=cast.workspace)
    response = staff.post(
        "/admin/events/event/add/", event_form(cast, creator, creator, time="02:30:00")
    )
    assert response.status_code == 200
    assert "happens twice in Europe/Berlin" in response.content.decode()
    assert not Event.objects.exists()


def test_admin_rejects_an_unknown_timezone(staff, cast):
    creator = OperatorFactory(workspace=cast.workspace)
    response = staff.post(
        "/admin/events/event/add/", event_form(cast, creator, creator, timezone="Moon/Base")
    )
    assert "is not an IANA timezone name" in response.content.decode()
    assert not Event.objects.exists()


def test_admin_rejects_another_workspace_operator(staff, cast):
    creator = OperatorFactory(workspace=cast.workspace)
    MembershipFactory(user=cast.owner.user, workspace=cast.other_workspace, role="owner")
    stranger = OperatorFactory(workspace=cast.other_workspace)
    staff.post("/admin/events/event/add/", event_form(cast, creator, stranger))
    assert not Event.objects.exists()


def test_event_change_page_shows_nested_inlines(staff, session_a):
    html = page(staff.get(f"/admin/events/event/{session_a.event.pk}/change/"))
    assert session_a.token in html
    assert "session_operators" in html


def test_another_workspace_event_is_not_shown(staff, session_b):
    response = staff.get(f"/admin/events/event/{session_b.event.pk}/change/")
    assert response.status_code in (302, 404)


@pytest.fixture
def registrants(session_a):
    return [
        RegistrantFactory(session=session_a, email="grace@navy.example", first_name="Grace"),
        RegistrantFactory(
            session=session_a, email="alan@bletchley.example", first_name="Alan", attended=True
        ),
    ]


def test_registrant_search_by_email_and_name(staff, registrants):
    html = page(staff.get("/admin/events/registrant/", {"q": "navy"}))
    assert "grace@navy.example" in html
    assert "alan@bletchley.example" not in html
    html = page(staff.get("/admin/events/registrant/", {"q": "Alan"}))
    assert "alan@bletchley.example" in html
    assert "grace@navy.example" not in html


def test_registrant_filters(staff, registrants, session_a, session_b):
    RegistrantFactory(session=session_b, email="other@globex.example")
    html = page(staff.get("/admin/events/registrant/", {"attended__exact": "1"}))
    assert "alan@bletchley.example" in html
    assert "grace@navy.example" not in html
    html = page(staff.get("/admin/events/registrant/", {"session__id__exact": session_a.pk}))
    assert "grace@navy.example" in html
    # The session filter offers only sessions the staff member can see.
    assert str(session_b) not in page(staff.get("/admin/events/registrant/"))
    assert "other@globex.example" not in html


def test_registrant_added_in_admin_is_linked_to_a_contact(staff, cast, session_a):
    response = staff.post(
        "/admin/events/registrant/add/",
        {
            "session": session_a.pk,
            "email": "Linus@Kernel.example",
            "first_name": "Linus",
            "last_name": "",
            "answers": "{}",
            "registered_at_0": "2026-05-01",
            "registered_at_1": "10:00:00",
            "minutes_watched": "0",
        },
    )
    assert response.status_code == 302
    registrant = Registrant.objects.get()
    assert registrant.contact == Contact.objects.get(workspace=cast.workspace)
    assert registrant.contact.email == "linus@kernel.example"


def test_admin_refuses_a_duplicate_email_in_another_case(staff, session_a, registrants):
    response = staff.post(
        "/admin/events/registrant/add/",
        {
            "session": session_a.pk,
            "email": "GRACE@navy.example",
            "first_name": "G",
            "answers": "{}",
            "registered_at_0": "2026-05-01",
            "registered_at_1": "10:00:00",
            "minutes_watched": "0",
        },
    )
    assert response.status_code == 200
    assert Registrant.objects.count() == 2


def test_download_csv_report_action(staff, session_a, registrants):
    survey = SurveyFactory(session=session_a)
    SurveyResponseFactory(survey=survey, registrant=registrants[0])
    ChatMessageFactory(session=session_a, registrant=registrants[0], text="=2+2")

    response = staff.post(
        "/admin/events/session/",
        {"action": "download_csv_report", "_selected_action": [session_a.pk]},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="webinar-reports.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    token = session_a.token
    assert sorted(archive.namelist()) == sorted(
        [
            f"{token}/registrants.csv",
            f"{token}/attendee-chat.csv",
            f"{token}/operator-chat.csv",
            f"{token}/survey-{survey.pk}.csv",
        ]
    )
    registrants_csv = archive.read(f"{token}/registrants.csv").decode()
    assert "grace@navy.example" in registrants_csv
    assert "'=2+2" in archive.read(f"{token}/attendee-chat.csv").decode()


def test_survey_responses_and_chat_are_read_only(staff, session_a, registrants):
    response = SurveyResponseFactory(
        survey=SurveyFactory(session=session_a), registrant=registrants[0]
    )
    message = ChatMessageFactory(session=session_a, registrant=registrants[0])
    for path in ("surveyresponse", "chatmessage"):
        assert staff.get(f"/admin/events/{path}/").status_code == 200
        assert staff.get(f"/admin/events/{path}/add/").status_code == 403
    html = page(staff.get(f"/admin/events/surveyresponse/{response.pk}/change/"))
    assert 'name="_save"' not in html
    html = page(staff.get(f"/admin/events/chatmessage/{message.pk}/change/"))
    assert 'name="_save"' not in html


def test_member_staff_can_view_but_not_change(client, cast, session_a, registrants):
    user = cast.member.user
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/admin/events/registrant/").status_code == 200
    html = page(client.get(f"/admin/events/registrant/{registrants[0].pk}/change/"))
    assert 'name="_save"' not in html


def test_outsider_staff_sees_nothing_of_workspace_a(client, cast, registrants):
    user = cast.outsider.user
    user.is_staff = True
    user.save()
    client.force_login(user)
    html = page(client.get("/admin/events/registrant/"))
    assert "grace@navy.example" not in html
    assert client.get(f"/admin/events/registrant/{registrants[0].pk}/change/").status_code in (
        302,
        404,
    )
