"""POST /api/v1/events: an event with one session."""

import datetime as dt
import re
from datetime import UTC

import pytest

from events.models import Event, Session
from tests.events.factories import OperatorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


@pytest.fixture
def presenter(cast):
    return OperatorFactory(workspace=cast.workspace, email="pia@acme.example", first_name="Pia")


@pytest.fixture
def body(operator_a, presenter):
    return {
        "creatorID": operator_a.id,
        "title": "Forecasting with rooms",
        "description": "A tour.",
        "date": "2026-06-10",
        "time": "17:30:00",
        "timezone": "America/Chicago",
        "operators": [
            {
                "id": operator_a.id,
                "role": 10,
                "micEnabled": True,
                "camEnabled": False,
                "screenSharingEnabled": True,
            },
            {
                "id": presenter.id,
                "role": 5,
                "micEnabled": True,
                "camEnabled": True,
                "screenSharingEnabled": False,
            },
        ],
    }


def test_creates_a_draft_event_with_its_session(cast, body, operator_a, presenter):
    response = cast.owner.client("api-secret").post(URL, body, format="json")

    assert response.status_code == 201
    data = response.json()
    session = Session.objects.get(token=data["token"])
    assert data["eventToken"] == session.event.token
    assert data["published"] is False
    assert data["title"] == "Forecasting with rooms"
    assert data["creator"]["id"] == operator_a.id
    assert data["date"] == "2026-06-10"
    assert data["time"] == "17:30:00"
    assert data["timezone"] == "America/Chicago"
    assert data["duration"] == 1.0
    assert data["earlyAccessPeriod"] == 15
    assert data["videoRecord"] is False
    assert data["onDemandReplays"] is False
    assert [(o["id"], o["role"], o["camEnabled"]) for o in data["operators"]] == [
        (operator_a.id, 10, False),
        (presenter.id, 5, True),
    ]
    # 17:30 CDT (UTC-5) is 22:30Z; doors 15 minutes earlier; one hour long.
    assert session.starts_at == dt.datetime(2026, 6, 10, 22, 30, tzinfo=UTC)
    assert session.opens_at == dt.datetime(2026, 6, 10, 22, 15, tzinfo=UTC)
    assert session.ends_at == dt.datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    assert session.event.workspace == cast.workspace


def test_optional_fields(cast, body):
    body.update(
        published=True,
        duration=2.5,
        earlyAccessPeriod=0,
        videoRecord=True,
        onDemandReplays=True,
        operators=[],
    )
    data = cast.member.client().post(URL, body, format="json").json()
    assert data["published"] is True
    assert data["duration"] == 2.5
    assert data["earlyAccessPeriod"] == 0
    assert data["videoRecord"] is True
    assert data["onDemandReplays"] is True
    assert data["operators"] == []
    session = Session.objects.get(token=data["token"])
    # 17:30 CDT = 22:30Z, plus 2.5 h.
    assert session.ends_at == dt.datetime(2026, 6, 11, 1, 0, tzinfo=UTC)


def test_operator_ids_of_another_workspace_are_rejected(cast, body):
    stranger = OperatorFactory(workspace=cast.other_workspace)
    body["operators"][1]["id"] = stranger.id
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["operators.1.id"]
    assert not Event.objects.exists()


def test_creator_of_another_workspace_is_rejected(cast, body):
    body["creatorID"] = OperatorFactory(workspace=cast.other_workspace).id
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["creatorID"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"creatorID": "abc"}, "creatorID"),
        ({"creatorID": 99999999}, "creatorID"),
        ({"date": "10/06/2026"}, "date"),
        ({"date": "2026-02-30"}, "date"),
        ({"time": "5:30 PM"}, "time"),
        ({"time": "17:30"}, "time"),
        ({"time": "24:00:00"}, "time"),
        ({"timezone": "Central Time"}, "timezone"),
        ({"timezone": "CST"}, "timezone"),
        # Chicago springs forward at 02:00 on 8 March 2026 and falls back on 1 November.
        ({"date": "2026-03-08", "time": "02:30:00"}, "time"),
        ({"date": "2026-11-01", "time": "01:30:00"}, "time"),
        ({"duration": 0}, "duration"),
        ({"duration": "long"}, "duration"),
        ({"duration": "1.5"}, "duration"),
        ({"duration": 168.01}, "duration"),
        ({"duration": 1.255}, "duration"),
        ({"earlyAccessPeriod": -5}, "earlyAccessPeriod"),
        ({"earlyAccessPeriod": 1441}, "earlyAccessPeriod"),
        ({"published": "maybe"}, "published"),
        ({"videoRecord": "maybe"}, "videoRecord"),
        ({"onDemandReplays": "maybe"}, "onDemandReplays"),
        ({"operators": "all"}, "operators"),
        # JSON types as the schema declares them, no coercion:
        ({"published": "true"}, "published"),
        ({"creatorID": "1"}, "creatorID"),
        ({"title": 12}, "title"),
        ({"earlyAccessPeriod": 10.0}, "earlyAccessPeriod"),
        ({"time": 1730}, "time"),
    ],
)
def test_each_invalid_field_is_named(cast, body, change, field):
    body.update(change)
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("missing", ["creatorID", "title", "date", "time", "timezone", "operators"])
def test_required_fields(cast, body, missing):
    del body[missing]
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": 7}, "operators.0.role"),
        ({"micEnabled": None}, "operators.0.micEnabled"),
        ({"camEnabled": "sometimes"}, "operators.0.camEnabled"),
        ({"id": 0}, "operators.0.id"),
        ({"role": "10"}, "operators.0.role"),
        ({"micEnabled": 1}, "operators.0.micEnabled"),
    ],
)
def test_invalid_operator_entries(cast, body, change, field):
    body["operators"][0].update(change)
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "missing", ["id", "role", "micEnabled", "camEnabled", "screenSharingEnabled"]
)
def test_operator_entries_need_every_field(cast, body, missing):
    del body["operators"][0][missing]
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert f"operators.0.{missing}" in response.json()["error"]["fields"]


def test_the_same_operator_twice_is_rejected(cast, body):
    body["operators"][1]["id"] = body["operators"][0]["id"]
    response = cast.owner.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert "operators" in response.json()["error"]["fields"]


def test_nonexistent_local_time_message_is_clear(cast, body):
    body.update(date="2026-03-08", time="02:30:00")
    message = cast.owner.client().post(URL, body, format="json").json()["error"]["message"]
    assert message.startswith("time: 2026-03-08 02:30:00 does not exist in America/Chicago")


def test_outsider_cannot_use_workspace_a_operators(cast, body):
    response = cast.outsider.client().post(URL, body, format="json")
    assert response.status_code == 400
    assert "creatorID" in response.json()["error"]["fields"]


def test_anonymous_is_401(anonymous, body):
    assert anonymous.post(URL, body, format="json").status_code == 401


def test_session_time_is_declared_as_what_it_is():
    """HH:MM:SS without an offset (spec 004): OpenAPI's ``time`` format requires an offset, so
    the schema declares the field by its pattern instead, for input and output alike."""
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    times = [
        schema["properties"]["time"]
        for schema in components.values()
        if "time" in schema.get("properties", {})
    ]
    assert times
    for time in times:
        assert "format" not in time
        assert re.fullmatch(time["pattern"], "17:30:00")
        assert not re.fullmatch(time["pattern"], "17:30:00Z")
