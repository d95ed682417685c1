"""rooms.compiled: a values() read compiled once answers each call with that call's parameters,
exactly as the queryset would."""

from __future__ import annotations

from uuid import UUID

import pytest

from rooms.compiled import CompiledValues
from rooms.models import Room
from tests.rooms.factories import ContactFactory, RoomFactory

pytestmark = pytest.mark.django_db

ROOM_STAND_IN = UUID("00000000-0000-4000-8000-00000000abcd")


def _titles(*, workspace_id: int, room_id: UUID):
    rooms = Room.objects.for_workspace(workspace_id).filter(pk=room_id)
    return rooms.values("title", "primary_contact__email", "created_at")


def test_each_call_reads_its_own_parameters(cast, django_assert_num_queries):
    compiled = CompiledValues(_titles, workspace_id=-1, room_id=ROOM_STAND_IN)
    contact = ContactFactory(workspace=cast.workspace, email="ana@buyer.example")
    first = RoomFactory(workspace=cast.workspace, title="First", primary_contact=contact)
    second = RoomFactory(workspace=cast.workspace, title="Second")
    other = RoomFactory(workspace=cast.other_workspace, title="Other")

    for room in (first, second, other):
        params = {"workspace_id": room.workspace_id, "room_id": room.pk}
        with django_assert_num_queries(1):
            rows = compiled.rows(**params)
        assert rows == list(_titles(**params))
    assert [
        row["title"] for row in compiled.rows(workspace_id=first.workspace_id, room_id=first.pk)
    ] == ["First"]
    # Another workspace's room is not found through this one.
    assert compiled.rows(workspace_id=cast.workspace.pk, room_id=other.pk) == []


def test_a_stand_in_missing_from_the_statement_is_refused(cast):
    compiled = CompiledValues(
        lambda *, workspace_id, room_id: Room.objects.filter(pk=room_id).values("title"),
        workspace_id=-1,
        room_id=ROOM_STAND_IN,
    )
    with pytest.raises(ValueError, match="workspace_id"):
        compiled.rows(workspace_id=cast.workspace.pk, room_id=ROOM_STAND_IN)
