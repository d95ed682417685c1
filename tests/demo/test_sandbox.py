"""The demo sandbox a fresh install syncs from: a real socket on loopback, the demo workspace's
connection pointed at it, the same rooms (same ids) on every start."""

import pytest

from demo.sandbox import ROOM_COUNT, sandbox_start
from rooms.models import Room
from syncing.streams import stream_run
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_sync_now_pulls_the_sandbox_rooms_and_a_restart_serves_the_same_ones():
    workspace = WorkspaceFactory(slug="demo")
    first, connection = sandbox_start(workspace=workspace)
    try:
        run = stream_run(connection=connection, stream="rooms")
    finally:
        first.stop()
    assert (run.status, run.created) == ("succeeded", ROOM_COUNT)
    pulled = set(Room.objects.for_workspace(workspace).values_list("upstream_id", "title"))

    second, same_connection = sandbox_start(workspace=workspace)
    try:
        rerun = stream_run(connection=same_connection, stream="rooms", full_refresh=True)
    finally:
        second.stop()
    assert same_connection.pk == connection.pk
    assert same_connection.base_url == second.url != first.url
    assert rerun.created == 0
    assert set(Room.objects.for_workspace(workspace).values_list("upstream_id", "title")) == pulled
