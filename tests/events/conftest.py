import pytest

from tests.events.factories import OperatorFactory, SessionFactory


@pytest.fixture
def session_a(cast):
    """A published session of workspace A (the cast's owner and member)."""
    return SessionFactory(workspace=cast.workspace)


@pytest.fixture
def session_b(cast):
    """A published session of workspace B (the outsider's)."""
    return SessionFactory(workspace=cast.other_workspace)


@pytest.fixture
def operator_a(cast):
    return OperatorFactory(workspace=cast.workspace, email="olga@acme.example", first_name="Olga")
