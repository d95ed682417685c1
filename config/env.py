"""Read settings from the environment, failing loudly on a malformed value.

Every setting that comes from the environment goes through these helpers, so a typo such as
``DEBUG=ture`` stops the process with ``ImproperlyConfigured`` instead of silently meaning False.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


def _raw(name: str, default: object) -> str | None:
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return None
    return value.strip()


def env_str(name: str, default: object = _MISSING) -> str:
    value = _raw(name, default)
    return default if value is None else value  # type: ignore[return-value]


def env_bool(name: str, default: object = _MISSING) -> bool:
    value = _raw(name, default)
    if value is None:
        return default  # type: ignore[return-value]
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def env_int(name: str, default: object = _MISSING) -> int:
    value = _raw(name, default)
    if value is None:
        return default  # type: ignore[return-value]
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def env_list(name: str, default: object = _MISSING) -> list[str]:
    value = _raw(name, default)
    if value is None:
        return list(default)  # type: ignore[call-overload]
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    url = env_str(name, default)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in environ.Env.DB_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user@host:5432/name "
            f"or sqlite:////path/to/file.sqlite3; got {url!r}."
        )
    return environ.Env.db_url_config(url)


def env_cache(name: str, default: str) -> dict:
    url = env_str(name, default)
    try:
        return environ.Env.cache_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not a cache URL: {exc}") from None


def env_email_backend() -> str:
    """``EMAIL_BACKEND`` if set; else SMTP once ``EMAIL_HOST`` names a server, else the console
    backend (mails printed in the log): a fresh install never tries a mail server it was not
    given, and setting the server is all it takes to send."""
    if os.environ.get("EMAIL_BACKEND"):
        return env_str("EMAIL_BACKEND")
    if os.environ.get("EMAIL_HOST"):
        return "django.core.mail.backends.smtp.EmailBackend"
    return "django.core.mail.backends.console.EmailBackend"


def env_secret(name: str, *, debug: bool, data_dir: Path, generate) -> str:
    """A secret from the environment; in DEBUG only, generated once into the data folder."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"Set {name}: it is required when DEBUG is off.")
    path = data_dir / f"{name.lower()}.txt"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(generate())
        path.chmod(0o600)
    return path.read_text().strip()


def random_secret_key() -> str:
    return secrets.token_urlsafe(50)
