"""Admin logins locked out after failures, failed API authentication throttled, a new API key
never in a cookie, and the browser protections of a production configuration (#15 findings 8
and 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_owner(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.set_password("correct horse battery staple")
    cast.owner.user.save()
    return cast.owner.user


def test_a_new_api_key_never_travels_in_a_cookie(client, cast, staff_owner):
    client.force_login(staff_owner)

    response = client.post(
        "/admin/workspaces/apikey/add/", {"workspace": cast.workspace.pk, "name": "from admin"}
    )

    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert "fs_" not in str(response.cookies)
    shown = client.get(response["Location"])
    assert "Copy this API key now" in shown.content.decode()
    assert "fs_" not in str(shown.cookies)


def test_admin_logins_lock_out_after_five_failures(client, staff_owner):
    def login(password: str):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": staff_owner.email, "password": password},
        )

    statuses = [login("wrong").status_code for _ in range(5)]
    locked = login("correct horse battery staple")

    assert statuses == [200, 200, 200, 200, 429]  # the form again, then locked out

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failed_api_authentication_is_throttled_per_address(anonymous, settings):
    settings.API_AUTH_FAILURE_RATE = "3/min"
    statuses = []
    for n in range(5):
        anonymous.credentials(HTTP_X_FLOWLA_API_KEY=f"fs_guess{n:04d}_" + "A" * 43)
        statuses.append(anonymous.get("/api/whoami").status_code)

    assert statuses == [401, 401, 401, 429, 429]


def test_a_valid_key_is_not_throttled_by_others_failures(anonymous, cast, settings):
    settings.API_AUTH_FAILURE_RATE = "1/min"
    anonymous.credentials(HTTP_X_FLOWLA_API_KEY="fs_guess000_" + "A" * 43)
    anonymous.get("/api/whoami")

    assert cast.owner.client().get("/api/whoami").status_code == 200


def test_pages_carry_a_content_security_policy(client, staff_owner):
    client.force_login(staff_owner)

    policy = client.get("/admin/").headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def production_settings(**environment) -> dict:
    """Settings a process started with DEBUG off computes (its own interpreter)."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({name: getattr(settings, name) for name in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS')}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "flowsync.example",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_debug_cookies_are_secure_and_hsts_is_on():
    assert production_settings() == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
    }


def test_an_https_response_carries_hsts(anonymous, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000

    response = anonymous.get("/healthz", secure=True)

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
