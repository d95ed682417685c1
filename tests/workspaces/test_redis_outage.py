"""While Redis does not answer, the API keeps answering: keys are read from the database (so a
revocation still holds) and the rate limit admits requests uncounted instead of failing."""

from __future__ import annotations

import pytest

from workspaces import keycache
from workspaces.models import ApiKey
from workspaces.services import api_key_revoke

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    keycache.clear()
    settings.SYNC_REDIS_URL = NOTHING_LISTENS
    yield
    keycache.clear()


def test_requests_are_answered_while_redis_is_down(cast, redis_down, caplog):
    for _ in range(3):
        response = cast.owner.client().get("/api/whoami")
        assert response.status_code == 200
        assert response.json()["workspace"]["slug"] == cast.workspace.slug
    assert "Redis unreachable" in caplog.text


def test_a_key_revoked_while_redis_is_down_is_refused(
    cast, redis_down, django_capture_on_commit_callbacks
):
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200
    prefix = cast.owner.key.split("_")[1]
    with django_capture_on_commit_callbacks(execute=True):  # the broadcast fails, logged
        api_key_revoke(api_key=ApiKey.objects.get(prefix=prefix))

    assert client.get("/api/whoami").status_code == 401
