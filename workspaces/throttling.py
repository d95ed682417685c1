from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class WorkspaceRateThrottle(SimpleRateThrottle):
    """Per API key (or per logged-in user, or per client address when anonymous).

    The rate is read from settings on every request so it can be changed per deployment
    (API_THROTTLE_RATE) and per test."""

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if request.auth is not None and hasattr(request.auth, "prefix"):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"


class PublicRateThrottle(WorkspaceRateThrottle):
    """Per client address, for the public webinar endpoints."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return f"throttle:{self.scope}:ip:{self.get_ident(request)}"
