"""A HubSpot connection to the fake, shared by the HubSpot test modules."""

from __future__ import annotations

from syncing.models import Connection
from syncing.services import connection_create
from tests.syncing.fakes.hubspot import FakeHubSpot


def hubspot_connection_create(workspace, fake: FakeHubSpot, **credentials) -> Connection:
    """Private-app token of the fake unless ``credentials`` say otherwise; a budget that
    never makes a test wait."""
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.HUBSPOT,
        name="Acme HubSpot",
        base_url=fake.url,
        credentials=credentials or {"access_token": fake.api_key},
        options={"requests_per_second": 1000, "burst": 1000},
    )
