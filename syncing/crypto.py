"""Credentials at rest: Fernet tokens keyed by settings.FIELD_ENCRYPTION_KEY.

The setting may hold several comma-separated keys: the first encrypts, every one decrypts
(MultiFernet), so a key is rotated by putting the new key first, running
``credentials_reencrypt_all`` and then dropping the old key.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _multifernet(keys: str) -> MultiFernet:
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(key) for key in parts])
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from None


def _fernet() -> MultiFernet:
    return _multifernet(settings.FIELD_ENCRYPTION_KEY)


def encrypt_json(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY "
            "(was a key removed before re-encrypting?)."
        ) from None


def reencrypt(token: str) -> str:
    """The same plaintext under the first (current) key."""
    return _fernet().rotate(token.encode()).decode() if token else token
