"""Credentials: encrypted at rest, rotatable, and never readable in the row or the logs."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection as db

from syncing.models import Connection
from syncing.services import connection_client, connection_create

pytestmark = pytest.mark.django_db

SECRET = "flowla-live-9d8f7e6a5b4c3d2e1f"


def _raw_row(connection_id: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM syncing_connection WHERE id = %s", [connection_id])
        return repr(cursor.fetchone())


def test_the_database_row_holds_only_ciphertext(workspace):
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url="https://api.flowla.example",
        api_key=SECRET,
    )

    assert SECRET not in _raw_row(connection.pk)
    assert Connection.objects.get(pk=connection.pk).credentials == {"api_key": SECRET}
    assert SECRET not in repr(connection)
    assert SECRET not in str(connection)


def test_rotation_new_key_first_then_reencrypt_then_drop_the_old(workspace, settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="FLOW",
        base_url="https://webinars.example",
        api_key=SECRET,
    )

    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"
    assert Connection.objects.get(pk=connection.pk).credentials == {"api_key": SECRET}
    output = StringIO()
    call_command("sync_reencrypt_credentials", stdout=output)
    assert output.getvalue().strip() == "Re-encrypted the credentials of 1 connection(s)."

    settings.FIELD_ENCRYPTION_KEY = new_key
    assert Connection.objects.get(pk=connection.pk).credentials == {"api_key": SECRET}


def test_credentials_under_a_removed_key_fail_loudly(workspace, settings):
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url="https://api.flowla.example",
        api_key=SECRET,
    )
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Connection.objects.get(pk=connection.pk).credentials  # noqa: B018


def test_no_log_line_carries_the_secret(rooms_fake, workspace, caplog):
    rooms_fake.api_key = SECRET
    connection = connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=SECRET,
        options={"requests_per_second": 100, "burst": 100},
    )
    rooms_fake.add_room(title="Acme")
    rooms_fake.inject("503", method="GET")
    rooms_fake.inject("timeout", method="GET")
    caplog.set_level(logging.DEBUG)

    client = connection_client(connection)
    list(client.room_pages())
    rooms_fake.api_key = "revoked"
    with pytest.raises(Exception, match="401"):
        client.statuses()

    assert caplog.records, "the HTTP layer logged nothing at DEBUG: the check would be empty"
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert SECRET not in caplog.text
