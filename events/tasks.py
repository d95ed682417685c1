from celery import shared_task


@shared_task(name="events.registrant_login_link_email")
def registrant_login_link_email(registrant_id: int) -> None:
    from events.services import registrant_login_link_email as send

    send(registrant_id=registrant_id)
