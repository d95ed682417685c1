"""Access to the endpoints with a workspace id in the path (the workspace analytics spec:
"Any workspace member can access analytics", 403 for anyone else)."""

from __future__ import annotations

from config.errors import Forbidden
from workspaces.authentication import ApiKeyUser
from workspaces.models import Workspace

MAX_ID = 2**63 - 1


def _callers_workspace(request, workspace_id: int) -> Workspace | None:
    if isinstance(request.user, ApiKeyUser):
        return request.workspace if request.workspace.pk == workspace_id else None
    if workspace_id > MAX_ID:  # cannot exist, and PostgreSQL would reject it as a bigint
        return None
    return Workspace.objects.filter(pk=workspace_id, memberships__user=request.user).first()


def member_workspace(request, workspace_id: str) -> Workspace:
    """The workspace ``workspace_id`` (the path segment) if the caller may use it: with that
    workspace's API key, or logged in as one of its members. Any other authenticated caller
    gets 403, whether or not the workspace exists (so ids do not leak); a segment that is not
    a number names no workspace and gets the same answer."""
    is_number = workspace_id.isascii() and workspace_id.isdigit()
    workspace = _callers_workspace(request, int(workspace_id)) if is_number else None
    if workspace is None:
        raise Forbidden("Only members of this workspace may use it.")
    return workspace
