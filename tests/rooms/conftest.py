import pytest

from tests.rooms.factories import RoomFactory


@pytest.fixture
def room(cast):
    """A room of workspace A (the owner's and the member's)."""
    return RoomFactory(workspace=cast.workspace, title="Acme <> Flowsync")


@pytest.fixture
def other_room(cast):
    """A room of workspace B (the outsider's)."""
    return RoomFactory(workspace=cast.other_workspace, title="Globex room")
