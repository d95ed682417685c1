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


@shared_task(name="syncing.run_stream")
def run_stream(
    connection_id: int,
    stream: str,
    trigger: str = "schedule",
    full_refresh: bool = False,
    run_id: int | None = None,
) -> None:
    from syncing.models import Connection
    from syncing.streams import stream_run

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is not None:
        stream_run(
            connection=connection,
            stream=stream,
            trigger=trigger,
            full_refresh=full_refresh,
            run_id=run_id,
        )
