"""The outbox: local changes delivered upstream after commit, retried from the database.

A caller writes its change and ``outbox_enqueue(...)`` in one transaction; a task is sent on
commit. Delivery claims the row (SELECT ... FOR UPDATE SKIP LOCKED on a pending, due row), calls
the kind's handler outside any transaction, and records the outcome; a transient failure
schedules the retry's task for its backoff time (Celery ``eta``), so ``next_attempt_at`` is
when the message's task is due to run.

A periodic sweeper is the safety net for tasks that never run, and re-sends only those:
messages of dead workers (``sending`` past SYNC_OUTBOX_SENDING_TIMEOUT); every due message when
the broker has lost what it held (Redis restarted without persistence: the marker key the
last sweep left is gone); and, once the broker's queue is empty, due messages still unclaimed
SYNC_OUTBOX_REQUEUE_AFTER after their time (a task lost some other way, e.g. a retry held by
a killed worker). While tasks are queued it leaves pending messages alone: a backlog is
drained by the workers, not copied. A re-sent message is stamped with the time of its new
task, so it is not re-sent again before another grace period.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from celery import current_app
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from syncing import conf
from syncing.alerts import outbox_failed_alert
from syncing.errors import AuthError, PermanentError, RateLimitedError, RecordError, TransientError
from syncing.http import UpstreamClient
from syncing.models import Connection, OutboxMessage
from syncing.providers import NoClientError
from syncing.services import connection_client

logger = logging.getLogger(__name__)


class OutboxHandler(Protocol):
    """Delivers one kind of message. Registered by the app that owns the local object."""

    kind: str

    def deliver(self, message: OutboxMessage, client: UpstreamClient) -> str:
        """Send the message; return the upstream object's id."""
        ...

    def find_existing(self, message: OutboxMessage, client: UpstreamClient) -> str | None:
        """Called before re-sending a message whose earlier attempt may have reached the
        upstream: the id of the object that attempt created (found by the reference put in
        it, or by a natural key), or None. Updates that are safe to repeat return None."""
        ...

    def on_delivered(self, message: OutboxMessage) -> None:
        """Store the result locally (e.g. the upstream id on the local object)."""
        ...


_HANDLERS: dict[str, OutboxHandler] = {}


class UnknownKindError(LookupError):
    pass


def outbox_handler_register(handler: OutboxHandler) -> OutboxHandler:
    registered = _HANDLERS.get(handler.kind)
    if registered is not None and registered is not handler:
        raise ValueError(f"an outbox handler for {handler.kind!r} is already registered")
    _HANDLERS[handler.kind] = handler
    return handler


def outbox_handler_unregister(kind: str) -> None:
    _HANDLERS.pop(kind, None)


def outbox_handler_get(kind: str) -> OutboxHandler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownKindError(f"no outbox handler for {kind!r}") from None


def outbox_enqueue(
    *,
    connection: Connection,
    kind: str,
    payload: dict,
    target: models.Model | None = None,
    object_ref: str = "",
) -> OutboxMessage:
    """Write a message in the caller's transaction; its delivery starts after commit.
    ``target`` (a model instance) or ``object_ref`` (a plain string) names the object:
    messages about one object are delivered in order."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction of the change")
    outbox_handler_get(kind)
    content_type = ContentType.objects.get_for_model(target) if target is not None else None
    if content_type is not None:
        object_ref = f"{content_type.app_label}.{content_type.model}:{target.pk}"
    message = OutboxMessage.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        kind=kind,
        payload=payload,
        content_type=content_type,
        object_id=str(target.pk) if target is not None else "",
        object_key=object_ref,
    )
    _deliver_after_commit(message.pk)
    return message


def _deliver_after_commit(message_id: int, *, eta: datetime | None = None) -> None:
    transaction.on_commit(lambda: _enqueue(message_id, eta=eta))


def _enqueue(message_id: int, *, eta: datetime | None = None) -> None:
    """Hand the message to a worker, to run at ``eta`` (at once when None or past). With the
    broker unreachable the message waits, stored, for the sweeper: the change that wrote it
    has committed and must not answer an error."""
    from syncing.tasks import deliver_outbox_message

    if eta is not None and eta <= timezone.now():
        eta = None
    try:
        deliver_outbox_message.apply_async((message_id,), eta=eta)
    except OperationalError:
        logger.warning("outbox message %s left for the sweeper: broker unreachable", message_id)


def _claim(message_id: int) -> tuple[OutboxMessage, bool] | None:
    """Take a due pending message for delivery. Returns it and whether an earlier attempt
    was made (which may have reached the upstream), or None when it is not ours to send."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.deliverable(now)
            .select_related("connection")
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return None
        attempted_before = message.claimed_at is not None
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.claimed_at = now
        message.save(update_fields=["status", "attempts", "claimed_at", "updated_at"])
    return message, attempted_before


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    ceiling = min(
        conf.get("SYNC_OUTBOX_BACKOFF_MAX"),
        conf.get("SYNC_OUTBOX_BACKOFF_BASE") * 2 ** max(attempts - 1, 0),
    )
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # equal jitter
    return timedelta(seconds=max(delay, retry_after or 0))


def _settle(message: OutboxMessage, **changes) -> bool:
    """Record the outcome of our claim (only while the row is still ours); whether it was."""
    changes["updated_at"] = timezone.now()
    settled = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.SENDING
    ).update(**changes)
    for field, value in changes.items():
        setattr(message, field, value)
    if settled and changes.get("status") == OutboxMessage.Status.FAILED:
        outbox_failed_alert(message=message)
    return bool(settled)


def _describe(error: Exception) -> str:
    correlation = getattr(error, "correlation_id", None)
    text = getattr(error, "message", str(error))
    return f"{text} (upstream request id {correlation})" if correlation else text


def _handle_failure(message: OutboxMessage, error: Exception) -> None:
    now = timezone.now()
    if isinstance(error, AuthError):
        # Not the message's fault: wait for new credentials without using up an attempt.
        _retry_at(
            message,
            now + _backoff(1, None),
            attempts=message.attempts - 1,
            last_error=_describe(error),
        )
    elif isinstance(error, TransientError) and message.attempts < conf.get(
        "SYNC_OUTBOX_MAX_ATTEMPTS"
    ):
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        _retry_at(
            message, now + _backoff(message.attempts, retry_after), last_error=_describe(error)
        )
    else:
        _settle(message, status=OutboxMessage.Status.FAILED, last_error=_describe(error))


def _retry_at(message: OutboxMessage, when: datetime, **changes) -> None:
    """Put the message back to pending and schedule its task for ``when``."""
    if _settle(message, status=OutboxMessage.Status.PENDING, next_attempt_at=when, **changes):
        _deliver_after_commit(message.pk, eta=when)


def _deliver_next_of_object(message: OutboxMessage) -> None:
    if not message.object_key:
        return
    following = (
        OutboxMessage.objects.filter(
            connection_id=message.connection_id,
            object_key=message.object_key,
            status=OutboxMessage.Status.PENDING,
        )
        .order_by("pk")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if following is not None:
        next_id, due = following
        # Stamped as sent now: the sweeper's grace period counts from this task.
        OutboxMessage.objects.filter(pk=next_id, next_attempt_at__lt=timezone.now()).update(
            next_attempt_at=timezone.now()
        )
        _deliver_after_commit(next_id, eta=due)


def _record_delivery(message: OutboxMessage, handler: OutboxHandler, upstream_id: str) -> None:
    try:
        with transaction.atomic():
            _settle(
                message,
                status=OutboxMessage.Status.SENT,
                upstream_id=upstream_id,
                sent_at=timezone.now(),
                last_error="",
            )
            handler.on_delivered(message)
    except DatabaseError as error:
        # The upstream has the object but storing it locally failed (a unique-constraint race,
        # say). Retry: the next attempt finds the object upstream instead of creating it again.
        message.status = OutboxMessage.Status.SENDING
        _handle_failure(message, TransientError(f"storing the delivery failed: {error}"))


def outbox_message_deliver(*, message_id: int) -> str | None:
    """Deliver one message if it is due and ours to send. Returns its status afterwards, or
    None when there was nothing to do (sent already, not due, claimed by another worker)."""
    claimed = _claim(message_id)
    if claimed is None:
        return None
    message, attempted_before = claimed
    try:
        handler = outbox_handler_get(message.kind)
        client = connection_client(message.connection)
    except (UnknownKindError, NoClientError) as error:
        _settle(message, status=OutboxMessage.Status.FAILED, last_error=str(error))
        return message.status
    try:
        upstream_id = handler.find_existing(message, client) if attempted_before else None
        upstream_id = upstream_id or handler.deliver(message, client)
    except (TransientError, PermanentError, RecordError) as error:
        logger.info(
            "outbox message %s attempt %s: %s", message.pk, message.attempts, _describe(error)
        )
        _handle_failure(message, error)
    else:
        _record_delivery(message, handler, upstream_id)
    finally:
        client.close()
    if message.status != OutboxMessage.Status.PENDING:
        _deliver_next_of_object(message)
    return message.status


@dataclass(frozen=True)
class SweepResult:
    recovered: int
    enqueued: int
    broker_lost: bool


BROKER_MARKER = "flowsync:outbox:broker-marker"


def _broker_state() -> tuple[bool, int]:
    """Whether the broker lost what it held since the last sweep (our marker key is gone: a
    Redis restarted without persistence, or flushed), and how many tasks wait in the default
    queue. Brokers other than Redis keep their queues across restarts: never lost."""
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        waiting = channel.queue_declare(queue=current_app.conf.task_default_queue).message_count
        client = getattr(channel, "client", None)
        lost = bool(client.set(BROKER_MARKER, "1", nx=True)) if client is not None else False
    return lost, waiting


def outbox_sweep() -> SweepResult:
    """Re-send the messages whose task will not run (see the module docstring)."""
    from syncing.tasks import deliver_outbox_message

    now = timezone.now()
    stuck_since = now - timedelta(seconds=conf.get("SYNC_OUTBOX_SENDING_TIMEOUT"))
    stuck = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=stuck_since
    )
    recovered = list(stuck.values_list("pk", flat=True))
    stuck.filter(pk__in=recovered).update(
        status=OutboxMessage.Status.PENDING, next_attempt_at=now, updated_at=now
    )
    broker_lost, waiting = _broker_state()
    lost = []
    if broker_lost:
        lost = list(OutboxMessage.objects.deliverable(now).values_list("pk", flat=True))
    elif not waiting:
        overdue = now - timedelta(seconds=conf.get("SYNC_OUTBOX_REQUEUE_AFTER"))
        lost = list(
            OutboxMessage.objects.deliverable(overdue)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[: conf.get("SYNC_OUTBOX_SWEEP_BATCH")]
        )
    OutboxMessage.objects.filter(
        pk__in=lost, status=OutboxMessage.Status.PENDING, next_attempt_at__lt=now
    ).update(next_attempt_at=now)
    resend = list(dict.fromkeys(recovered + lost))
    for message_id in resend:
        deliver_outbox_message.delay(message_id)
    return SweepResult(recovered=len(recovered), enqueued=len(resend), broker_lost=broker_lost)


def outbox_message_retry(*, message: OutboxMessage) -> bool:
    """Give a failed message a fresh set of attempts (admin "Retry"). Its next attempt still
    looks the object up upstream first, since an earlier one may have reached it."""
    now = timezone.now()
    changed = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.FAILED
    ).update(status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
    if changed:
        _deliver_after_commit(message.pk)
    return bool(changed)
