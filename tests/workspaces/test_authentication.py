import pytest
from django.utils import timezone

from workspaces.models import ApiKey
from workspaces.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def whoami(client):
    return client.get("/api/whoami")


@pytest.mark.parametrize("header", ["x-flowla-api-key", "api-secret", "Authorization"])
def test_each_key_header_authenticates(cast, header):
    response = whoami(cast.owner.client(header))

    assert response.status_code == 200
    workspace = cast.workspace
    assert response.json() == {
        "workspace": {"id": workspace.id, "slug": workspace.slug, "name": workspace.name}
    }


def test_key_of_other_workspace_sees_its_own_workspace(cast):
    response = whoami(cast.outsider.client("api-secret"))

    assert response.json()["workspace"]["slug"] == cast.other_workspace.slug


def test_trailing_slash_is_served_too(cast):
    assert cast.owner.client().get("/api/whoami/").status_code == 200


def test_missing_key_is_401_in_error_shape(anonymous):
    response = whoami(anonymous)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["status"] == 401
    assert "WWW-Authenticate" in response.headers


def test_revoked_key_is_401(cast):
    api_key = ApiKey.objects.get(prefix=cast.owner.key[3:11])
    api_key_revoke(api_key=api_key)

    response = whoami(cast.owner.client())

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_unknown_prefix_is_401(cast, anonymous):
    anonymous.credentials(HTTP_X_FLOWLA_API_KEY="fs_zzzzzzzz_" + cast.owner.key[12:])
    assert whoami(anonymous).status_code == 401


def test_wrong_secret_with_real_prefix_is_401(cast):
    forged = cast.owner.key[:12] + ("A" if cast.owner.key[12] != "A" else "B") + cast.owner.key[13:]
    client = cast.owner.client()
    client.credentials(HTTP_X_FLOWLA_API_KEY=forged)
    assert whoami(client).status_code == 401


@pytest.mark.parametrize("malformed", ["", "nonsense", "Bearer", "fs_short_x", "fs_" + "a" * 80])
def test_malformed_key_is_401(anonymous, malformed):
    anonymous.credentials(HTTP_API_SECRET=malformed)
    assert whoami(anonymous).status_code == 401


def test_non_bearer_authorization_is_not_a_key(cast, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Basic {cast.owner.key}")
    assert whoami(anonymous).status_code == 401


def test_stored_row_holds_no_usable_secret(cast):
    issued = api_key_create(workspace=cast.workspace, name="audit")
    row = ApiKey.objects.values().get(pk=issued.api_key.pk)
    secret = issued.plaintext.split("_", 2)[2]

    assert all(secret not in str(value) for value in row.values())
    assert row["prefix"] == issued.plaintext[3:11]


def test_use_records_last_used_time(cast):
    before = timezone.now()
    whoami(cast.owner.client())
    api_key = ApiKey.objects.get(prefix=cast.owner.key[3:11])
    assert api_key.last_used_at is not None
    assert api_key.last_used_at >= before


def test_session_login_acts_for_users_workspace(cast):
    response = whoami(cast.member.session_client())
    assert response.json()["workspace"]["slug"] == cast.workspace.slug


def test_session_user_picks_workspace_with_header(cast):
    from tests.factories import MembershipFactory

    MembershipFactory(user=cast.owner.user, workspace=cast.other_workspace)
    client = cast.owner.session_client()

    response = client.get("/api/whoami", HTTP_X_WORKSPACE=cast.other_workspace.slug)

    assert response.json()["workspace"]["slug"] == cast.other_workspace.slug


def test_session_user_cannot_pick_a_workspace_they_do_not_belong_to(cast):
    client = cast.member.session_client()
    response = client.get("/api/whoami", HTTP_X_WORKSPACE=cast.other_workspace.slug)
    assert response.status_code == 403
