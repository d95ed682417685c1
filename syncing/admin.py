from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join

from syncing.models import Connection, OutboxMessage, SyncRun
from syncing.outbox import outbox_message_retry
from syncing.services import connection_set_credentials, connection_test
from workspaces.admin_scoping import EDITOR_ROLES, WorkspaceScopedAdmin


class ConnectionForm(forms.ModelForm):
    # Never rendered back: the page shows only whether a key is stored.
    api_key = forms.CharField(
        label="API key / secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave blank to keep the stored key.",
    )

    class Meta:
        model = Connection
        fields = ["workspace", "provider", "name", "base_url", "api_key", "enabled", "options"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.has_credentials and not cleaned.get("api_key"):
            self.add_error("api_key", "A new connection needs its API key.")
        return cleaned


@admin.register(Connection)
class ConnectionAdmin(WorkspaceScopedAdmin):
    form = ConnectionForm
    list_display = ["name", "workspace", "provider", "base_url", "enabled", "status"]
    list_filter = ["provider", "status", "enabled", "workspace"]
    search_fields = ["name", "base_url"]
    readonly_fields = [
        "credentials_stored",
        "status",
        "status_detail",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]
    actions = ["test_connection"]

    @admin.display(description="Credentials")
    def credentials_stored(self, obj: Connection) -> str:
        return "stored (encrypted)" if obj.has_credentials else "none"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("api_key"):
            connection_set_credentials(connection=obj, api_key=form.cleaned_data["api_key"])

    @admin.action(description="Test connection (one cheap upstream call)", permissions=["change"])
    def test_connection(self, request, queryset: QuerySet):
        for connection in self._scoped(request, queryset, EDITOR_ROLES):
            result = connection_test(connection=connection)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{connection.name}: {result.detail}", level)


@admin.register(SyncRun)
class SyncRunAdmin(WorkspaceScopedAdmin):
    list_display = [
        "started_at",
        "connection",
        "stream",
        "trigger",
        "status",
        "created",
        "updated",
        "unchanged",
        "failed",
        "upstream_calls",
        "finished_at",
    ]
    list_filter = ["status", "trigger", "stream", "connection", "started_at"]
    list_select_related = ["workspace", "connection"]
    date_hierarchy = "started_at"
    exclude = ["errors"]
    readonly_fields = ["error_list"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in SyncRun._meta.fields if field.name != "errors"] + [
            "error_list"
        ]

    @admin.display(description="Errors")
    def error_list(self, obj: SyncRun) -> str:
        if not obj.errors:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    error.get("message", ""),
                    error.get("upstreamId") or "",
                    error.get("correlationId") or "",
                    error.get("status") or "",
                )
                for error in obj.errors
            ),
        )
        more = obj.error_count - len(obj.errors)
        return format_html(
            "<table><tr><th>Message</th><th>Upstream id</th><th>Upstream request id</th>"
            "<th>Status</th></tr>{}</table>{}",
            rows,
            f"… and {more} more" if more > 0 else "",
        )

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(WorkspaceScopedAdmin):
    list_display = [
        "id",
        "kind",
        "connection",
        "object_key",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "upstream_id",
        "created_at",
    ]
    list_filter = ["status", "kind", "connection"]
    list_select_related = ["workspace", "connection"]
    search_fields = ["object_key", "upstream_id", "idempotency_key"]
    actions = ["retry"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in OutboxMessage._meta.fields]

    @admin.display(description="Last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:120]

    @admin.action(description="Retry selected failed messages", permissions=["change"])
    def retry(self, request, queryset: QuerySet):
        editable = self._scoped(request, queryset, EDITOR_ROLES)
        retried = sum(
            outbox_message_retry(message=message)
            for message in editable.filter(status=OutboxMessage.Status.FAILED)
        )
        self.message_user(request, f"{retried} message(s) queued for delivery again.")

    def has_add_permission(self, request, *args):
        return False
