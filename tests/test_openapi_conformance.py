"""schemathesis against flowsync's own OpenAPI schema: every operation, a bounded number of
generated requests each, authenticated as a workspace owner. Fails on any 5xx and on any
response (status, headers or body) the schema does not declare. Endpoints added later are
covered without further work."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

# Load the schema in-process: fetching /api/schema at import time would need a database.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _invalid_credentials_are_not_throttled(settings):
    """The checks send invalid credentials on purpose, many per operation, and expect 401;
    the failed-authentication throttle has its own tests (tests/workspaces/test_security.py)."""
    settings.API_AUTH_FAILURE_RATE = "100000/min"


@pytest.fixture
def owner_headers(cast):
    return {"x-flowla-api-key": cast.owner.key}


@pytest.fixture(autouse=True)
def _keep_test_connection_open():
    """Django closes the connection when a WSGI request finishes; the test transaction lives
    on that connection, so (like Django's test client) keep it open."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, owner_headers):
    case.call_and_validate(headers=owner_headers)
