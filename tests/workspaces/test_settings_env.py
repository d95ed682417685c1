import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_email_backend, env_int, env_secret


def test_malformed_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "ture")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", False)


def test_malformed_integer_fails_loudly(monkeypatch):
    monkeypatch.setenv("CELERY_TASK_TIME_LIMIT", "ten")
    with pytest.raises(ImproperlyConfigured, match="CELERY_TASK_TIME_LIMIT"):
        env_int("CELERY_TASK_TIME_LIMIT", 10)


def test_malformed_database_url_fails_loudly(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "nosuchdb://x")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", "sqlite:///x")


def test_secret_is_required_without_debug(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env_secret("SECRET_KEY", debug=False, data_dir=tmp_path, generate=lambda: "x")


def test_secret_is_generated_once_in_debug(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    values = iter(["first", "second"])
    first = env_secret("SECRET_KEY", debug=True, data_dir=tmp_path, generate=lambda: next(values))
    again = env_secret("SECRET_KEY", debug=True, data_dir=tmp_path, generate=lambda: next(values))
    assert first == again == "first"


@pytest.mark.django_db
def test_api_keys_survive_a_secret_key_rotation_with_the_old_key_as_fallback(settings):
    """The rotation docs/operations.md describes: new SECRET_KEY, old one in
    SECRET_KEY_FALLBACKS; keys issued before keep working, and only because of the fallback."""
    from tests.factories import WorkspaceFactory
    from workspaces.services import api_key_authenticate, api_key_create

    workspace = WorkspaceFactory()
    key = api_key_create(workspace=workspace).plaintext
    old = settings.SECRET_KEY
    settings.SECRET_KEY = f"rotated-{old}"
    settings.SECRET_KEY_FALLBACKS = []
    assert api_key_authenticate(key) is None

    settings.SECRET_KEY_FALLBACKS = [old]
    assert api_key_authenticate(key).workspace == workspace


def test_mail_is_printed_until_a_server_is_given(monkeypatch):
    """Alerts and login links: the console backend by default (DEBUG or not), SMTP once
    EMAIL_HOST names a server, and an explicit EMAIL_BACKEND wins over both."""
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    assert env_email_backend() == "django.core.mail.backends.console.EmailBackend"

    monkeypatch.setenv("EMAIL_HOST", "mail.internal")
    assert env_email_backend() == "django.core.mail.backends.smtp.EmailBackend"

    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    assert env_email_backend() == "django.core.mail.backends.locmem.EmailBackend"
