"""E-mail alerts to a workspace's owners and admins: one per transition of a connection into
failing or needing re-authentication, and one per outbox message parked as failed for good.
Callers invoke these only for the transition they won (a conditional UPDATE), inside their
transaction; the mail goes out after commit, so a rolled-back change alerts nobody."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from syncing.models import Connection, OutboxMessage
from workspaces.models import Membership

logger = logging.getLogger(__name__)

ALERTING_STATUSES = {Connection.Status.FAILING, Connection.Status.NEEDS_REAUTH}


def _recipients(workspace_id: int) -> list[str]:
    return sorted(
        Membership.objects.filter(
            workspace_id=workspace_id,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
            user__is_active=True,
        ).values_list("user__email", flat=True)
    )


def _send_after_commit(workspace_id: int, subject: str, body: str) -> None:
    def send() -> None:
        recipients = _recipients(workspace_id)
        if not recipients:
            return
        try:
            send_mail(f"[flowsync] {subject}", body, None, recipients)
        except OSError:  # SMTP down or refused: the banner still shows it
            logger.exception("alert e-mail not sent: %s", subject)

    transaction.on_commit(send)


def _link(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def connection_status_alert(*, connection: Connection) -> None:
    """The connection just turned failing or needing re-authentication."""
    if connection.status not in ALERTING_STATUSES:
        return
    page = _link(reverse("admin:syncing_connection_change", args=[connection.pk]))
    _send_after_commit(
        connection.workspace_id,
        f"{connection.name}: {connection.get_status_display().lower()}",
        f"The connection {connection.name} ({connection.get_provider_display()}) is now "
        f"{connection.get_status_display().lower()}.\n\n{connection.status_detail}\n\n"
        f"Open it: {page}\n",
    )


def outbox_failed_alert(*, message: OutboxMessage) -> None:
    """The message was parked as failed for good (no more automatic attempts)."""
    page = _link(reverse("admin:syncing_outboxmessage_change", args=[message.pk]))
    _send_after_commit(
        message.workspace_id,
        f"a push failed for good ({message.kind})",
        f"The outbox message {message.pk} ({message.kind}, {message.object_key or 'no key'}) "
        f"failed after {message.attempts} attempt(s) and will not be retried by itself.\n\n"
        f"{message.last_error}\n\nReview and retry it: {page}\n",
    )
