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

from syncing.coordination import LockHeld
from syncing.models import Connection, SyncRun


@dataclass(frozen=True)
class Stream:
    pull: Callable[..., None]
    # How often the connection's schedule runs it (editable per connection in the admin).
    every: timedelta


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
    **options,
) -> SyncRun | None:
    """Run one stream of the connection now. Returns the finished run, or None when a run of
    the same connection and stream is already under way, the connection is disabled, or a
    scheduled run finds it waiting for new credentials (no point hammering the upstream)."""
    # Imported here: runs -> services -> schedules -> this module's registry.
    from syncing.runs import sync_run

    pull = stream_get(connection.provider, stream).pull
    if not connection.enabled or (
        trigger == SyncRun.Trigger.SCHEDULE and connection.status == Connection.Status.NEEDS_REAUTH
    ):
        return None
    try:
        with sync_run(
            connection=connection, stream=stream, trigger=trigger, full_refresh=full_refresh
        ) as recorder:
            pull(recorder, **options)
    except LockHeld:
        return None
    return recorder.run


def stream_queue(
    *,
    connection: Connection,
    stream: str,
    full_refresh: bool = False,
    trigger: str = SyncRun.Trigger.MANUAL,
) -> None:
    """Have a worker run the stream once the caller's transaction commits."""
    from syncing.tasks import run_stream

    stream_get(connection.provider, stream)
    transaction.on_commit(lambda: run_stream.delay(connection.pk, stream, trigger, full_refresh))
