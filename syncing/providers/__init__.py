"""One package per upstream provider, named after ``Connection.Provider``: ``client.py``
(whose ``Client`` is the provider's UpstreamClient subclass), ``schemas.py``, and optionally
``streams.py`` (see syncing.streams). ``client_for`` finds the client by that convention."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from importlib import import_module

from django.conf import settings

from syncing import conf
from syncing.coordination import TokenBucket
from syncing.errors import AuthError
from syncing.http import UpstreamClient
from syncing.models import Connection


class NoClientError(Exception):
    """The connection's provider has no client in this version."""


def account_key(connection: Connection) -> str:
    """Names the upstream account (provider, address and credentials, keyed-hashed), so
    connections and workers using the same account share one request budget."""
    credentials = connection.credentials
    secret = next(
        (
            credentials[name]
            for name in ("api_key", "client_id", "access_token")
            if name in credentials
        ),
        "",
    )
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
    module_name = f"syncing.providers.{connection.provider}.client"
    try:
        client_class: type[UpstreamClient] = import_module(module_name).Client
    except ModuleNotFoundError as error:
        if not module_name.startswith(error.name or "-"):
            raise
        raise NoClientError(f"No client for {connection.get_provider_display()} yet.") from None
    return client_class.from_connection(
        connection, budget=request_budget(connection), on_auth_error=on_auth_error
    )
