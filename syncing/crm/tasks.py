"""Celery entry points of the CRM sync: thin, take ids, call a service.

Not an app's ``tasks`` module, so Celery's autodiscovery does not see it by itself:
syncing.crm.admin imports it (the admin is loaded in every process, workers included)."""

from celery import shared_task

# A webhook's sync waits for a run of the same stream to finish: 30 s, 60 s, ... 10 min.
LOCKED_RETRIES = 12


@shared_task(bind=True, name="syncing.crm_sync_deals", max_retries=LOCKED_RETRIES)
def crm_sync_deals(self, connection_id: int, deal_ids: list[str], trigger: str = "webhook") -> None:
    from syncing.crm.webhooks import deals_sync

    if deals_sync(connection_id=connection_id, deal_ids=deal_ids, trigger=trigger) == "busy":
        raise self.retry(countdown=min(30 * 2**self.request.retries, 600))
