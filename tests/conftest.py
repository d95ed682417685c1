"""Fixtures for the whole suite.

The cast (healthchecks' hc/test.py): ``cast.owner`` and ``cast.member`` belong to workspace A,
``cast.outsider`` to workspace B; each has an API key of their workspace and a logged-in
session client. Every endpoint's tests try all three.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, WorkspaceFactory
from workspaces import keycache
from workspaces.models import Membership, User, Workspace
from workspaces.services import api_key_create

ROOT = Path(__file__).resolve().parent.parent
# Where tests/syncing/fakes listen; test settings and worker processes allow exactly this.
FAKE_UPSTREAM_NETWORKS = ["127.0.0.1/32"]


@dataclass
class Actor:
    user: User
    workspace: Workspace
    key: str

    def client(self, header: str = "x-flowla-api-key") -> APIClient:
        """A client sending this actor's workspace key in ``header``."""
        client = APIClient()
        if header == "Authorization":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")
        else:
            client.credentials(**{"HTTP_" + header.upper().replace("-", "_"): self.key})
        return client

    def session_client(self) -> APIClient:
        client = APIClient()
        client.force_login(self.user)
        return client


@dataclass
class Cast:
    owner: Actor
    member: Actor
    outsider: Actor

    @property
    def workspace(self) -> Workspace:
        return self.owner.workspace

    @property
    def other_workspace(self) -> Workspace:
        return self.outsider.workspace


def make_actor(workspace: Workspace, role: str) -> Actor:
    membership = MembershipFactory(workspace=workspace, role=role)
    issued = api_key_create(workspace=workspace, name=f"{role} key", created_by=membership.user)
    return Actor(user=membership.user, workspace=workspace, key=issued.plaintext)


@pytest.fixture
def cast(db) -> Cast:
    workspace_a = WorkspaceFactory(name="Acme Sales", slug="acme")
    workspace_b = WorkspaceFactory(name="Globex Sales", slug="globex")
    return Cast(
        owner=make_actor(workspace_a, Membership.Role.OWNER),
        member=make_actor(workspace_a, Membership.Role.MEMBER),
        outsider=make_actor(workspace_b, Membership.Role.OWNER),
    )


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Fast password hashing, each test gets its own throttle counters, and upstream calls
    may reach the fake upstreams on 127.0.0.1 (and nothing else private)."""
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = FAKE_UPSTREAM_NETWORKS
    settings.THROTTLE_KEY_PREFIX = f"throttle-test:{uuid.uuid4().hex}"
    keycache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }


def database_url_for_test_db() -> str:
    """The URL of the test database pytest-django created, for processes we start."""
    params = connection.settings_dict
    if params["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("Worker tests need PostgreSQL (set DATABASE_URL).")
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real Celery worker in its own process, consuming from the configured broker and
    writing to the test database. Yields the Popen; stops it afterwards."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.fail("Worker tests need Redis (set CELERY_BROKER_URL=redis://...).")
    from config.celery import app

    app.control.purge()  # tasks left by an earlier run must not run against this database
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "DEBUG": "true",
        "SYNC_UPSTREAM_ALLOWED_NETWORKS": ",".join(FAKE_UPSTREAM_NETWORKS),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
