import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rooms.models import Room
from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_authenticate

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_only_a_working_key_and_creates_the_workspace():
    out = StringIO()
    call_command("create_api_key", "new-team", "--name", "bi tool", stdout=out)

    key = out.getvalue().strip()
    assert re.fullmatch(r"fs_[a-z0-9]{8}_[A-Za-z0-9_-]+", key)
    workspace = Workspace.objects.get(slug="new-team")
    api_key = api_key_authenticate(key)
    assert api_key.workspace == workspace
    assert api_key.name == "bi tool"


def test_create_api_key_reuses_an_existing_workspace(cast):
    call_command("create_api_key", cast.workspace.slug, stdout=StringIO())
    assert Workspace.objects.filter(slug=cast.workspace.slug).count() == 1
    assert ApiKey.objects.for_workspace(cast.workspace).count() == 3


def test_bootstrap_demo_creates_admin_workspace_and_key_once():
    first, second = StringIO(), StringIO()
    call_command("bootstrap_demo", "--no-demo", stdout=first)
    call_command("bootstrap_demo", "--no-demo", stdout=second)

    key = re.search(r"API key:\s+(fs_\S+)", first.getvalue()).group(1)
    assert api_key_authenticate(key).workspace.slug == "demo"
    assert re.search(r"Password:\s+\S{12,}", first.getvalue())
    assert "fs_" not in second.getvalue()
    assert ApiKey.objects.filter(workspace__slug="demo").count() == 1


def test_bootstrap_demo_with_no_demo_leaves_the_workspace_empty():
    call_command("bootstrap_demo", "--no-demo", stdout=StringIO())

    assert Workspace.objects.filter(slug="demo").exists()
    assert not Room.objects.exists()


def test_admin_password_sets_a_new_password_that_logs_in(client):
    call_command("bootstrap_demo", "--no-demo", stdout=StringIO())
    out = StringIO()
    call_command("admin_password", stdout=out)

    password = re.search(r"Password:\s+(\S+)", out.getvalue()).group(1)
    assert client.login(email="admin@example.com", password=password)


def test_admin_password_names_an_unknown_user():
    with pytest.raises(CommandError, match=r"No user nobody@example\.com"):
        call_command("admin_password", "--email", "nobody@example.com")
