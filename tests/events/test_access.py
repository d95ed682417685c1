"""The cast on every authenticated webinar path: owner and member of workspace A read A's
session; the outsider (workspace B) gets 404 for it, as for an unknown token; no key is 401."""

import pytest

from tests.events.factories import SurveyFactory

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/events/sessions"
SESSION_PATHS = [
    f"{REPORTS}/registrants/{{token}}",
    f"{REPORTS}/surveys/{{token}}",
    f"{REPORTS}/registrants/{{token}}/csv",
    f"{REPORTS}/attendee-chat/{{token}}/csv",
    f"{REPORTS}/operator-chat/{{token}}/csv",
    f"{REPORTS}/surveys/{{token}}/{{survey}}/csv",
    f"{REPORTS}/compiled/{{token}}",
]


@pytest.fixture
def paths(session_a):
    survey = SurveyFactory(session=session_a)
    return [path.format(token=session_a.token, survey=survey.id) for path in SESSION_PATHS]


@pytest.mark.parametrize("index", range(len(SESSION_PATHS)))
@pytest.mark.parametrize("actor", ["owner", "member"])
@pytest.mark.parametrize("header", ["api-secret", "x-flowla-api-key", "Authorization"])
def test_workspace_members_read_their_sessions(cast, paths, index, actor, header):
    assert getattr(cast, actor).client(header).get(paths[index]).status_code == 200


@pytest.mark.parametrize("index", range(len(SESSION_PATHS)))
def test_session_login_works(cast, paths, index):
    assert cast.member.session_client().get(paths[index]).status_code == 200


@pytest.mark.parametrize("index", range(len(SESSION_PATHS)))
def test_another_workspace_session_is_404(cast, paths, index):
    response = cast.outsider.client("api-secret").get(paths[index])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", SESSION_PATHS)
def test_unknown_tokens_are_404(cast, path):
    response = cast.owner.client().get(path.format(token="unknown", survey=1))
    assert response.status_code == 404


@pytest.mark.parametrize("index", range(len(SESSION_PATHS)))
def test_no_key_is_401(anonymous, paths, index):
    assert anonymous.get(paths[index]).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/events/sessions"),
        ("post", "/api/v1/events"),
        ("get", "/api/v1/operators"),
        ("post", "/api/v1/operators"),
    ],
)
def test_workspace_paths_need_a_key(anonymous, db, method, path):
    assert getattr(anonymous, method)(path, {}, format="json").status_code == 401


def test_operator_list_is_scoped(cast, operator_a):
    assert cast.owner.client().get("/api/v1/operators").json()[0]["id"] == operator_a.id
    assert cast.member.client().get("/api/v1/operators").json()[0]["id"] == operator_a.id
    assert cast.outsider.client().get("/api/v1/operators").json() == []


def test_outsider_creates_operators_in_its_own_workspace(cast):
    response = cast.outsider.client().post(
        "/api/v1/operators", {"email": "b@globex.example", "firstName": "B"}, format="json"
    )
    assert response.status_code == 201
    assert cast.owner.client().get("/api/v1/operators").json() == []


def test_trailing_slash_works(cast, session_a):
    response = cast.owner.client().get(f"{REPORTS}/registrants/{session_a.token}/")
    assert response.status_code == 200
