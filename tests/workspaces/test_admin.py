import re

import pytest

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import ApiKey, Membership
from workspaces.services import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_owner(cast):
    user = cast.owner.user
    user.is_staff = True
    user.save()
    return user


def test_staff_sees_only_keys_of_their_workspaces(client, cast, staff_owner):
    client.force_login(staff_owner)
    response = client.get("/admin/workspaces/apikey/")

    assert response.status_code == 200
    page = response.content.decode()
    assert cast.owner.key[3:11] in page
    assert cast.outsider.key[3:11] not in page


def test_staff_cannot_open_another_workspace_key(client, cast, staff_owner):
    client.force_login(staff_owner)
    other = ApiKey.objects.get(prefix=cast.outsider.key[3:11])
    response = client.get(f"/admin/workspaces/apikey/{other.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert cast.outsider.key[3:11] not in response.content.decode()


def test_creating_a_key_in_admin_shows_it_once(client, cast, staff_owner):
    client.force_login(staff_owner)
    response = client.post(
        "/admin/workspaces/apikey/add/",
        {"workspace": cast.workspace.pk, "name": "from admin"},
        follow=True,
    )

    shown = re.search(r"(fs_[a-z0-9]{8}_[A-Za-z0-9_-]+)", response.content.decode()).group(1)
    assert api_key_authenticate(shown).name == "from admin"
    again = client.get("/admin/workspaces/apikey/").content.decode()
    assert shown not in again


def test_staff_cannot_create_a_key_for_another_workspace(client, cast, staff_owner):
    client.force_login(staff_owner)
    client.post(
        "/admin/workspaces/apikey/add/",
        {"workspace": cast.other_workspace.pk, "name": "sneaky"},
    )
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_revoke_action_revokes(client, cast, staff_owner):
    client.force_login(staff_owner)
    api_key = ApiKey.objects.get(prefix=cast.member.key[3:11])
    client.post(
        "/admin/workspaces/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
    )
    assert cast.member.client().get("/api/whoami").status_code == 401


def test_member_role_staff_can_view_but_not_change(client, cast):
    user = cast.member.user
    user.is_staff = True
    user.save()
    client.force_login(user)
    api_key = ApiKey.objects.get(prefix=cast.member.key[3:11])

    assert client.get("/admin/workspaces/apikey/").status_code == 200
    client.post("/admin/workspaces/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_superuser_sees_every_workspace(client, cast):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/workspaces/workspace/").content.decode()
    assert cast.workspace.name in page
    assert cast.other_workspace.name in page


def test_staff_workspace_list_is_scoped(client, cast, staff_owner):
    elsewhere = WorkspaceFactory(name="Initech")
    MembershipFactory(workspace=elsewhere, role=Membership.Role.OWNER)
    api_key_create(workspace=elsewhere)
    client.force_login(staff_owner)
    page = client.get("/admin/workspaces/workspace/").content.decode()
    assert cast.workspace.name in page
    assert "Initech" not in page
