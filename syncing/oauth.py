"""OAuth 2.0 authorization-code flow for "Connect with HubSpot" / "Connect with Salesforce"
(RFC 6749 section 4.1): the connection page sends staff to the CRM's consent page with a
one-time ``state`` kept in their session; the CRM sends them back to one callback URL with a
code, exchanged server-side for tokens that are stored encrypted on the connection.

Both CRMs register exact callback URLs, so there is one: ``PUBLIC_BASE_URL`` +
``/admin/syncing/connection/oauth/callback/``; the state names the connection.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from syncing import conf
from syncing.errors import UpstreamError
from syncing.models import Connection
from syncing.services import connection_client, connection_merge_credentials

SESSION_KEY = "syncing_oauth_states"
# A consent page left open longer than this must be started again.
STATE_TTL = 15 * 60


class OAuthError(Exception):
    """The flow cannot go on; the message is ours and safe to show."""


@dataclass(frozen=True)
class OAuthProvider:
    label: str
    scope: str
    token_path: str

    def authorize_url(self, connection: Connection) -> str:
        if connection.provider == Connection.Provider.HUBSPOT:
            # HubSpot's consent page is on its app host, not the API's.
            return conf.get("SYNC_OAUTH_HUBSPOT_AUTHORIZE_URL")
        return connection.base_url.rstrip("/") + "/services/oauth2/authorize"


PROVIDERS = {
    Connection.Provider.HUBSPOT: OAuthProvider(
        label="Connect with HubSpot",
        scope="oauth crm.objects.deals.read crm.objects.deals.write crm.objects.contacts.read "
        "crm.objects.owners.read crm.schemas.deals.read crm.schemas.deals.write",
        token_path="/oauth/v1/token",
    ),
    Connection.Provider.SALESFORCE: OAuthProvider(
        label="Connect with Salesforce",
        scope="api refresh_token",
        token_path="/services/oauth2/token",
    ),
}


def redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("admin:syncing_connection_oauth_callback")


def oauth_start(*, connection: Connection, session) -> str:
    """The consent page's URL; the state that must come back is kept in the session."""
    provider = PROVIDERS.get(connection.provider)
    if provider is None:
        raise OAuthError(f"{connection.get_provider_display()} has no OAuth flow here.")
    credentials = connection.credentials
    missing = [name for name in ("client_id", "client_secret") if not credentials.get(name)]
    if missing:
        raise OAuthError(f"Save the app's {' and '.join(missing)} first.")
    state = secrets.token_urlsafe(32)
    states = {
        key: value
        for key, value in session.get(SESSION_KEY, {}).items()
        if value["at"] > time.time() - STATE_TTL
    }
    states[state] = {"connection": connection.pk, "at": time.time()}
    session[SESSION_KEY] = states
    query = {
        "response_type": "code",
        "client_id": credentials["client_id"],
        "redirect_uri": redirect_uri(),
        "scope": provider.scope,
        "state": state,
    }
    return f"{provider.authorize_url(connection)}?{urlencode(query)}"


def oauth_connection_of(*, state: str, session) -> int:
    """The connection the state was issued for (once: a state is good for one callback)."""
    states = session.get(SESSION_KEY, {})
    issued = states.pop(state, None) if state else None
    session[SESSION_KEY] = states
    if issued is None or issued["at"] <= time.time() - STATE_TTL:
        raise OAuthError("The sign-in could not be matched to this session; start it again.")
    return issued["connection"]


def oauth_finish(*, connection: Connection, code: str) -> None:
    """Exchange the code for tokens and keep them, encrypted, on the connection."""
    provider = PROVIDERS[connection.provider]
    credentials = connection.credentials
    client = connection_client(connection)
    try:
        response = client.post_form(
            connection.base_url.rstrip("/") + provider.token_path,
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": credentials.get("client_id", ""),
                "client_secret": credentials.get("client_secret", ""),
                "redirect_uri": redirect_uri(),
            },
        )
        if response.status_code != 200:
            raise OAuthError(
                f"{connection.get_provider_display()} refused the sign-in code "
                f"(HTTP {response.status_code}); start again."
            )
        body = client.parse_json(response, f"POST {provider.token_path}")
    except UpstreamError as error:
        raise OAuthError(
            f"The sign-in could not be completed (HTTP {error.status or 'none'})."
        ) from None
    finally:
        client.close()
    refresh_token = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(refresh_token, str) or not refresh_token:
        raise OAuthError(f"{connection.get_provider_display()} granted no refresh token.")
    # Tokens of an earlier grant (or a pasted private-app token) must not outlive it; each
    # client asks for a fresh access token from this refresh token on its first call.
    connection_merge_credentials(
        connection=connection,
        changes={
            "refresh_token": refresh_token,
            "access_token": None,
            "access_token_expires_at": None,
            "instance_url": None,
            "session_of": None,
        },
    )
