"""Hostile input answers a 4xx in the error shape, never a 500, and stores nothing (#15 finding
4). Each case is one the security review sent to a production-like instance."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from events.models import Event
from insights.models import ContactEvent
from rooms.models import Action
from syncing.models import Connection
from syncing.services import connection_create
from tests.events.factories import OperatorFactory, SessionFactory
from tests.rooms.factories import RoomFactory, SectionFactory

pytestmark = pytest.mark.django_db

TOO_BIG = 2_621_440 + 1  # one byte over Django's DATA_UPLOAD_MAX_MEMORY_SIZE


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["error"]["status"] == status
    assert set(body["error"]) == {"status", "code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/sessions/public/a%00b",
        "/api/v1/reports/events/sessions/registrants/a%00b",
        "/api/v1/reports/events/sessions/registrants/a%00b/csv",
        "/api/v2/rooms?search=a%00b",
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400(cast, path):
    response = cast.owner.client().get(path)

    assert_error_shape(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/rooms",
        "/api/v1/events",
        "/api/v1/registrants",
        "/api/insights/events",
        "/webhooks/crm/attio/1",
    ],
)
def test_a_body_over_the_limit_is_a_413(cast, path):
    body = b'{"title": "' + b"x" * TOO_BIG + b'"}'

    response = cast.owner.client().generic("POST", path, body, content_type="application/json")

    error = assert_error_shape(response, 413)
    assert error["code"] == "too_large"


def test_json_nested_too_deep_is_a_400(cast):
    body = "[" * 100_000 + "]" * 100_000

    response = cast.owner.client().generic(
        "POST", "/api/v2/rooms", body, content_type="application/json"
    )

    error = assert_error_shape(response, 400)
    assert "nested" in error["message"]


def test_a_non_ascii_attio_signature_is_refused_like_a_bad_one(cast):
    connection = connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.ATTIO,
        name="Attio",
        base_url="https://attio.example",
        api_key="k",
        credentials={"webhook_secret": "s3cret"},
    )

    response = Client().post(
        f"/webhooks/crm/attio/{connection.pk}",
        b'{"events": []}',
        content_type="application/json",
        headers={"Attio-Signature": "é" * 64},
    )

    assert_error_shape(response, 401)


@pytest.mark.parametrize(
    "metadata", [{"a\u0000b": "x"}, {"source": "a\u0000b"}, {"deep": [{"k": "\u0000"}]}]
)
def test_a_nul_in_contact_event_metadata_is_a_400(cast, metadata):
    body = {
        "events": [
            {
                "id": "ce-1",
                "kind": "contact_event",
                "type": "booking",
                "contact": {"email": "ann@client.example"},
                "metadata": metadata,
                "at": "2026-03-01T10:00:00Z",
            }
        ]
    }

    response = cast.owner.client().post(
        f"/api/workspaces/{cast.workspace.pk}/activity", body, format="json"
    )

    assert_error_shape(response, 400)
    assert not ContactEvent.objects.exists()


LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".example"


def test_a_room_contact_email_over_254_characters_is_a_400(cast):
    assert len(LONG_EMAIL) > 254

    response = cast.owner.client().post(
        "/api/v2/rooms", {"title": "Deal", "email": LONG_EMAIL}, format="json"
    )

    error = assert_error_shape(response, 400)
    assert "email" in error["fields"]


def test_an_action_item_assignee_over_254_characters_is_a_400(cast):
    room = RoomFactory(workspace=cast.workspace)
    section = SectionFactory(room=room)

    response = cast.owner.client().post(
        "/api/v2/action-items",
        {"sectionId": str(section.pk), "items": [{"title": "Sign", "assignees": [LONG_EMAIL]}]},
        format="json",
    )

    error = assert_error_shape(response, 400)
    assert any(name.startswith("items.0.assignees") for name in error["fields"])
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("date", "zone"),
    [("0001-01-01", "Etc/GMT+12"), ("0001-01-01", "Etc/GMT-14"), ("9999-12-31", "Etc/GMT+12")],
)
def test_an_event_at_the_edges_of_the_calendar_is_never_a_500(cast, date, zone):
    """Stored when its UTC instant exists (0001-01-01 00:00 at UTC-12 is 12:00 UTC), a 400
    naming the date when it does not (at UTC+14 it is the day before year 1)."""
    operator = OperatorFactory(workspace=cast.workspace)
    body = {
        "creatorID": operator.pk,
        "title": "Year one",
        "date": date,
        "time": "00:00:00",
        "timezone": zone,
        "operators": [
            {
                "id": operator.pk,
                "role": 10,
                "micEnabled": True,
                "camEnabled": True,
                "screenSharingEnabled": True,
            }
        ],
    }

    response = cast.owner.client().post("/api/v1/events", body, format="json")

    if response.status_code == 201:
        assert cast.owner.client().get("/api/v1/events/sessions").status_code == 200
    else:
        error = assert_error_shape(response, 400)
        assert {"date", "time"} & set(error["fields"])
        assert not Event.objects.exists()


def test_insights_at_the_first_day_of_the_calendar_east_of_utc_is_a_400(cast):
    response = cast.owner.client().get(
        "/api/insights", {"start": "0001-01-01", "end": "0001-01-02", "offset": 840}
    )

    assert_error_shape(response, 400)


def test_a_nul_in_a_session_token_of_the_public_registration_is_a_400(anonymous, db):
    SessionFactory()

    response = anonymous.post(
        "/api/v1/registrants",
        json.dumps({"sessionToken": "a\u0000b", "email": "x@y.example", "firstName": "X"}),
        content_type="application/json",
    )

    assert_error_shape(response, 400)
