"""Admin of the CRM sync: pulled deals (read-only, with the rooms linked to them), the
auto-create rules per connection, and the rooms created for deals (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.widgets import UnfoldAdminSelectWidget

from syncing.crm.catalog import crm_stages
from syncing.crm.links import room_deal_field, rooms_linked
from syncing.crm.tasks import crm_sync_deals
from syncing.models import CRM_PROVIDERS, CrmDeal, DealRoom, DealRoomRule, SyncRun
from workspaces.admin_scoping import WorkspaceScopedAdmin


class ReadOnlyAdmin(WorkspaceScopedAdmin):
    """Rows that mirror the CRM or record what the sync did: viewed, never edited here."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CrmDeal)
class CrmDealAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "provider",
        "stage",
        "amount",
        "currency",
        "owner_email",
        "close_date",
        "archived",
        "upstream_modified_at",
        "connection",
    ]
    list_filter = ["provider", "archived", "connection", "stage"]
    list_select_related = ["workspace", "connection"]
    search_fields = ["name", "upstream_id", "owner_email"]
    date_hierarchy = "upstream_modified_at"
    readonly_fields = ["linked_rooms"]
    actions = ["sync_again"]

    @admin.display(description="Linked rooms")
    def linked_rooms(self, deal: CrmDeal) -> str:
        field = room_deal_field(deal.provider)
        rooms = rooms_linked(workspace_id=deal.workspace_id, provider=deal.provider).filter(
            **{field: deal.upstream_id}
        )
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:rooms_room_change", args=[room.pk]), room.title)
                    for room in rooms
                ),
            )
            or "none"
        )

    @admin.action(description="Read the selected deals again from the CRM")
    def sync_again(self, request, queryset) -> None:
        by_connection: dict[int, list[str]] = {}
        for connection_id, upstream_id in queryset.values_list("connection_id", "upstream_id"):
            by_connection.setdefault(connection_id, []).append(upstream_id)
        for connection_id, ids in by_connection.items():
            crm_sync_deals.delay(connection_id, ids, SyncRun.Trigger.MANUAL)
        self.message_user(request, f"Queued {queryset.count()} deal(s).", messages.SUCCESS)


class DealRoomRuleForm(forms.ModelForm):
    """The stage is picked from the CRM's own list (read when the connection is tested):
    labels shown, the id the CRM's deals carry stored, anything else refused. An option's
    value is ``<connection id>:<stage id>``, since two connections may share stage ids."""

    stage = forms.ChoiceField(
        widget=UnfoldAdminSelectWidget,
        help_text="The CRM's stages as its last Test connection read them (test the connection "
        "on its page to read them again).",
    )

    class Meta:
        model = DealRoomRule
        fields = ["connection", "stage", "template", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        connections = self.fields["connection"].queryset.filter(provider__in=CRM_PROVIDERS)
        self.fields["stage"].choices = [("", "---------"), *_stage_choices(connections)]
        if self.instance.pk:
            self.initial["stage"] = f"{self.instance.connection_id}:{self.instance.stage}"

    def clean(self):
        cleaned = super().clean()
        connection, template = cleaned.get("connection"), cleaned.get("template")
        if connection and connection.provider not in CRM_PROVIDERS:
            self.add_error("connection", "Rules apply to CRM connections only.")
        if connection and template and template.workspace_id != connection.workspace_id:
            self.add_error("template", "The template must be of the connection's workspace.")
        owner, _, stage = (cleaned.get("stage") or "").partition(":")
        if connection and stage and owner != str(connection.pk):
            self.add_error("stage", "Pick a stage of the rule's connection.")
        cleaned["stage"] = stage
        return cleaned


def _stage_choices(connections) -> list[tuple[str, list[tuple[str, str]]]]:
    groups = []
    for connection in connections:
        stages = crm_stages(connection)
        name = connection.name if stages else f"{connection.name} (test it to read its stages)"
        options = [
            (f"{connection.pk}:{stage.id}", f"{stage.pipeline_label}: {stage.label}")
            for stage in stages
        ]
        groups.append((name, options))
    return groups


@admin.register(DealRoomRule)
class DealRoomRuleAdmin(WorkspaceScopedAdmin):
    form = DealRoomRuleForm
    list_display = ["connection", "stage", "template", "enabled", "created_at"]
    list_filter = ["enabled", "connection"]
    list_select_related = ["workspace", "connection", "template"]
    list_editable = ["enabled"]

    def save_model(self, request, obj: DealRoomRule, form, change) -> None:
        obj.workspace_id = obj.connection.workspace_id
        super().save_model(request, obj, form, change)


@admin.register(DealRoom)
class DealRoomAdmin(ReadOnlyAdmin):
    list_display = ["deal_upstream_id", "provider", "room_link", "created_at"]
    list_filter = ["provider"]
    list_select_related = ["workspace", "room"]
    search_fields = ["deal_upstream_id", "room__title"]

    @admin.display(description="Room")
    def room_link(self, deal_room: DealRoom) -> str:
        url = reverse("admin:rooms_room_change", args=[deal_room.room_id])
        return format_html('<a href="{}">{}</a>', url, deal_room.room.title)
