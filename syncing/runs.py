"""Run a stream under a no-overlap lock and record it as a SyncRun.

    with sync_run(connection=c, stream="rooms", trigger=SyncRun.Trigger.SCHEDULE) as run:
        client = run.client()
        for page in client.room_pages():
            ...                              # upsert; run.count(created=3, unchanged=97)
            run.checkpoint()                 # saves counts, keeps the lock alive
        run.cursor_after = {...}

An upstream error ends the run as failed (recorded, not raised); any other exception is
recorded and raised. ``cursor_after`` is stored for a run that finished; a failed run stores
``resume_from`` instead, when the stream set one (the cursor of the work it finished).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from syncing import conf
from syncing.coordination import Lock, exclusive
from syncing.errors import AuthError, RecordError, UpstreamError
from syncing.http import UpstreamClient
from syncing.models import Connection, SyncRun
from syncing.services import connection_client, connection_set_status

logger = logging.getLogger(__name__)

COUNTERS = ("created", "updated", "unchanged", "failed")


@dataclass
class RunRecorder:
    run: SyncRun
    connection: Connection
    lock: Lock
    cursor_after: object = None
    resume_from: object = None
    _clients: list[UpstreamClient] = field(default_factory=list)

    def client(self) -> UpstreamClient:
        """The connection's client; its upstream calls are counted on the run."""
        client = connection_client(self.connection)
        self._clients.append(client)
        return client

    def count(self, **outcomes: int) -> None:
        for name, value in outcomes.items():
            if name not in COUNTERS:
                raise TypeError(f"unknown counter {name!r}")
            setattr(self.run, name, getattr(self.run, name) + value)

    def record_failure(self, error: RecordError | UpstreamError) -> None:
        """One record (or call) failed; the run goes on. Counted as failed."""
        self.run.failed += 1
        self._remember(error)

    def _remember(self, error: RecordError | UpstreamError) -> None:
        self.run.error_count += 1
        if len(self.run.errors) < conf.get("SYNC_RUN_MAX_ERRORS"):
            self.run.errors.append(
                {
                    "message": error.message,
                    "upstreamId": getattr(error, "upstream_id", None),
                    "correlationId": getattr(error, "correlation_id", None),
                    "status": getattr(error, "status", None),
                }
            )

    def checkpoint(self) -> None:
        """Save the counts so far and keep the lock from expiring during a long run."""
        self.run.upstream_calls = sum(client.calls for client in self._clients)
        self.run.save(update_fields=[*COUNTERS, "errors", "error_count", "upstream_calls"])
        if not self.lock.extend():
            logger.warning("sync run %s lost its lock %s", self.run.pk, self.lock.key)

    def _finish(self, status: str) -> None:
        self.run.status = status
        self.run.finished_at = timezone.now()
        self.run.upstream_calls = sum(client.calls for client in self._clients)
        if status != SyncRun.Status.FAILED:
            self.run.cursor_after = self.cursor_after
        elif self.resume_from is not None:
            self.run.cursor_after = self.resume_from
        self.run.save()
        for client in self._clients:
            client.close()


def _abandon_stale_runs(connection: Connection, stream: str) -> None:
    """Runs left "running" by a killed worker (we hold the lock, so none is alive)."""
    stale = SyncRun.objects.filter(
        connection=connection, stream=stream, status=SyncRun.Status.RUNNING
    )
    for run in stale:
        run.errors.append({"message": "The worker stopped before the run finished."})
        run.error_count += 1
        run.status = SyncRun.Status.FAILED
        run.finished_at = timezone.now()
        run.save(update_fields=["errors", "error_count", "status", "finished_at"])


def _start_queued(
    run_id: int | None, connection: Connection, stream: str, cursor_before
) -> SyncRun | None:
    """The queued run ``run_id`` (see ``streams.stream_queue``), now running; None when there
    is none to start (no id, or it was already started or skipped)."""
    if run_id is None:
        return None
    started = SyncRun.objects.filter(
        pk=run_id, connection=connection, stream=stream, status=SyncRun.Status.QUEUED
    ).update(status=SyncRun.Status.RUNNING, started_at=timezone.now(), cursor_before=cursor_before)
    return SyncRun.objects.get(pk=run_id) if started else None


def run_skip(*, run_id: int, reason: str) -> None:
    """A queued run that will not start: recorded as skipped with the reason."""
    run = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).first()
    if run is None:
        return
    run.status = SyncRun.Status.SKIPPED
    run.finished_at = timezone.now()
    run.errors = [{"message": reason}]
    run.error_count = 1
    run.save(update_fields=["status", "finished_at", "errors", "error_count"])


@contextmanager
def sync_run(
    *,
    connection: Connection,
    stream: str,
    trigger: str,
    full_refresh: bool = False,
    run_id: int | None = None,
) -> Iterator[RunRecorder]:
    """Raises coordination.LockHeld when a run of this connection and stream is under way.
    ``run_id``: a queued run to record this one in (else a new run is created)."""
    with exclusive(f"run:{connection.pk}:{stream}", ttl=conf.get("SYNC_LOCK_TTL")) as lock:
        _abandon_stale_runs(connection, stream)
        last = (
            SyncRun.objects.filter(connection=connection, stream=stream)
            .exclude(cursor_after=None)
            .values_list("cursor_after", flat=True)
            .first()
        )
        cursor_before = None if full_refresh else last
        run = _start_queued(run_id, connection, stream, cursor_before) or SyncRun.objects.create(
            workspace_id=connection.workspace_id,
            connection=connection,
            stream=stream,
            trigger=trigger,
            full_refresh=full_refresh,
            cursor_before=cursor_before,
        )
        recorder = RunRecorder(run=run, connection=connection, lock=lock)
        try:
            yield recorder
        except UpstreamError as error:
            recorder._remember(error)
            recorder._finish(SyncRun.Status.FAILED)
            if not isinstance(error, AuthError):
                connection_set_status(
                    connection=connection,
                    status=Connection.Status.FAILING,
                    detail=f"{stream}: {error.message}",
                )
            return
        except BaseException as error:
            recorder.run.errors.append({"message": f"{type(error).__name__}: {error}"})
            recorder.run.error_count += 1
            recorder._finish(SyncRun.Status.FAILED)
            raise
        recorder._finish(SyncRun.Status.PARTIAL if run.failed else SyncRun.Status.SUCCEEDED)
        if connection.status in (Connection.Status.FAILING, Connection.Status.NEVER_RUN):
            connection_set_status(connection=connection, status=Connection.Status.OK)
