"""One package per upstream provider (``<name>/client.py`` with its ``schemas.py``), and the
map from a Connection's provider to its client."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings

from syncing import conf
from syncing.coordination import TokenBucket
from syncing.errors import AuthError
from syncing.http import UpstreamClient
from syncing.models import Connection
from syncing.providers.rooms_platform.client import RoomsPlatformClient
from syncing.providers.webinar_platform.client import WebinarPlatformClient

CLIENTS: dict[str, type[UpstreamClient]] = {
    Connection.Provider.ROOMS_PLATFORM: RoomsPlatformClient,
    Connection.Provider.WEBINAR_PLATFORM: WebinarPlatformClient,
}


class NoClientError(Exception):
    """The connection's provider has no client in this version."""


def account_key(connection: Connection) -> str:
    """Names the upstream account (provider, address and credentials, keyed-hashed), so
    connections and workers using the same account share one request budget."""
    secret = connection.credentials.get("api_key", "")
    material = f"{connection.provider}|{connection.base_url}|{secret}"
    digest = hmac.new(settings.SECRET_KEY.encode(), material.encode(), hashlib.sha256)
    return f"{connection.provider}:{digest.hexdigest()[:24]}"


def request_budget(connection: Connection) -> TokenBucket:
    rate, burst = conf.get("SYNC_REQUEST_BUDGETS").get(connection.provider, (5.0, 10))
    return TokenBucket(
        key=account_key(connection),
        rate=float(connection.options.get("requests_per_second", rate)),
        capacity=int(connection.options.get("burst", burst)),
    )


def client_for(
    connection: Connection, *, on_auth_error: Callable[[AuthError], None] | None = None
) -> UpstreamClient:
    """A client for the connection's account, with its shared budget."""
    try:
        client_class = CLIENTS[connection.provider]
    except KeyError:
        raise NoClientError(f"No client for {connection.get_provider_display()} yet.") from None
    return client_class(
        base_url=connection.base_url,
        secret=connection.credentials.get("api_key", ""),
        budget=request_budget(connection),
        on_auth_error=on_auth_error,
    )
