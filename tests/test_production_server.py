"""The production web server as deploy/ runs it: collectstatic, then gunicorn (not runserver)
with DEBUG off, on a free port, against the test database on PostgreSQL and the Redis broker,
answering a smoke set of requests: health, a static asset, the admin login page, an API call
with a key, and an unknown API path."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.conftest import ROOT, database_url_for_test_db, wait_until
from tests.factories import WorkspaceFactory
from workspaces.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)  # the server reads committed rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answering(base: str) -> bool:
    """The server answers (its workers have booted: the socket listens before)."""
    try:
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


@pytest.fixture
def production_server(settings, tmp_path: Path):
    """Yields the server's base URL. The secret key is the test process's, so API keys made
    here authenticate there."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url_for_test_db(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "FLOWSYNC_DATA_DIR": str(tmp_path / "data"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "deploy/gunicorn.conf.py"]
    server = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: server.poll() is not None or answering(base), timeout=90)
        assert server.poll() is None, server.stdout.read()
        yield base, tmp_path / "static"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_gunicorn_serves_health_static_files_the_admin_and_the_api(production_server):
    base, static_root = production_server
    workspace = WorkspaceFactory(slug="smoke")
    key = api_key_create(workspace=workspace).plaintext

    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"]["ok"] is True

    login = requests.get(f"{base}/admin/login/", timeout=10)
    assert login.status_code == 200
    assert "csrfmiddlewaretoken" in login.text
    stylesheet = re.search(r'href="/static/([^"]+\.css)"', login.text).group(1)
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"].values()
    assert stylesheet in hashed  # the page links the collected, content-hashed copy

    css = requests.get(
        f"{base}/static/{stylesheet}", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"]

    whoami = requests.get(f"{base}/api/whoami", headers={"x-flowla-api-key": key}, timeout=10)
    assert whoami.status_code == 200
    assert whoami.json()["workspace"]["slug"] == "smoke"

    unknown = requests.get(f"{base}/api/no-such-endpoint", timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"  # the error shape, no debug page
