"""Reads of the syncing app that other apps use."""

from __future__ import annotations

from django.db.models import QuerySet

from syncing.models import Connection, SyncRun
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


def connection_list(*, workspace: Workspace) -> QuerySet[Connection]:
    return Connection.objects.for_workspace(workspace).order_by("name", "pk")


def run_list(
    *,
    workspace: Workspace,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
) -> QuerySet[SyncRun]:
    """The workspace's runs, newest first; each filter is optional."""
    return runs_filtered(
        SyncRun.objects.for_workspace(workspace).order_by("-started_at", "-pk"),
        connection_id=connection_id,
        stream=stream,
        status=status,
    )


def runs_filtered(
    runs: QuerySet[SyncRun],
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
) -> QuerySet[SyncRun]:
    if connection_id is not None:
        runs = runs.filter(connection_id=connection_id)
    if stream is not None:
        runs = runs.filter(stream=stream)
    if status is not None:
        runs = runs.filter(status=status)
    return runs
