"""The reusable cross-workspace check: a key of one workspace never reads another's rows."""

import pytest

from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db


def test_scoping_helper_returns_only_the_workspace_rows(cast):
    own = set(ApiKey.objects.for_workspace(cast.workspace).values_list("workspace_id", flat=True))
    other = set(
        ApiKey.objects.for_workspace(cast.other_workspace).values_list("workspace_id", flat=True)
    )

    assert own == {cast.workspace.id}
    assert other == {cast.other_workspace.id}


def test_outsider_key_resolves_to_its_own_workspace_only(cast):
    body = cast.outsider.client().get("/api/whoami").json()
    assert body["workspace"]["id"] == cast.other_workspace.id
    assert body["workspace"]["id"] != cast.workspace.id
