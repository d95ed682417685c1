"""Reads of the syncing app that other apps use."""

from __future__ import annotations

from syncing.models import Connection
from workspaces.models import Workspace


def connection_for_push(*, workspace: Workspace | int, provider: str) -> Connection | None:
    """The workspace's enabled connection of ``provider`` that local changes are pushed to,
    or None. With several, the oldest: each local object keeps one upstream id, so it lives in
    one upstream account. A connection waiting for new credentials still takes messages (they
    are delivered once the credentials are replaced)."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return (
        Connection.objects.filter(workspace_id=workspace_id, provider=provider, enabled=True)
        .order_by("created_at", "pk")
        .first()
    )
