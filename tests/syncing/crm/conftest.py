"""Fixtures of the CRM tests: the provider-independent ones (deals, auto-create, write-back,
webhooks), and the fake HubSpot with a connection to it, the CRM most of them run against.
The Salesforce and Attio fakes and connections live in their own test modules."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from syncing.models import Connection, SyncRun
from syncing.runs import sync_run
from syncing.services import connection_create
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import RoomFactory, SectionFactory, StepFactory
from tests.syncing.crm.hubspot_setup import hubspot_connection_create
from tests.syncing.fakes.hubspot import FakeHubSpot


@pytest.fixture
def crm_connection(workspace) -> Connection:
    """A HubSpot connection whose upstream is never called (store-only tests)."""
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.HUBSPOT,
        name="HubSpot",
        base_url="http://crm.example",
        credentials={"access_token": "pat-test-token"},
    )


@pytest.fixture
def store_run(crm_connection):
    """A run of the connection's "deals" stream, for calling deals_store directly."""

    def start(trigger=SyncRun.Trigger.MANUAL):
        return sync_run(connection=crm_connection, stream="deals", trigger=trigger)

    return start


@pytest.fixture
def template(workspace):
    """A template room with one section and two pages."""
    room = RoomFactory(workspace=workspace, title="Deal template", is_template=True)
    section = SectionFactory(workspace=workspace, room=room, title="Welcome")
    StepFactory(workspace=workspace, section=section, title="Agenda")
    StepFactory(workspace=workspace, section=section, title="Pricing")
    return room


@pytest.fixture
def member(workspace):
    return MembershipFactory(
        workspace=workspace, user=UserFactory(email="ae.owner@example.com")
    ).user


@pytest.fixture
def hubspot():
    fake = FakeHubSpot().start()
    yield fake
    fake.stop()


@pytest.fixture
def connection(workspace, hubspot) -> Connection:
    """A HubSpot connection to the fake (modules needing other credentials override it)."""
    return hubspot_connection_create(workspace, hubspot)


@pytest.fixture
def tasks_run_inline():
    """A queued task runs at once in this process (the task itself, unmocked)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
