import pytest

pytestmark = pytest.mark.django_db

SHAPE_KEYS = {"status", "code", "message", "fields"}


def assert_error_shape(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == SHAPE_KEYS
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code


def test_unknown_api_path_is_json_404(cast):
    assert_error_shape(cast.owner.client().get("/api/no-such-thing"), 404, "not_found")


def test_unknown_api_path_is_404_without_credentials_too(anonymous):
    assert_error_shape(anonymous.get("/api/v9/nothing/here/"), 404, "not_found")


def test_wrong_method_is_405(cast):
    assert_error_shape(cast.owner.client().delete("/api/whoami"), 405, "method_not_allowed")


def test_unsupported_media_type_is_415(cast, settings):
    settings.ROOT_URLCONF = "tests.workspaces.error_urls"
    response = cast.owner.client().generic(
        "POST", "/api/test/echo", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert_error_shape(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(cast, settings):
    settings.ROOT_URLCONF = "tests.workspaces.error_urls"
    response = cast.owner.client().generic(
        "POST", "/api/test/echo", "{not json", content_type="application/json"
    )
    assert_error_shape(response, 400, "parse_error")


def test_unexpected_exception_is_json_500(cast, settings):
    settings.ROOT_URLCONF = "tests.workspaces.error_urls"
    client = cast.owner.client()
    client.raise_request_exception = False
    response = client.get("/api/test/broken")
    assert_error_shape(response, 500, "server_error")
    assert "boom" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_domain_error_after_a_write_stores_nothing(cast, settings):
    from workspaces.models import Workspace

    settings.ROOT_URLCONF = "tests.workspaces.error_urls"
    response = cast.owner.client().post("/api/test/write-then-fail", {}, format="json")

    assert_error_shape(response, 400, "invalid")
    assert response.json()["error"]["fields"] == {"name": ["rejected after a write"]}
    assert not Workspace.objects.filter(slug="half-written").exists()


def test_unknown_api_path_post_is_json_404_not_csrf_page(cast):
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(cast.owner.user)
    response = browser.post("/api/no-such-thing", {}, format="json")
    assert_error_shape(response, 404, "not_found")


def test_throttled_caller_gets_429_with_retry_after(cast, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = cast.owner.client()
    statuses = [client.get("/api/whoami").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/whoami")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_throttle_counts_per_key(cast, settings):
    settings.API_THROTTLE_RATE = "2/min"
    owner = cast.owner.client()
    for _ in range(3):
        owner.get("/api/whoami")

    assert cast.member.client().get("/api/whoami").status_code == 200
