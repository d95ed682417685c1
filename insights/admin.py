from django.contrib import admin

from insights.models import (
    BookingPage,
    ChatMessage,
    ChatUser,
    ContactEvent,
    Flow,
    FlowTrigger,
    Recording,
)
from workspaces.admin_scoping import WorkspaceScopedAdmin


@admin.register(Flow)
class FlowAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "upstream_id", "workspace"]
    search_fields = ["name", "upstream_id"]


@admin.register(ChatUser)
class ChatUserAdmin(WorkspaceScopedAdmin):
    list_display = ["upstream_id", "name", "first_seen_at", "workspace"]
    search_fields = ["upstream_id", "name"]
    raw_id_fields = ["contact"]
    date_hierarchy = "first_seen_at"


@admin.register(ChatMessage)
class ChatMessageAdmin(WorkspaceScopedAdmin):
    list_display = ["sent_at", "direction", "user", "flow", "text"]
    list_filter = ["direction"]
    list_select_related = ["workspace", "user", "flow"]
    search_fields = ["text", "client_id", "user__upstream_id"]
    raw_id_fields = ["user", "flow"]
    date_hierarchy = "sent_at"


@admin.register(FlowTrigger)
class FlowTriggerAdmin(WorkspaceScopedAdmin):
    list_display = ["at", "flow", "user"]
    list_select_related = ["workspace", "user", "flow"]
    search_fields = ["client_id", "flow__name", "user__upstream_id"]
    raw_id_fields = ["user", "flow"]
    date_hierarchy = "at"


@admin.register(BookingPage)
class BookingPageAdmin(WorkspaceScopedAdmin):
    list_display = ["title", "slug", "created_at", "workspace"]
    search_fields = ["title", "slug"]


@admin.register(ContactEvent)
class ContactEventAdmin(WorkspaceScopedAdmin):
    list_display = ["occurred_at", "event_type", "contact", "room", "booking_page"]
    list_filter = ["event_type"]
    list_select_related = ["workspace", "contact", "room", "booking_page"]
    search_fields = ["client_id", "contact__email", "room__title", "booking_page__slug"]
    raw_id_fields = ["contact", "room", "booking_page"]
    date_hierarchy = "occurred_at"


@admin.register(Recording)
class RecordingAdmin(WorkspaceScopedAdmin):
    list_display = ["created_at", "room", "duration_seconds", "status"]
    list_filter = ["status"]
    list_select_related = ["workspace", "room"]
    search_fields = ["client_id", "room__title"]
    raw_id_fields = ["room"]
    date_hierarchy = "created_at"
