"""Events and registrations created locally are pushed to the fake webinar platform through the
outbox with the real handlers (syncing.providers.webinar_platform.push)."""

from __future__ import annotations

import datetime as dt

import pytest

from events.models import Event, Session
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_message_deliver
from syncing.providers.webinar_platform.push import EVENT_CREATE, REGISTRANT_CREATE
from syncing.services import connection_create
from tests.concurrency import insert_committed_while_waited_for
from tests.events.factories import EventFactory, OperatorFactory, RegistrantFactory, SessionFactory
from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform
from tests.syncing.test_outbox import deliver_until_settled

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events"
REGISTRANTS = "/api/v1/registrants"


def connect(workspace, fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="FLOW",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


@pytest.fixture
def pushed(cast, webinar_fake) -> Connection:
    """Workspace A pushes its webinars to the fake platform."""
    return connect(cast.workspace, webinar_fake)


@pytest.fixture
def other_fake():
    fake = FakeWebinarPlatform(api_key="other-account-secret").start()
    yield fake
    fake.stop()


@pytest.fixture
def host(cast):
    """An operator of workspace A pulled from the platform (the fake's operator 1)."""
    return OperatorFactory(workspace=cast.workspace, email="host@flow.example", upstream_id="1")


@pytest.fixture
def local_presenter(cast):
    return OperatorFactory(workspace=cast.workspace, email="pia@acme.example")


def event_body(creator, *operators, **changes) -> dict:
    return {
        "creatorID": creator.id,
        "title": "Forecasting with rooms",
        "description": "A tour.",
        "date": "2027-03-10",
        "time": "17:30:00",
        "timezone": "America/Chicago",
        "published": True,
        "operators": [
            {
                "id": operator.id,
                "role": 10,
                "micEnabled": True,
                "camEnabled": False,
                "screenSharingEnabled": True,
            }
            for operator in (creator, *operators)
        ],
        **changes,
    }


def create_event(cast, *operators, **changes) -> Session:
    response = cast.owner.client("api-secret").post(
        EVENTS, event_body(*operators, **changes), format="json"
    )
    assert response.status_code == 201, response.json()
    return Session.objects.select_related("event").get(token=response.json()["token"])


def register(anonymous, session: Session, email: str = "grace@navy.example") -> int:
    body = {"email": email, "firstName": "Grace", "lastName": "Hopper"}
    response = anonymous.post(
        REGISTRANTS, {**body, "eventSessionToken": session.token}, format="json"
    )
    assert response.status_code in (200, 201), response.json()
    return response.status_code


def messages(kind: str | None = None) -> list[OutboxMessage]:
    queryset = OutboxMessage.objects.order_by("pk")
    return list(queryset.filter(kind=kind) if kind else queryset)


def upstream_emails(fake, token: str) -> list[str]:
    return [registrant["email"] for registrant in fake.registrants[token]]


# --- events -------------------------------------------------------------------------------------


def test_an_event_is_created_upstream_with_its_tokens_kept(
    cast, pushed, webinar_fake, host, local_presenter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        session = create_event(cast, host, local_presenter)

    (message,) = messages()
    assert (message.kind, message.object_id) == (EVENT_CREATE, str(session.event.pk))
    assert len(callbacks) == 1
    assert message.payload["creatorID"] == 1
    assert [operator["id"] for operator in message.payload["operators"]] == [1], (
        "an operator known only locally has no upstream id to send"
    )

    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT

    (upstream,) = webinar_fake.sessions.values()
    assert (upstream["title"], upstream["date"], upstream["time"]) == (
        "Forecasting with rooms",
        "2027-03-10",
        "17:30:00",
    )
    assert (upstream["timezone"], upstream["published"]) == ("America/Chicago", True)
    session.refresh_from_db()
    session.event.refresh_from_db()
    assert session.event.upstream_id == upstream["eventToken"]
    assert session.upstream_id == upstream["token"]


def test_a_lost_event_create_is_found_not_created_twice(cast, pushed, webinar_fake, host):
    session = create_event(cast, host)
    (message,) = messages()
    webinar_fake.inject("lost", method="POST")
    assert outbox_message_deliver(message_id=message.pk) == "pending"

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    (upstream,) = webinar_fake.sessions.values()
    assert webinar_fake.count("POST", EVENTS) == 1
    session.refresh_from_db()
    assert session.upstream_id == upstream["token"]


def test_a_retried_event_create_never_adopts_another_event(cast, pushed, webinar_fake, host):
    create_event(cast, host)
    second = create_event(cast, host)
    first_message, second_message = messages()
    assert outbox_message_deliver(message_id=first_message.pk) == "sent"
    webinar_fake.inject("503", method="POST")
    assert outbox_message_deliver(message_id=second_message.pk) == "pending"

    assert outbox_message_deliver(message_id=second_message.pk) == "sent"

    assert len(webinar_fake.sessions) == 2
    second.refresh_from_db()
    first_message.refresh_from_db()
    assert second.upstream_id in webinar_fake.sessions
    assert not first_message.upstream_id.endswith(second.upstream_id)


def test_a_lost_event_create_adopts_the_event_a_pull_already_stored(
    cast, pushed, webinar_fake, host
):
    session = create_event(cast, host)
    (message,) = messages()
    webinar_fake.inject("lost", method="POST")
    outbox_message_deliver(message_id=message.pk)
    (upstream,) = webinar_fake.sessions.values()
    # The pull ran meanwhile and stored the new upstream event as an event of its own.
    twin = SessionFactory(
        workspace=cast.workspace, upstream_id=upstream["token"], event__creator=host
    )
    Event.objects.filter(pk=twin.event_id).update(upstream_id=upstream["eventToken"])

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    assert not Event.objects.filter(pk=twin.event_id).exists()
    session.refresh_from_db()
    assert session.upstream_id == upstream["token"]
    assert len(webinar_fake.sessions) == 1


def test_a_pulled_twin_with_a_pushed_registration_is_kept_without_its_tokens(
    cast, pushed, webinar_fake, host, anonymous
):
    session = create_event(cast, host)
    (message,) = messages()
    webinar_fake.inject("lost", method="POST")
    outbox_message_deliver(message_id=message.pk)
    (upstream,) = webinar_fake.sessions.values()
    twin = SessionFactory(
        workspace=cast.workspace, upstream_id=upstream["token"], date=dt.date(2027, 3, 10)
    )
    Event.objects.filter(pk=twin.event_id).update(upstream_id=upstream["eventToken"])
    register(anonymous, twin)  # someone registered on the pulled twin meanwhile

    assert outbox_message_deliver(message_id=message.pk) == "sent"

    twin.refresh_from_db()
    twin.event.refresh_from_db()
    assert (twin.upstream_id, twin.event.upstream_id) == ("", "")
    assert twin.registrants.count() == 1
    session.refresh_from_db()
    assert session.upstream_id == upstream["token"]


@pytest.mark.django_db(transaction=True)
def test_a_twin_a_pull_commits_while_the_tokens_are_stored_is_released(
    cast, pushed, webinar_fake, host
):
    session = create_event(cast, host)
    (message,) = messages()
    webinar_fake.inject("lost", method="POST")
    assert outbox_message_deliver(message_id=message.pk) == "pending"
    (upstream,) = webinar_fake.sessions.values()

    def pull_stores_the_twin():
        twin = EventFactory(
            workspace=cast.workspace, creator=host, upstream_id=upstream["eventToken"]
        )
        SessionFactory(event=twin, upstream_id=upstream["token"])

    with insert_committed_while_waited_for(pull_stores_the_twin):
        assert outbox_message_deliver(message_id=message.pk) == "sent"

    session.refresh_from_db()
    assert session.upstream_id == upstream["token"]
    assert list(Event.objects.filter(workspace=cast.workspace)) == [session.event]


# --- registrations ------------------------------------------------------------------------------


def test_a_registration_waits_for_its_event_then_goes_upstream(
    cast, pushed, webinar_fake, host, anonymous
):
    session = create_event(cast, host)
    assert register(anonymous, session) == 201
    event_message, registration = messages()
    assert registration.kind == REGISTRANT_CREATE
    assert registration.object_key == event_message.object_key

    # Without the session's upstream token the registration cannot go first.
    assert outbox_message_deliver(message_id=registration.pk) is None
    deliver_until_settled()

    session.refresh_from_db()
    assert upstream_emails(webinar_fake, session.upstream_id) == ["grace@navy.example"]
    writes = [path for method, path in webinar_fake.requests if method == "POST"]
    assert writes == [EVENTS, REGISTRANTS]


def test_a_registration_of_a_pulled_session_goes_out_on_its_own(
    cast, pushed, webinar_fake, anonymous
):
    upstream = webinar_fake.add_session(title="Pulled webinar")
    session = SessionFactory(
        workspace=cast.workspace, upstream_id=upstream["token"], date=dt.date(2027, 1, 20)
    )

    register(anonymous, session)
    deliver_until_settled()

    (message,) = messages()
    assert message.status == OutboxMessage.Status.SENT
    assert message.content_type.model == "registrant"
    assert upstream_emails(webinar_fake, upstream["token"]) == ["grace@navy.example"]


def test_a_duplicate_registration_never_makes_two_upstream_registrants(
    cast, pushed, webinar_fake, anonymous
):
    upstream = webinar_fake.add_session(title="Pulled webinar")
    session = SessionFactory(
        workspace=cast.workspace, upstream_id=upstream["token"], date=dt.date(2027, 1, 20)
    )
    webinar_fake.add_registrant(upstream["token"], email="ada@example.com")
    RegistrantFactory(session=session, email="ada@example.com")  # pulled with it

    assert register(anonymous, session) == 201
    # A known e-mail gets the answer of a new one (registration discloses nothing, #15.6).
    assert register(anonymous, session, email="GRACE@navy.example") == 201
    assert register(anonymous, session, email="ada@example.com") == 201
    (message,) = messages()
    webinar_fake.inject("lost", method="POST")  # reached the platform, answer lost
    assert outbox_message_deliver(message_id=message.pk) == "pending"
    assert outbox_message_deliver(message_id=message.pk) == "sent"

    assert upstream_emails(webinar_fake, upstream["token"]) == [
        "ada@example.com",
        "grace@navy.example",
    ]
    assert webinar_fake.count("POST", REGISTRANTS) == 2


def test_a_registration_of_a_session_never_upstream_is_not_pushed(cast, pushed, anonymous):
    session = SessionFactory(workspace=cast.workspace, date=dt.date(2027, 1, 20))

    register(anonymous, session)

    assert messages() == []


def test_a_registration_of_a_session_added_later_is_not_pushed(cast, pushed, host, anonymous):
    event_session = create_event(cast, host)
    added = SessionFactory(event=event_session.event, date=dt.date(2027, 4, 1))

    register(anonymous, added)

    assert [m.kind for m in messages()] == [EVENT_CREATE]


# --- tenancy ------------------------------------------------------------------------------------


def test_another_workspaces_connection_is_never_used(
    cast, webinar_fake, other_fake, host, anonymous
):
    connect(cast.other_workspace, other_fake)

    session = create_event(cast, host)
    register(anonymous, session)
    assert messages() == [], "workspace A has no connection of its own"

    connect(cast.workspace, webinar_fake)
    create_event(cast, host, title="Second")
    deliver_until_settled()

    (message,) = messages()
    assert message.connection.workspace == cast.workspace
    assert [s["title"] for s in webinar_fake.sessions.values()] == ["Second"]
    assert other_fake.requests == []
