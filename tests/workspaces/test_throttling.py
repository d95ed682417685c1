"""Throttles: atomic under concurrency (#15 finding 7), X-Forwarded-For only from trusted
proxies (finding 3), and the per-request fixed cost: no database query for a known key and
revocation still seen at once (#14 item 4)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.events.factories import SessionFactory
from workspaces import keycache
from workspaces.models import ApiKey
from workspaces.services import api_key_revoke
from workspaces.throttling import sliding_window_hit

pytestmark = pytest.mark.django_db


def test_concurrent_hits_admit_exactly_the_limit():
    key = f"concurrency:{uuid.uuid4().hex}"
    admitted = []
    start = threading.Barrier(8)

    def caller():
        start.wait()
        for _ in range(50):
            if sliding_window_hit(key, limit=120, duration=86_400, now=time.time()) is None:
                admitted.append(1)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(admitted) == 120


def test_the_previous_window_still_counts_after_a_boundary():
    key = f"boundary:{uuid.uuid4().hex}"
    end_of_window = 86_400 * 20_000 - 1.0
    assert all(
        sliding_window_hit(key, limit=10, duration=86_400, now=end_of_window) is None
        for _ in range(10)
    )

    # Two seconds later a new window began, but nearly all of the last one still overlaps.
    wait = sliding_window_hit(key, limit=10, duration=86_400, now=end_of_window + 2)

    assert wait is not None
    assert wait > 0


def test_a_random_forwarded_for_does_not_escape_the_public_throttle(anonymous, settings):
    settings.PUBLIC_THROTTLE_RATE = "3/min"
    session = SessionFactory()
    url = f"/api/v1/events/sessions/public/{session.token}"

    statuses = [
        anonymous.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(5)
    ]

    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(anonymous, settings):
    settings.PUBLIC_THROTTLE_RATE = "2/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    session = SessionFactory()
    url = f"/api/v1/events/sessions/public/{session.token}"

    def get(client_address: str, spoofed: str = "198.51.100.7") -> int:
        # The proxy appends the address it saw; whatever the client sent comes before it.
        forwarded = f"{spoofed}, {client_address}"
        return anonymous.get(url, HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [get("203.0.113.1", spoofed=f"10.0.0.{n}") for n in range(3)] == [200, 200, 429]
    assert get("203.0.113.2") == 200


def test_a_known_key_costs_no_database_query(cast):
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/whoami")

    assert response.status_code == 200
    assert response.json()["workspace"]["id"] == cast.workspace.id
    # The test's own transaction turns the request's atomic block into a savepoint.
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert statements == []


def test_a_revoked_cached_key_is_refused_at_once(cast):
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200

    api_key_revoke(api_key=ApiKey.objects.get(prefix=cast.owner.key[3:11]))

    assert client.get("/api/whoami").status_code == 401


def test_a_revocation_in_another_process_is_seen_on_the_next_request(
    cast, django_capture_on_commit_callbacks
):
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200

    # What another process's api_key_revoke does: the row, then the generation after commit.
    ApiKey.objects.filter(prefix=cast.owner.key[3:11]).update(revoked_at="2026-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        keycache.generation_bump()

    assert client.get("/api/whoami").status_code == 401


def test_a_cached_key_is_read_again_after_its_maximum_age(cast, settings):
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200
    ApiKey.objects.filter(prefix=cast.owner.key[3:11]).update(revoked_at="2026-01-01T00:00Z")
    assert client.get("/api/whoami").status_code == 200  # changed around the services

    settings.API_KEY_CACHE_SECONDS = 0

    assert client.get("/api/whoami").status_code == 401


def test_without_redis_the_api_still_answers(cast, settings):
    """While Redis restarts: keys read from the database, throttles open, no 500."""
    client = cast.owner.client()
    assert client.get("/api/whoami").status_code == 200
    settings.SYNC_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    assert client.get("/api/whoami").status_code == 200
    api_key_revoke(api_key=ApiKey.objects.get(prefix=cast.owner.key[3:11]))
    assert client.get("/api/whoami").status_code == 401
