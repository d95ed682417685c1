from django.contrib import admin

from insights.models import ChatMessage, ChatUser, Flow, FlowTrigger
from workspaces.admin_scoping import WorkspaceScopedAdmin


@admin.register(Flow)
class FlowAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "upstream_id", "workspace"]
    search_fields = ["name", "upstream_id"]


@admin.register(ChatUser)
class ChatUserAdmin(WorkspaceScopedAdmin):
    list_display = ["upstream_id", "name", "first_seen_at", "workspace"]
    search_fields = ["upstream_id", "name"]
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
