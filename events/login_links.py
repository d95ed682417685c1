"""Personal login links: a signed, expiring token naming one registrant and its session.

The token is ``django.core.signing`` output (HMAC with SECRET_KEY, a salt of its own and a
timestamp), so it cannot be forged or moved to another registrant, and it expires after
``LOGIN_LINK_MAX_AGE``. Registering again with the same email hands out a fresh link."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from events.models import Registrant

LOGIN_LINK_SALT = "events.login-link"
LOGIN_LINK_MAX_AGE = dt.timedelta(days=30)


class LoginLinkExpired(Exception):
    pass


class LoginLinkInvalid(Exception):
    pass


def login_token(registrant: Registrant) -> str:
    return signing.dumps(
        {"registrant": registrant.pk, "session": registrant.session.token}, salt=LOGIN_LINK_SALT
    )


def login_link(registrant: Registrant) -> str:
    path = reverse("events:join", kwargs={"token": login_token(registrant)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def login_token_registrant(token: str) -> Registrant:
    """The registrant a token was issued to. Raises LoginLinkExpired when it is older than
    LOGIN_LINK_MAX_AGE, LoginLinkInvalid when it was altered, is not ours, or names a
    registrant that no longer exists in that session."""
    try:
        payload = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=LOGIN_LINK_MAX_AGE)
    except signing.SignatureExpired as error:
        raise LoginLinkExpired from error
    except signing.BadSignature as error:
        raise LoginLinkInvalid from error
    if not isinstance(payload, dict):
        raise LoginLinkInvalid
    registrant = (
        Registrant.objects.select_related("session__event")
        .filter(pk=payload.get("registrant"), session__token=payload.get("session"))
        .first()
    )
    if registrant is None:
        raise LoginLinkInvalid
    return registrant
