"""The HTTP layer against the fake rooms platform over a real socket."""

from __future__ import annotations

import time

import pytest
import responses

from syncing import errors
from syncing.models import Connection
from syncing.providers.webinar_platform.client import WebinarPlatformClient
from syncing.services import connection_client, connection_create, connection_test

pytestmark = pytest.mark.django_db


def test_a_page_of_rooms_is_read_with_the_key_header(rooms_connection, rooms_fake):
    room = rooms_fake.add_room(title="Acme onboarding")

    client = connection_client(rooms_connection)
    pages = list(client.room_pages())

    assert [[record["id"] for record in page] for page in pages] == [[room["id"]]]
    assert client.calls == 1


def test_pages_follow_page_and_limit_until_the_total(rooms_connection, rooms_fake):
    for n in range(5):
        rooms_fake.add_room(title=f"Room {n}")

    client = connection_client(rooms_connection)
    pages = list(client.room_pages(limit=2))

    # 5 rooms at 2 per page: pages of 2, 2 and 1, three calls.
    assert [len(page) for page in pages] == [2, 2, 1]
    assert rooms_fake.count("GET", "/api/v2/rooms") == 3


@pytest.mark.parametrize("fault", ["503", "timeout", "lost"])
def test_transient_faults_of_a_read_are_retried_until_it_succeeds(
    rooms_connection, rooms_fake, fault
):
    rooms_fake.add_room(title="Acme")
    rooms_fake.inject(fault, times=2, method="GET")

    client = connection_client(rooms_connection)
    pages = list(client.room_pages())

    assert len(pages[0]) == 1
    # Two failed attempts, then the one that worked.
    assert client.calls == 3


@pytest.mark.parametrize("fault", ["500", "malformed"])
def test_a_read_answered_500_or_a_malformed_body_is_read_again(rooms_connection, rooms_fake, fault):
    rooms_fake.inject(fault, times=2, method="GET")
    client = connection_client(rooms_connection)

    assert [status["id"] for status in client.statuses()] == ["st-open", "st-won"]
    assert client.calls == 3


def test_a_write_answered_500_is_not_repeated(rooms_connection, rooms_fake):
    # The upstream may have applied it: the outbox looks the object up before trying again.
    rooms_fake.inject("500", method="POST")
    client = connection_client(rooms_connection)

    with pytest.raises(errors.TransientError) as caught:
        client.room_create({"title": "Acme"})

    assert caught.value.status == 500
    assert caught.value.correlation_id == "req-1"
    assert client.calls == 1


def test_retries_give_up_with_a_transient_error(rooms_connection, rooms_fake):
    rooms_fake.inject("503", times=10, method="GET")
    client = connection_client(rooms_connection)

    with pytest.raises(errors.TransientError) as caught:
        client.statuses()

    assert caught.value.status == 503
    # SYNC_HTTP_RETRIES = 3: the first attempt and three retries.
    assert rooms_fake.count("GET", "/api/v2/statuses") == 4
    assert client.calls == 4


def test_a_read_timeout_ends_as_a_transient_error(rooms_connection, rooms_fake):
    rooms_fake.inject("timeout", times=10, method="GET")
    client = connection_client(rooms_connection)

    started = time.monotonic()
    with pytest.raises(errors.TransientError, match="timed out"):
        client.statuses()

    # Four attempts of 0.5 s read timeout each, not four times the fake's 1.5 s delay.
    assert time.monotonic() - started < 4 * 1.5
    assert rooms_fake.count("GET", "/api/v2/statuses") == 4


@pytest.mark.parametrize("fault", ["429", "429-date"])
def test_429_waits_the_retry_after_then_succeeds(rooms_connection, rooms_fake, fault):
    rooms_fake.retry_after = 2
    rooms_fake.inject(fault, method="GET")
    client = connection_client(rooms_connection)

    started = time.monotonic()
    statuses = client.statuses()
    waited = time.monotonic() - started

    assert [status["id"] for status in statuses] == ["st-open", "st-won"]
    # Retry-After: 2 (seconds) or an HTTP date 2 s ahead (whole seconds, so 1 to 2 s left).
    assert 0.9 <= waited < 3.5
    assert client.calls == 2


def test_429_without_retry_after_falls_back_to_backoff(rooms_connection, rooms_fake):
    rooms_fake.inject("429-bare", times=2, method="GET")
    client = connection_client(rooms_connection)

    started = time.monotonic()
    client.statuses()

    assert time.monotonic() - started < 1.0
    assert client.calls == 3


def test_429_after_all_retries_is_rate_limited_with_the_wait(rooms_connection, rooms_fake):
    rooms_fake.retry_after = 0
    rooms_fake.inject("429", times=10, method="GET")
    client = connection_client(rooms_connection)

    with pytest.raises(errors.RateLimitedError) as caught:
        client.statuses()

    assert isinstance(caught.value, errors.TransientError)
    assert caught.value.retry_after == 0


def test_a_write_is_not_repeated_after_a_lost_response(rooms_connection, rooms_fake):
    rooms_fake.inject("lost", method="POST")
    client = connection_client(rooms_connection)

    with pytest.raises(errors.TransientError):
        client.room_create({"title": "Created once"})

    # The fake applied it; the client did not send it again (the outbox decides).
    assert rooms_fake.count("POST", "/api/v2/rooms") == 1
    assert [room["title"] for room in rooms_fake.rooms.values()] == ["Created once"]


def test_a_repeatable_post_is_retried_like_a_read(rooms_connection, rooms_fake):
    """A search or batch read sent as POST (HubSpot, Attio) survives a 503 and a timeout."""
    rooms_fake.inject("503", method="POST")
    rooms_fake.inject("timeout", method="POST")
    client = connection_client(rooms_connection)

    created = client.send_json("POST", "/api/v2/rooms", {"title": "Read-like"}, repeatable=True)

    assert created["title"] == "Read-like"
    assert rooms_fake.count("POST", "/api/v2/rooms") == 3
    rooms_fake.inject("503", method="POST")
    with pytest.raises(errors.TransientError):
        client.send_json("POST", "/api/v2/rooms", {"title": "A write"})
    assert rooms_fake.count("POST", "/api/v2/rooms") == 4, "a plain POST is not repeated"


def test_a_write_answered_429_is_retried(rooms_connection, rooms_fake):
    rooms_fake.retry_after = 0
    rooms_fake.inject("429", method="POST")
    client = connection_client(rooms_connection)

    created = client.room_create({"title": "After a 429"})

    assert created["title"] == "After a 429"
    assert rooms_fake.count("POST", "/api/v2/rooms") == 2
    assert len(rooms_fake.rooms) == 1


def test_401_marks_the_connection_needs_reauth_without_retrying(rooms_connection, rooms_fake):
    rooms_fake.api_key = "rotated-upstream"
    client = connection_client(rooms_connection)

    with pytest.raises(errors.AuthError) as caught:
        client.statuses()

    assert caught.value.status == 401
    assert rooms_fake.count("GET", "/api/v2/statuses") == 1
    rooms_connection.refresh_from_db()
    assert rooms_connection.status == Connection.Status.NEEDS_REAUTH
    assert "HTTP 401" in rooms_connection.status_detail
    assert "Invalid API key" not in rooms_connection.status_detail, "no upstream body is stored"


def test_404_and_400_are_permanent(rooms_connection, rooms_fake):
    client = connection_client(rooms_connection)

    with pytest.raises(errors.NotFoundError):
        client.room("no-such-room")
    with pytest.raises(errors.ValidationError):
        client.room_create({"description": "no title"})
    assert rooms_fake.count("GET", "/api/v2/rooms/no-such-room") == 1
    assert rooms_fake.count("POST", "/api/v2/rooms") == 1


def test_a_body_still_malformed_after_the_retries_is_a_transient_error(
    rooms_connection, rooms_fake
):
    rooms_fake.inject("malformed", times=10, method="GET")
    client = connection_client(rooms_connection)

    with pytest.raises(errors.MalformedResponseError, match="not JSON"):
        list(client.room_pages())
    assert client.calls == 4  # the first read and SYNC_HTTP_RETRIES = 3 more


def test_room_analytics_is_validated(rooms_connection, rooms_fake):
    room = rooms_fake.add_room(title="Acme")
    rooms_fake.analytics[room["id"]] = {
        "title": "Acme",
        "progressPercentage": 14.29,
        "internalCompany": {"type": "internal", "name": "Flowla"},
        "assignees": [
            {
                "belongsTo": "external_organization",
                "email": "morgan.lee@acme.com",
                "name": "Morgan Lee",
                "isPrimaryContact": True,
                "lastSeen": "2026-05-05T14:30:44.260Z",
                "viewCount": 4,
            }
        ],
        "sections": [],
    }
    client = connection_client(rooms_connection)

    analytics = client.room_analytics(room["id"])

    assert analytics["progressPercentage"] == 14.29
    assert analytics["assignees"][0]["viewCount"] == 4

    rooms_fake.analytics[room["id"]]["progressPercentage"] = 140
    with pytest.raises(errors.RecordError, match="progressPercentage"):
        client.room_analytics(room["id"])


@responses.activate
def test_webinar_registrants_page_by_x_total_count_with_the_api_secret_header():
    url = "https://webinars.example/api/v1/reports/events/sessions/registrants/sess-1"
    first = [{"email": f"p{n}@example.com"} for n in range(2)]
    responses.get(url, json=first, headers={"X-Total-Count": "3"})
    responses.get(url, json=[{"email": "p2@example.com"}], headers={"X-Total-Count": "3"})
    client = WebinarPlatformClient(base_url="https://webinars.example/", secret="s3cret")

    pages = list(client.registrant_pages("sess-1", limit=2))

    assert [[r["email"] for r in page] for page in pages] == [
        ["p0@example.com", "p1@example.com"],
        ["p2@example.com"],
    ]
    assert [call.request.headers["api-secret"] for call in responses.calls] == ["s3cret"] * 2
    assert [call.request.params for call in responses.calls] == [
        {"page": "1", "limit": "2"},
        {"page": "2", "limit": "2"},
    ]


@responses.activate
def test_webinar_sessions_list_asks_for_the_period_with_simple_analytics():
    responses.get(
        "https://webinars.example/api/v1/events/sessions",
        json=[{"token": "s1"}],
        match=[responses.matchers.query_param_matcher({"period": "past", "simple_analytics": "1"})],
    )
    client = WebinarPlatformClient(base_url="https://webinars.example", secret="s3cret")

    assert client.sessions(period="past") == [{"token": "s1"}]


@responses.activate
def test_testing_a_webinar_connection_reads_the_operators(workspace):
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="FLOW",
        base_url="https://webinars.example",
        api_key="flow-secret",
    )
    responses.get(
        "https://webinars.example/api/v1/operators",
        json=[{"id": 1, "email": "ops@example.com"}, {"id": 2, "email": "host@example.com"}],
        match=[responses.matchers.header_matcher({"api-secret": "flow-secret"})],
    )

    result = connection_test(connection=connection)

    assert result.ok
    assert result.detail == "2 operators readable"


def test_upstream_text_is_kept_as_sent(rooms_connection, rooms_fake):
    room = rooms_fake.add_room(title="  Acme  onboarding ", coverTitle="Welcome\n")

    fetched = connection_client(rooms_connection).room(room["id"])

    assert fetched["title"] == "  Acme  onboarding "
    assert fetched["coverTitle"] == "Welcome\n"
