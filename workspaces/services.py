"""Writes and lookups for tenancy and access."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import socket
import string
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from workspaces import keycache
from workspaces.models import ApiKey, Membership, User, WorkerHeartbeat, Workspace

KEY_PATTERN = re.compile(r"^fs_(?P<prefix>[a-z0-9]{8})_(?P<secret>[A-Za-z0-9_-]{32,64})$")
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# last_used_at is written at most this often per key, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str


def _secret_hash(secret: str, signing_key: str) -> str:
    # A keyed fast hash, not a password hasher: the secret is 256 random bits, so there is
    # nothing to brute-force, and a password hasher would add ~100 ms to every request.
    return hmac.new(signing_key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def workspace_get_or_create(*, slug: str, name: str | None = None) -> Workspace:
    workspace, _ = Workspace.objects.get_or_create(
        slug=slugify(slug), defaults={"name": name or slug}
    )
    return workspace


def membership_set(*, workspace: Workspace, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership


def api_key_create(
    *, workspace: Workspace, name: str = "default", created_by: User | None = None
) -> IssuedKey:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=prefix,
        secret_hash=_secret_hash(secret, settings.SECRET_KEY),
        created_by=created_by,
    )
    return IssuedKey(api_key=api_key, plaintext=f"fs_{prefix}_{secret}")


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    keycache.forget(api_key.prefix)


def api_key_delete(*, api_key: ApiKey) -> None:
    api_key.delete()
    keycache.forget(api_key.prefix)


def workspace_delete(*, workspace: Workspace) -> None:
    """Delete a workspace with everything it owns; its keys stop working in every process."""
    workspace.delete()
    keycache.generation_bump()


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or None. Compares in constant time."""
    match = KEY_PATTERN.match(raw_key.strip())
    if not match:
        return None
    api_key = _active_key(match["prefix"])
    if api_key is None:
        return None
    signing_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(
        hmac.compare_digest(api_key.secret_hash, _secret_hash(match["secret"], key))
        for key in signing_keys
    ):
        return None
    _touch_last_used(api_key)
    return api_key


def _active_key(prefix: str) -> ApiKey | None:
    """From this process's key cache when it has it (workspaces.keycache), else one query."""
    cached = keycache.get(prefix) if keycache.enabled() else None
    if cached is not None:
        return cached
    api_key = ApiKey.objects.active().select_related("workspace").filter(prefix=prefix).first()
    if api_key is not None and keycache.enabled():
        keycache.put(api_key)
    return api_key


def _touch_last_used(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    api_key.last_used_at = now
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    keycache.note_used(api_key.prefix, now)


def user_workspaces(user: User):
    return Workspace.objects.filter(memberships__user=user)


@dataclass(frozen=True)
class DemoBootstrap:
    user: User
    workspace: Workspace
    password: str | None  # set only when the user was created by this call
    issued_key: IssuedKey | None  # set only when the workspace had no key yet


@transaction.atomic
def demo_bootstrap(*, email: str) -> DemoBootstrap:
    """The admin user, demo workspace and key the quick start prints; created once."""
    password = None
    user = User.objects.filter(email=email).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email, password, full_name="flowsync admin")
    workspace = workspace_get_or_create(slug="demo", name="Demo workspace")
    membership_set(workspace=workspace, user=user, role=Membership.Role.OWNER)
    issued = None
    if not ApiKey.objects.for_workspace(workspace).exists():
        issued = api_key_create(workspace=workspace, name="quick start", created_by=user)
    return DemoBootstrap(user=user, workspace=workspace, password=password, issued_key=issued)


def user_password_reset(*, email: str) -> str:
    """Give the user a new random password and return it (``bin/flowsync admin-password``).
    Raises User.DoesNotExist for an unknown email."""
    user = User.objects.get(email=email.strip().lower())
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def worker_heartbeat_record() -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=socket.gethostname(), defaults={"seen_at": timezone.now()}
    )
