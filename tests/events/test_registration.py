"""POST /api/v1/registrants (public), the SSO redirect and the rooms contact link."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine

from events.login_links import login_token_registrant
from events.models import Registrant
from events.tasks import registrant_login_link_email
from rooms.models import Contact
from tests.events.factories import RegistrantFactory, SessionFactory
from tests.rooms.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace_site(cast):
    """The workspace's own site (its SSO page), calling with the workspace's key."""
    return cast.owner.client("api-secret")


URL = "/api/v1/registrants"
BEFORE = "2026-05-01T09:00:00Z"  # the default session starts 2026-05-05 14:00Z


def body(session, **changes):
    return {
        "email": "Grace.Hopper@Navy.example",
        "firstName": "Grace",
        "lastName": "Hopper",
        "eventSessionToken": session.token,
        **changes,
    }


@time_machine.travel(BEFORE, tick=False)
def test_with_the_workspace_key_registers_and_answers_the_login_link(
    workspace_site, session_a, settings
):
    settings.PUBLIC_BASE_URL = "https://webinars.acme.example"

    response = workspace_site.post(URL, body(session_a), format="json")

    assert response.status_code == 201
    data = response.json()
    registrant = Registrant.objects.get()
    assert data["id"] == registrant.id
    assert data["email"] == "Grace.Hopper@Navy.example"
    assert data["firstName"] == "Grace"
    assert data["lastName"] == "Hopper"
    assert data["eventSessionToken"] == session_a.token
    assert data["registeredAt"] == "2026-05-01T09:00:00.000Z"
    link = urlsplit(data["loginLink"])
    assert (link.scheme, link.netloc) == ("https", "webinars.acme.example")
    assert link.path.startswith("/join/")
    assert login_token_registrant(link.path.removeprefix("/join/")) == registrant


@time_machine.travel(BEFORE, tick=False)
def test_same_email_in_another_case_returns_the_existing_registration(workspace_site, session_a):
    first = workspace_site.post(URL, body(session_a), format="json").json()
    again = workspace_site.post(
        URL,
        body(session_a, email="grace.hopper@navy.EXAMPLE", firstName="G", lastName="H"),
        format="json",
    )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["firstName"] == "Grace"  # the existing registration, unchanged
    assert Registrant.objects.count() == 1


@time_machine.travel(BEFORE, tick=False)
def test_the_same_email_may_register_for_other_sessions(anonymous, cast, session_a):
    other = SessionFactory(workspace=cast.workspace)
    assert anonymous.post(URL, body(session_a), format="json").status_code == 201
    assert anonymous.post(URL, body(other), format="json").status_code == 201


@time_machine.travel(BEFORE, tick=False)
def test_an_unpublished_session_is_404(anonymous, cast):
    draft = SessionFactory(workspace=cast.workspace, published=False)
    response = anonymous.post(URL, body(draft), format="json")
    assert response.status_code == 404
    assert not Registrant.objects.exists()


def test_an_unknown_session_is_404(anonymous, db):
    response = anonymous.post(URL, body(SessionFactory.build(token="nope")), format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ("2026-05-05T13:44:59Z", 201),  # too early: registration is open
        ("2026-05-05T14:30:00Z", 201),  # live
        ("2026-05-05T14:59:59Z", 201),
        ("2026-05-05T15:00:00Z", 400),  # ended (14:00Z + 1 h)
    ],
)
def test_registration_closes_when_the_session_ends(anonymous, session_a, now, status):
    with time_machine.travel(now, tick=False):
        response = anonymous.post(URL, body(session_a), format="json")
    assert response.status_code == status
    if status == 400:
        error = response.json()["error"]
        assert list(error["fields"]) == ["eventSessionToken"]
        assert "Registration is closed" in error["message"]
        assert not Registrant.objects.exists()


@time_machine.travel("2026-05-06T10:00:00Z", tick=False)
def test_an_ended_session_with_on_demand_replays_accepts_registrations(anonymous, cast):
    session = SessionFactory(workspace=cast.workspace, on_demand_replays=True)
    assert anonymous.post(URL, body(session), format="json").status_code == 201


@time_machine.travel("2026-05-06T10:00:00Z", tick=False)
def test_an_existing_registrant_of_an_ended_session_gets_its_registration(
    workspace_site, session_a
):
    existing = RegistrantFactory(session=session_a, email="grace.hopper@navy.example")
    response = workspace_site.post(URL, body(session_a), format="json")
    assert response.status_code == 200
    assert response.json()["id"] == existing.id


@time_machine.travel(BEFORE, tick=False)
def test_redirect_true_answers_302_to_the_login_link(workspace_site, anonymous, session_a):
    response = workspace_site.post(URL, body(session_a, redirect=True), format="json")

    assert response.status_code == 302
    registrant = Registrant.objects.get()
    token = urlsplit(response["Location"]).path.removeprefix("/join/")
    assert login_token_registrant(token) == registrant
    page = anonymous.get(urlsplit(response["Location"]).path)
    assert page.status_code == 200


@time_machine.travel(BEFORE, tick=False)
def test_redirect_for_an_existing_registrant_is_also_302(workspace_site, session_a):
    workspace_site.post(URL, body(session_a), format="json")
    response = workspace_site.post(URL, body(session_a, redirect=True), format="json")
    assert response.status_code == 302


@time_machine.travel(BEFORE, tick=False)
def test_redirect_false_answers_json(anonymous, session_a):
    response = anonymous.post(URL, body(session_a, redirect=False), format="json")
    assert response.status_code == 201


@time_machine.travel(BEFORE, tick=False)
def test_registrant_is_linked_to_a_new_workspace_contact(anonymous, cast, session_a):
    anonymous.post(URL, body(session_a), format="json")

    contact = Contact.objects.get()
    assert contact.workspace == cast.workspace
    assert contact.email == "grace.hopper@navy.example"
    assert contact.name == "Grace Hopper"
    assert Registrant.objects.get().contact == contact


@time_machine.travel(BEFORE, tick=False)
def test_registrant_is_linked_to_the_existing_contact(anonymous, cast, session_a):
    existing = ContactFactory(workspace=cast.workspace, email="grace.hopper@navy.example", name="")
    ContactFactory(workspace=cast.other_workspace, email="grace.hopper@navy.example")

    anonymous.post(URL, body(session_a), format="json")

    assert Registrant.objects.get().contact == existing
    assert Contact.objects.count() == 2
    existing.refresh_from_db()
    assert existing.name == "Grace Hopper"  # a contact without a name takes the registrant's


@time_machine.travel(BEFORE, tick=False)
def test_a_known_contact_name_is_kept(anonymous, cast, session_a):
    ContactFactory(workspace=cast.workspace, email="grace.hopper@navy.example", name="Adm. Hopper")

    anonymous.post(URL, body(session_a), format="json")

    assert Contact.objects.get(workspace=cast.workspace).name == "Adm. Hopper"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"firstName": ""}, "firstName"),
        ({"firstName": "x" * 151}, "firstName"),
        ({"eventSessionToken": ""}, "eventSessionToken"),
        ({"redirect": "perhaps"}, "redirect"),
        ({"redirect": "true"}, "redirect"),  # JSON booleans only, as the schema says
        ({"firstName": 12}, "firstName"),
    ],
)
def test_invalid_input_is_400_naming_the_field(anonymous, session_a, change, field):
    response = anonymous.post(URL, body(session_a, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Registrant.objects.exists()


@pytest.mark.parametrize("missing", ["email", "firstName", "lastName", "eventSessionToken"])
def test_required_fields(anonymous, session_a, missing):
    data = body(session_a)
    del data[missing]
    response = anonymous.post(URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()["error"]["fields"]


@time_machine.travel(BEFORE, tick=False)
def test_a_blank_last_name_is_accepted(anonymous, session_a):
    assert anonymous.post(URL, body(session_a, lastName=""), format="json").status_code == 201


@time_machine.travel(BEFORE, tick=False)
def test_keys_and_sessions_are_ignored(cast, session_a, session_b):
    """Public: any caller may register for any workspace's published session, and a logged-in
    browser needs no CSRF token."""
    assert cast.outsider.client().post(URL, body(session_a), format="json").status_code == 201
    browser = cast.owner.session_client()
    browser.enforce_csrf_checks = True
    assert browser.post(URL, body(session_b), format="json").status_code == 201


@time_machine.travel(BEFORE, tick=False)
def test_registration_is_throttled_per_client_address(anonymous, session_a, settings):
    settings.PUBLIC_THROTTLE_RATE = "2/min"
    statuses = [
        anonymous.post(URL, body(session_a, email=f"p{n}@x.example"), format="json").status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_registered_at_uses_utc_with_milliseconds(workspace_site, session_a):
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, 0, 123456, tzinfo=dt.UTC), tick=False):
        data = workspace_site.post(URL, body(session_a), format="json").json()
    assert data["registeredAt"] == "2026-05-01T09:00:00.123Z"


# --- No disclosure to anonymous callers (#15 finding 6) ------------------------------------------


@time_machine.travel(BEFORE, tick=False)
def test_anonymously_a_known_email_gets_the_answer_of_a_new_one(anonymous, session_a):
    RegistrantFactory(session=session_a, email="ada@lovelace.example", first_name="Ada")

    new = anonymous.post(
        URL, body(session_a, email="new@x.example", firstName="Eve"), format="json"
    )
    known = anonymous.post(
        URL, body(session_a, email="ada@lovelace.example", firstName="Eve"), format="json"
    )

    assert new.status_code == known.status_code == 201
    assert set(new.json()) == set(known.json())
    assert known.json()["firstName"] == "Eve"
    answer = known.content.decode()
    assert "Ada" not in answer
    assert "/join/" not in answer
    assert str(Registrant.objects.get(email="ada@lovelace.example").id) not in known.json()


@time_machine.travel(BEFORE, tick=False)
def test_the_login_link_goes_only_to_the_email_address(
    anonymous, session_a, mailoutbox, django_capture_on_commit_callbacks
):
    RegistrantFactory(session=session_a, email="ada@lovelace.example", first_name="Ada")

    with django_capture_on_commit_callbacks() as callbacks:
        anonymous.post(URL, body(session_a, email="ada@lovelace.example"), format="json")
    assert len(callbacks) == 1  # the e-mail, enqueued once the registration commits
    registrant = Registrant.objects.get()
    registrant_login_link_email.apply(args=[registrant.pk])

    (mail,) = mailoutbox
    assert mail.to == ["ada@lovelace.example"]
    token = next(w for w in mail.body.split() if "/join/" in w).rsplit("/join/", 1)[1]
    assert login_token_registrant(token) == registrant


@time_machine.travel(BEFORE, tick=False)
def test_an_anonymous_redirect_is_refused_and_stores_nothing(anonymous, cast, session_a):
    for client in (anonymous, cast.outsider.client("api-secret")):
        response = client.post(URL, body(session_a, redirect=True), format="json")

        assert response.status_code == 400
        assert "redirect" in response.json()["error"]["fields"]
    assert not Registrant.objects.exists()
