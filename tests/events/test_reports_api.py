"""Registrant list (paged), session surveys and operators."""

import datetime as dt
from datetime import UTC

import pytest

from events.models import Operator
from tests.events.factories import (
    OperatorFactory,
    RegistrantFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/events/sessions"


def at(minute):
    return dt.datetime(2026, 5, 1, 9, minute, tzinfo=UTC)


@pytest.fixture
def five_registrants(session_a):
    """Registered out of insertion order: the list follows registration time."""
    return [
        RegistrantFactory(session=session_a, email=f"r{minute}@x.example", registered_at=at(minute))
        for minute in (30, 10, 50, 20, 40)
    ]


def emails(response):
    return [item["email"] for item in response.json()]


def test_registrants_in_registration_order_with_total(cast, session_a, five_registrants):
    response = cast.owner.client("api-secret").get(f"{REPORTS}/registrants/{session_a.token}")
    assert response.status_code == 200
    assert emails(response) == [f"r{m}@x.example" for m in (10, 20, 30, 40, 50)]
    assert response["X-Total-Count"] == "5"
    assert "Link" not in response


def test_registrant_fields(cast, session_a):
    registrant = RegistrantFactory(
        session=session_a,
        email="ada@x.example",
        first_name="Ada",
        last_name="L",
        answers={"Company size?": "51-200"},
        registered_at=dt.datetime(2026, 5, 1, 9, 0, 0, 250000, tzinfo=UTC),
        attended=True,
        joined_at=dt.datetime(2026, 5, 5, 13, 50, tzinfo=UTC),
        left_at=dt.datetime(2026, 5, 5, 14, 55, tzinfo=UTC),
        minutes_watched=55,
    )
    [item] = cast.owner.client().get(f"{REPORTS}/registrants/{session_a.token}").json()
    assert item.pop("loginLink").startswith("http://127.0.0.1:8000/join/")
    assert item == {
        "id": registrant.id,
        "email": "ada@x.example",
        "firstName": "Ada",
        "lastName": "L",
        "eventSessionToken": session_a.token,
        "registeredAt": "2026-05-01T09:00:00.250Z",
        "answers": {"Company size?": "51-200"},
        "attended": True,
        "joinedAt": "2026-05-05T13:50:00.000Z",
        "leftAt": "2026-05-05T14:55:00.000Z",
        "minutesWatched": 55,
    }


def test_pages(cast, session_a, five_registrants):
    client = cast.owner.client()
    url = f"{REPORTS}/registrants/{session_a.token}"

    second = client.get(url, {"page": 2, "limit": 2})
    assert emails(second) == ["r30@x.example", "r40@x.example"]
    assert second["X-Total-Count"] == "5"
    assert second["Link"] == (
        f'<http://testserver{url}?page=3&limit=2>; rel="next", '
        f'<http://testserver{url}?page=1&limit=2>; rel="prev"'
    )
    last = client.get(url, {"page": 3, "limit": 2})
    assert emails(last) == ["r50@x.example"]
    assert last["Link"] == f'<http://testserver{url}?page=2&limit=2>; rel="prev"'
    beyond = client.get(url, {"page": 4, "limit": 2})
    assert beyond.json() == []
    assert beyond["X-Total-Count"] == "5"
    first = client.get(url, {"limit": 2})
    assert emails(first) == ["r10@x.example", "r20@x.example"]


def test_default_limit_is_100(cast, session_a):
    RegistrantFactory.create_batch(101, session=session_a)
    response = cast.owner.client().get(f"{REPORTS}/registrants/{session_a.token}")
    assert len(response.json()) == 100
    assert response["X-Total-Count"] == "101"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "all"}, "limit"),
    ],
)
def test_bad_paging_is_400(cast, session_a, params, field):
    response = cast.owner.client().get(f"{REPORTS}/registrants/{session_a.token}", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_registrant_list_query_count_is_fixed(cast, session_a, django_assert_max_num_queries):
    RegistrantFactory.create_batch(50, session=session_a)
    client = cast.owner.client()
    client.get("/api/whoami")
    with django_assert_max_num_queries(7):
        assert len(client.get(f"{REPORTS}/registrants/{session_a.token}").json()) == 50


def test_surveys_of_the_session(cast, session_a):
    first = SurveyFactory(session=session_a, title="Poll", questions=["Useful?", "Next topic?"])
    SurveyResponseFactory.create_batch(2, survey=first)
    second = SurveyFactory(session=session_a, title="Exit", questions=["Score"])
    SurveyFactory()  # another session's

    body = cast.owner.client().get(f"{REPORTS}/surveys/{session_a.token}").json()

    assert [
        (item["id"], item["title"], item["questions"], item["responseCount"]) for item in body
    ] == [
        (first.id, "Poll", ["Useful?", "Next topic?"], 2),
        (second.id, "Exit", ["Score"], 0),
    ]


def test_operator_list(cast):
    olga = OperatorFactory(
        workspace=cast.workspace,
        email="olga@acme.example",
        first_name="Olga",
        last_name="O",
        permission=10,
    )
    pete = OperatorFactory(workspace=cast.workspace, email="pete@acme.example", first_name="Pete")
    OperatorFactory(workspace=cast.other_workspace)

    body = cast.member.client("api-secret").get("/api/v1/operators").json()

    assert body == [
        {
            "id": olga.id,
            "email": "olga@acme.example",
            "firstName": "Olga",
            "lastName": "O",
            "permission": 10,
        },
        {
            "id": pete.id,
            "email": "pete@acme.example",
            "firstName": "Pete",
            "lastName": "Operator",
            "permission": 0,
        },
    ]


def test_operator_create(cast):
    response = cast.owner.client().post(
        "/api/v1/operators",
        {"email": "nina@acme.example", "firstName": "Nina", "lastName": "N", "permission": 10},
        format="json",
    )
    assert response.status_code == 201
    operator = Operator.objects.get()
    assert response.json() == {
        "id": operator.id,
        "email": "nina@acme.example",
        "firstName": "Nina",
        "lastName": "N",
        "permission": 10,
    }
    assert operator.workspace == cast.workspace


def test_operator_create_defaults(cast):
    response = cast.owner.client().post(
        "/api/v1/operators", {"email": "x@acme.example", "firstName": "X"}, format="json"
    )
    assert response.json()["permission"] == 0
    assert response.json()["lastName"] == ""


def test_operator_email_is_unique_per_workspace_case_insensitively(cast):
    OperatorFactory(workspace=cast.workspace, email="nina@acme.example")
    OperatorFactory(workspace=cast.other_workspace, email="sam@acme.example")
    client = cast.owner.client()

    duplicate = client.post(
        "/api/v1/operators", {"email": "NINA@acme.example", "firstName": "N"}, format="json"
    )
    assert duplicate.status_code == 409
    assert list(duplicate.json()["error"]["fields"]) == ["email"]
    other_workspace_email = client.post(
        "/api/v1/operators", {"email": "sam@acme.example", "firstName": "S"}, format="json"
    )
    assert other_workspace_email.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"firstName": ""}, "firstName"),
        ({"permission": 11}, "permission"),
        ({"permission": -1}, "permission"),
        ({"permission": "admin"}, "permission"),
        ({"permission": "10"}, "permission"),
        ({"firstName": 7}, "firstName"),
    ],
)
def test_operator_create_bad_input(cast, change, field):
    data = {"email": "ok@acme.example", "firstName": "Ok", **change}
    response = cast.owner.client().post("/api/v1/operators", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Operator.objects.exists()
