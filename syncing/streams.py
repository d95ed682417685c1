"""Pull streams, by provider.

A provider package may have a ``streams`` module whose ``STREAMS`` maps a stream name to a
``Stream``; ``stream_run`` runs one under the connection's no-overlap lock and records it:

    STREAMS = {"rooms": Stream(pull=rooms_pull, every=timedelta(minutes=15))}

``pull(run)`` reads ``run.run.full_refresh``, ``run.run.cursor_before`` and
``run.run.started_at``, upserts page by page (``run.count(...)``, ``run.checkpoint()``) and sets
``run.cursor_after``. Extra keyword arguments of ``stream_run`` (e.g. ``ids`` for a webhook's
deals) reach ``pull`` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.db import transaction
from kombu.exceptions import OperationalError

from syncing.coordination import LockHeld
from syncing.models import Connection, SyncRun


@dataclass(frozen=True)
class Stream:
    pull: Callable[..., None]
    # How often the connection's schedule runs it (editable per connection in the admin).
    every: timedelta
    # How often a second schedule runs it as a full refresh (a reconciliation), if at all.
    full_refresh_every: timedelta | None = None


class UnknownStreamError(LookupError):
    pass


def streams_of(provider: str) -> dict[str, Stream]:
    try:
        module = import_module(f"syncing.providers.{provider}.streams")
    except ModuleNotFoundError as error:
        if not f"syncing.providers.{provider}.streams".startswith(error.name or "-"):
            raise
        return {}
    return module.STREAMS


def stream_get(provider: str, name: str) -> Stream:
    try:
        return streams_of(provider)[name]
    except KeyError:
        raise UnknownStreamError(f"{provider} has no stream {name!r}") from None


def stream_run(
    *,
    connection: Connection,
    stream: str,
    trigger: str = SyncRun.Trigger.MANUAL,
    full_refresh: bool = False,
    run_id: int | None = None,
    **options,
) -> SyncRun | None:
    """Run one stream of the connection now. Returns the finished run, or None when a run of
    the same connection and stream is already under way, the connection is disabled, or a
    scheduled run finds it waiting for new credentials (no point hammering the upstream).
    ``run_id`` names the queued run to record it in; a queued run that does not start is
    recorded as skipped."""
    # Imported here: runs -> services -> schedules -> this module's registry.
    from syncing.runs import run_skip, sync_run

    pull = stream_get(connection.provider, stream).pull
    if not connection.enabled or (
        trigger == SyncRun.Trigger.SCHEDULE and connection.status == Connection.Status.NEEDS_REAUTH
    ):
        if run_id is not None:
            run_skip(run_id=run_id, reason="The connection is disabled.")
        return None
    try:
        with sync_run(
            connection=connection,
            stream=stream,
            trigger=trigger,
            full_refresh=full_refresh,
            run_id=run_id,
        ) as recorder:
            pull(recorder, **options)
    except LockHeld:
        if run_id is not None:
            run_skip(run_id=run_id, reason="A run of this stream was already under way.")
        return None
    return recorder.run


def stream_queue(
    *,
    connection: Connection,
    stream: str,
    full_refresh: bool = False,
    trigger: str = SyncRun.Trigger.MANUAL,
) -> SyncRun:
    """Record a queued run and have a worker run it once the caller's transaction commits.
    The run's page and the API show it from now on; the worker records into the same row."""
    from syncing.runs import run_skip
    from syncing.tasks import run_stream

    stream_get(connection.provider, stream)
    run = SyncRun.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        stream=stream,
        trigger=trigger,
        full_refresh=full_refresh,
        status=SyncRun.Status.QUEUED,
    )

    def enqueue() -> None:
        try:
            run_stream.delay(connection.pk, stream, trigger, full_refresh, run_id=run.pk)
        except OperationalError:  # the change committed; the caller sees the run skipped
            run_skip(run_id=run.pk, reason="The task queue could not be reached.")

    transaction.on_commit(enqueue)
    return run
