"""Console pages render times in the staff member's zone (workspaces.timezones)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from workspaces.timezones import staff_time_zone


class StaffTimeZoneMiddleware:
    """Activates the staff member's zone for the admin's pages only: the API's times stay
    ISO 8601 in UTC whoever calls it. Must come after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if request.path.startswith(reverse("admin:index")) and user.is_authenticated:
            with timezone.override(staff_time_zone(user)):
                return self.get_response(request)
        return self.get_response(request)
