from celery import shared_task


@shared_task(name="workspaces.worker_heartbeat")
def worker_heartbeat() -> None:
    """Record that a worker is alive and consuming; /healthz shows the time."""
    from workspaces.services import worker_heartbeat_record

    worker_heartbeat_record()
