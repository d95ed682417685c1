"""Alerts: one e-mail to the workspace's owners and admins per transition of a connection into
failing or needing re-authentication, and per outbox message failed for good; the dashboard
banner."""

from __future__ import annotations

import pytest
from django.core import mail

from syncing.models import Connection, OutboxMessage
from syncing.outbox import _settle
from syncing.services import connection_set_status
from tests.console.smtp_fake import FakeSmtpServer
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(cast):
    MembershipFactory(workspace=cast.workspace, role="admin", user__email="admin@acme.example")
    return Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url="http://127.0.0.1:9/",
    )


def _set(connection, status, detail="", capture=None):
    with capture(execute=True):
        connection_set_status(connection=connection, status=status, detail=detail)


def test_one_mail_per_transition_to_owners_and_admins(
    cast, connection, django_capture_on_commit_callbacks
):
    _set(connection, "failing", "HTTP 503 three times", django_capture_on_commit_callbacks)
    _set(connection, "failing", "HTTP 503 again", django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert sorted(message.to) == sorted([cast.owner.user.email, "admin@acme.example"])
    assert cast.member.user.email not in message.to
    assert "Flowla: failing" in message.subject
    assert "HTTP 503 three times" in message.body
    assert f"/admin/syncing/connection/{connection.pk}/change/" in message.body


def test_recovery_sends_nothing_and_the_next_failure_alerts_again(
    connection, django_capture_on_commit_callbacks
):
    _set(connection, "needs_reauth", "HTTP 401", django_capture_on_commit_callbacks)
    _set(connection, "ok", "", django_capture_on_commit_callbacks)
    _set(connection, "failing", "timeout", django_capture_on_commit_callbacks)

    assert [m.subject for m in mail.outbox] == [
        "[flowsync] Flowla: needs re-authentication",
        "[flowsync] Flowla: failing",
    ]


def test_a_stale_writer_records_the_status_without_a_second_mail(
    connection, django_capture_on_commit_callbacks
):
    stale = Connection.objects.get(pk=connection.pk)
    _set(connection, "failing", "first", django_capture_on_commit_callbacks)
    _set(stale, "failing", "second", django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert Connection.objects.get(pk=connection.pk).status_detail == "second"


def test_an_outbox_message_failed_for_good_alerts_once(
    connection, django_capture_on_commit_callbacks
):
    message = OutboxMessage.objects.create(
        workspace=connection.workspace,
        connection=connection,
        kind="rooms.create",
        status=OutboxMessage.Status.SENDING,
        attempts=5,
    )
    with django_capture_on_commit_callbacks(execute=True):
        _settle(message, status=OutboxMessage.Status.FAILED, last_error="HTTP 422 title missing")
        _settle(message, status=OutboxMessage.Status.FAILED, last_error="again")

    [alert] = mail.outbox
    assert "rooms.create" in alert.subject
    assert "HTTP 422 title missing" in alert.body


def test_the_dashboard_shows_a_banner(cast, client, connection, django_capture_on_commit_callbacks):
    _set(
        connection,
        "needs_reauth",
        "HTTP 401 from /api/v2/rooms",
        django_capture_on_commit_callbacks,
    )
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client.force_login(cast.owner.user)

    html = client.get("/admin/").content.decode()

    banner = html.split('id="alerts-banner"')[1].split("</div>")[0]
    assert "Flowla</a>: needs re-authentication: HTTP 401 from /api/v2/rooms" in banner


def test_alerts_go_out_by_smtp_when_the_settings_say_so(
    cast, connection, settings, django_capture_on_commit_callbacks
):
    smtp = FakeSmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.DEFAULT_FROM_EMAIL = "flowsync <alerts@acme.example>"
    try:
        _set(connection, "needs_reauth", "HTTP 401", django_capture_on_commit_callbacks)
    finally:
        smtp.stop()

    [message] = smtp.received
    assert message.sender == "alerts@acme.example"
    assert sorted(message.recipients) == sorted([cast.owner.user.email, "admin@acme.example"])
    assert "Subject: [flowsync] Flowla: needs re-authentication" in message.data
    assert mail.outbox == []


def test_an_unreachable_smtp_server_loses_the_mail_but_not_the_status(
    connection, settings, django_capture_on_commit_callbacks
):
    smtp = FakeSmtpServer()  # bound, then closed: nothing listens on its port
    port = smtp.port
    smtp.server_close()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port

    _set(connection, "failing", "HTTP 503", django_capture_on_commit_callbacks)

    connection.refresh_from_db()
    assert connection.status == "failing"
