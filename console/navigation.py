"""The console's grouped sidebar (settings.UNFOLD["SIDEBAR"]["navigation"]). A link is shown
only to staff whose model admin grants them the module, so the sidebar never offers a page
that would answer 403; a group with no such link is left out."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

# (group, [(title, Material Symbols icon, model label)])
GROUPS = [
    (
        "Rooms",
        [
            ("Rooms", "meeting_room", "rooms.Room"),
            ("Companies", "business", "rooms.Company"),
            ("Contacts", "contacts", "rooms.Contact"),
            ("Room statuses", "flag", "rooms.RoomStatus"),
            ("Labels", "label", "rooms.Label"),
        ],
    ),
    (
        "Webinars",
        [
            ("Events", "event", "events.Event"),
            ("Sessions", "schedule", "events.Session"),
            ("Registrants", "how_to_reg", "events.Registrant"),
            ("Operators", "support_agent", "events.Operator"),
            ("Surveys", "quiz", "events.Survey"),
            ("Survey responses", "ballot", "events.SurveyResponse"),
            ("Webinar chat", "forum", "events.ChatMessage"),
        ],
    ),
    (
        "Insights",
        [
            ("Chatbot flows", "account_tree", "insights.Flow"),
            ("Chat users", "person", "insights.ChatUser"),
            ("Chat messages", "chat", "insights.ChatMessage"),
            ("Flow triggers", "bolt", "insights.FlowTrigger"),
            ("Booking pages", "calendar_month", "insights.BookingPage"),
            ("Contact events", "timeline", "insights.ContactEvent"),
            ("Recordings", "videocam", "insights.Recording"),
        ],
    ),
    (
        "Sync",
        [
            ("Connections", "sync_alt", "syncing.Connection"),
            ("Sync runs", "history", "syncing.SyncRun"),
            ("Outbox", "outbox", "syncing.OutboxMessage"),
            ("CRM deals", "handshake", "syncing.CrmDeal"),
            ("Deal room rules", "rule", "syncing.DealRoomRule"),
            ("Rooms created for deals", "add_home", "syncing.DealRoom"),
            ("Schedules", "event_repeat", "django_celery_beat.PeriodicTask"),
            ("Intervals", "timer", "django_celery_beat.IntervalSchedule"),
            ("Crontabs", "update", "django_celery_beat.CrontabSchedule"),
            ("Clocked times", "alarm", "django_celery_beat.ClockedSchedule"),
            ("Solar events", "wb_twilight", "django_celery_beat.SolarSchedule"),
        ],
    ),
    (
        "Access",
        [
            ("Workspaces", "workspaces", "workspaces.Workspace"),
            ("Users", "group", "workspaces.User"),
            ("API keys", "key", "workspaces.ApiKey"),
            ("Worker heartbeats", "monitor_heart", "workspaces.WorkerHeartbeat"),
        ],
    ),
]


def _link(request, title: str, icon: str, model_label: str) -> dict | None:
    model = apps.get_model(model_label)
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_module_permission(request):
        return None
    opts = model._meta
    return {
        "title": title,
        "icon": icon,
        "link": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }


def sidebar_navigation(request) -> list[dict]:
    navigation = [
        {
            "title": "Home",
            "items": [{"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")}],
        }
    ]
    for group, entries in GROUPS:
        items = [link for entry in entries if (link := _link(request, *entry))]
        if items:
            navigation.append(
                {"title": group, "separator": True, "collapsible": True, "items": items}
            )
    return navigation


def account_links(request) -> list[dict]:
    """The user menu (settings.UNFOLD["ACCOUNT"]["navigation"]): the staff member's profile,
    where they set their time zone, and the password change. None on the login page."""
    if not request.user.is_authenticated:
        return []
    links = [
        {
            "title": "Profile and time zone",
            "link": reverse("admin:workspaces_user_change", args=[request.user.pk]),
        }
    ]
    if request.user.has_usable_password():
        links.append({"title": "Change password", "link": reverse("admin:password_change")})
    return links
