"""API authentication: a workspace key in any of the three headers the specs use, or a
logged-in session. The resolved workspace is put on ``request.workspace``."""

from __future__ import annotations

from axes.backends import AxesBackend
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from workspaces.services import api_key_authenticate
from workspaces.throttling import AuthFailureThrottle

# Header names as the upstream specs spell them (rooms; webinars).
KEY_HEADERS = ("x-flowla-api-key", "api-secret")


def _presented_key(request) -> str | None:
    for header in KEY_HEADERS:
        value = request.headers.get(header)
        if value is not None:
            return value
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = _presented_key(request)
        if raw_key is None:
            return None
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            failures = AuthFailureThrottle()
            if not failures.allow_request(request, None):
                raise exceptions.Throttled(failures.wait())
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        request._request.workspace = api_key.workspace
        return (ApiKeyUser(api_key), api_key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyUser:
    """The caller behind an API key: authenticated, belongs to exactly one workspace."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"api key {self.api_key.prefix}"


class SessionAuthentication(authentication.SessionAuthentication):
    """Session login for browser users. The workspace is the one named by the
    ``X-Workspace`` header (a slug), else the user's oldest membership."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            request._request.workspace = _session_workspace(request, result[0])
        return result


def _session_workspace(request, user):
    memberships = user.memberships.select_related("workspace").order_by("created_at", "id")
    slug = request.headers.get("X-Workspace")
    if slug:
        memberships = memberships.filter(workspace__slug=slug)
    membership = memberships.first()
    return membership.workspace if membership else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.authentication.ApiKeyAuthentication"
    name = ["FlowlaApiKey", "ApiSecret", "BearerKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "x-flowla-api-key"},
            {"type": "apiKey", "in": "header", "name": "api-secret"},
            {"type": "http", "scheme": "bearer"},
        ]


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class LoginLockoutBackend(AxesBackend):
    """django-axes' lockout for logins that come with a request (the admin's). A login without
    one (a management command, the test client's ``login``) has no address to count by, so it
    is left to the next backend instead of failing."""

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
