"""Celery entry points: thin, take ids, call a service."""

from celery import shared_task


@shared_task(name="syncing.deliver_outbox_message")
def deliver_outbox_message(message_id: int) -> None:
    from syncing.outbox import outbox_message_deliver

    outbox_message_deliver(message_id=message_id)


@shared_task(name="syncing.sweep_outbox")
def sweep_outbox() -> None:
    from syncing.outbox import outbox_sweep

    outbox_sweep()
