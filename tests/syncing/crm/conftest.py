"""Fixtures of the provider-independent CRM tests (deals, auto-create, write-back, webhooks).
Provider fakes and their connections live in the provider test modules."""

from __future__ import annotations

import pytest

from syncing.models import Connection, SyncRun
from syncing.runs import sync_run
from syncing.services import connection_create
from tests.factories import MembershipFactory, UserFactory
from tests.rooms.factories import RoomFactory, SectionFactory, StepFactory


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
