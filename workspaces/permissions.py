from rest_framework.permissions import BasePermission


class IsWorkspaceMember(BasePermission):
    """The caller is authenticated and acts for a workspace (``request.workspace``)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return getattr(request._request, "workspace", None) is not None


class AllowPublic(BasePermission):
    """For the few endpoints that are public upstream (webinar info and registration)."""

    def has_permission(self, request, view) -> bool:
        return True
