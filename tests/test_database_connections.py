"""Database connections stay bounded (#15 finding 2): 50 concurrent clients against the
development server (runserver, a thread per client, as bin/flowsync start runs it) leave no
connections behind and never exceed one per client in flight; the review saw 93 left open by
one process (CONN_MAX_AGE=60) and 500s once PostgreSQL's limit of 100 was reached."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from tests.conftest import ROOT, database_url_for_test_db, wait_until
from tests.events.factories import SessionFactory
from tests.test_production_server import free_port

pytestmark = pytest.mark.django_db(transaction=True)  # the server reads committed rows

CLIENTS = 50


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def development_server(settings):
    env = {
        **os.environ,
        "DEBUG": "true",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url_for_test_db(),
        "PUBLIC_THROTTLE_RATE": "1000000/min",
    }
    env.pop("DATABASE_CONN_MAX_AGE", None)  # the default policy is what is tested
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        try:
            return requests.get(f"{base}/api/whoami", timeout=5).status_code == 401
        except requests.ConnectionError:
            return False

    try:
        wait_until(answering, timeout=60)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_fifty_concurrent_clients_leave_no_connections_open(development_server):
    session = SessionFactory()
    url = f"{development_server}/api/v1/events/sessions/public/{session.token}"
    before = server_connections()
    peak = [before]
    done = threading.Event()

    def sample():
        try:
            while not done.is_set():
                peak.append(server_connections() - 1)  # less this thread's own connection
                done.wait(0.05)
        finally:
            connection.close()

    def client(_: int) -> list[int]:
        return [requests.get(url, timeout=30).status_code for _ in range(4)]

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]
    finally:
        done.set()
        sampler.join()

    assert statuses == [200] * (CLIENTS * 4)
    assert max(peak) <= before + CLIENTS
    # Closed when each request ended, not kept by threads that are gone.
    wait_until(lambda: server_connections() <= before, timeout=10)
