"""Writes for connections: credentials, status, test, key rotation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from syncing import crypto
from syncing.alerts import connection_status_alert
from syncing.errors import (
    AuthError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    TransientError,
    UpstreamError,
)
from syncing.http import UpstreamClient
from syncing.models import CRM_PROVIDERS, Connection
from syncing.providers import NoClientError, client_for
from syncing.schedules import connection_schedules_delete, connection_schedules_ensure
from workspaces.models import Workspace

# The upstream's error code at the end of an HTTP layer message (syncing.http.status_message).
_UPSTREAM_CODE = re.compile(r"HTTP \d{3} ([A-Za-z][A-Za-z0-9_.-]{0,63})$")


def connection_create(
    *,
    workspace: Workspace,
    provider: str,
    name: str,
    base_url: str,
    api_key: str = "",
    credentials: dict | None = None,
    options: dict | None = None,
    enabled: bool = True,
) -> Connection:
    """``api_key`` for providers with one secret; ``credentials`` for the others (OAuth
    client id/secret/refresh token, webhook signing secret, ...)."""
    connection = Connection(
        workspace=workspace,
        provider=provider,
        name=name,
        base_url=base_url,
        options=options or {},
        enabled=enabled,
    )
    connection.credentials = {**(credentials or {}), **({"api_key": api_key} if api_key else {})}
    connection.full_clean()
    with transaction.atomic():
        connection.save()
        connection_schedules_ensure(connection=connection)
    return connection


def connection_delete(*, connection: Connection) -> None:
    with transaction.atomic():
        connection_schedules_delete(connection=connection)
        connection.delete()


def connection_merge_credentials(*, connection: Connection, changes: dict) -> None:
    """Replace secrets (a None value removes one); a connection waiting for
    re-authentication is usable again."""
    merged = {**connection.credentials, **changes}
    connection.credentials = {name: value for name, value in merged.items() if value is not None}
    fields = ["credentials_encrypted", "updated_at"]
    if connection.status == Connection.Status.NEEDS_REAUTH:
        connection.status = Connection.Status.OK
        connection.status_detail = "Credentials replaced."
        connection.status_changed_at = timezone.now()
        fields += ["status", "status_detail", "status_changed_at"]
    connection.save(update_fields=fields)


def connection_set_status(*, connection: Connection, status: str, detail: str = "") -> None:
    """Record the connection's health; a write only when something changed."""
    if connection.status == status and connection.status_detail == detail:
        return
    now = timezone.now()
    changes = {"status": status, "status_detail": detail[:2000], "updated_at": now}
    if connection.status != status:
        changes["status_changed_at"] = now
    # Conditional on the status we read: of two writers making the same transition, one wins
    # and alerts; the other (its status read is stale) still writes, without alerting.
    won = Connection.objects.filter(pk=connection.pk, status=connection.status).update(**changes)
    if not won:
        Connection.objects.filter(pk=connection.pk).update(**changes)
    for field, value in changes.items():
        setattr(connection, field, value)
    if won and "status_changed_at" in changes:
        connection_status_alert(connection=connection)


def connection_client(connection: Connection) -> UpstreamClient:
    """The connection's client; a 401/403 marks the connection as needing re-authentication."""

    def needs_reauth(error: AuthError) -> None:
        connection_set_status(
            connection=connection,
            status=Connection.Status.NEEDS_REAUTH,
            detail=f"The upstream refused the credentials: {error.message}",
        )

    return client_for(connection, on_auth_error=needs_reauth)


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    detail: str


def upstream_error_summary(connection: Connection, error: UpstreamError | RecordError) -> str:
    """What went wrong, in our own words, then the HTTP status and the upstream's error code
    (``...: HTTP 400 invalid_grant``): never the upstream's body, which may echo what we sent
    or carry markup. Messages without an HTTP status are flowsync's own (a missing
    credential, a malformed setting, a connection refused)."""
    name = connection.get_provider_display()
    status = getattr(error, "status", None)
    if isinstance(error, RecordError):
        return f"{name} answered in a shape flowsync does not recognise."
    if status is None:
        return error.message
    if isinstance(error, AuthError):
        sentence = f"{name} refused the credentials; enter them again"
    elif isinstance(error, RateLimitedError):
        sentence = f"{name} is limiting requests; try again later"
    elif isinstance(error, NotFoundError):
        sentence = f"the base URL (or API version) does not lead to the {name} API"
    elif isinstance(error, MalformedResponseError):
        sentence = f"the answer was not JSON; is the base URL the {name} API"
    elif isinstance(error, TransientError):
        sentence = f"{name} is unavailable right now; try again later"
    else:
        sentence = f"{name} refused the request"
    code = _UPSTREAM_CODE.search(error.message)
    return f"{sentence}: HTTP {status} {code.group(1) if code else ''}".strip()


def connection_test(*, connection: Connection) -> ConnectionTestResult:
    """One cheap upstream call with the stored credentials; the status follows the result."""
    try:
        client = connection_client(connection)
    except NoClientError as error:
        return ConnectionTestResult(ok=False, detail=str(error))
    try:
        detail = client.ping()
        if connection.provider in CRM_PROVIDERS:
            detail = f"{detail}; {_catalog_summary(connection, client)}"
    except (UpstreamError, RecordError) as error:
        summary = upstream_error_summary(connection, error)
        status = (
            Connection.Status.NEEDS_REAUTH
            if isinstance(error, AuthError)
            else Connection.Status.FAILING
        )
        connection_set_status(connection=connection, status=status, detail=summary)
        return ConnectionTestResult(ok=False, detail=summary)
    finally:
        client.close()
    connection_set_status(connection=connection, status=Connection.Status.OK, detail=detail)
    return ConnectionTestResult(ok=True, detail=detail)


def connection_fields_create(*, connection: Connection) -> ConnectionTestResult:
    """Create the write-back fields the last test found missing, where the CRM's API allows
    (HubSpot deal properties, Attio attributes)."""
    from syncing.crm.catalog import can_create_fields, crm_fields_create

    client = connection_client(connection)
    try:
        if not can_create_fields(client):
            return ConnectionTestResult(
                ok=False, detail="this CRM's fields are created in its own set-up pages"
            )
        return ConnectionTestResult(
            ok=True, detail=crm_fields_create(connection=connection, client=client)
        )
    except (UpstreamError, RecordError) as error:
        return ConnectionTestResult(ok=False, detail=upstream_error_summary(connection, error))
    finally:
        client.close()


def _catalog_summary(connection: Connection, client: UpstreamClient) -> str:
    """The CRM's stages and missing write-back fields. The credentials work (the ping
    passed), so a refusal here is a missing scope, not a reason to re-authenticate."""
    from syncing.crm.catalog import crm_catalog_read  # crm -> runs -> this module

    try:
        return crm_catalog_read(connection=connection, client=client)
    except AuthError as error:
        return f"stages and fields not read: the credentials lack a scope (HTTP {error.status})"
    except (UpstreamError, RecordError) as error:
        return f"stages and fields not read ({upstream_error_summary(connection, error)})"


def credentials_reencrypt_all() -> int:
    """Re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY (after a rotation,
    before the old key is removed). Returns the number of connections rewritten."""
    count = 0
    with transaction.atomic():
        for connection in Connection.objects.select_for_update().exclude(credentials_encrypted=""):
            connection.credentials_encrypted = crypto.reencrypt(connection.credentials_encrypted)
            connection.save(update_fields=["credentials_encrypted"])
            count += 1
    return count
