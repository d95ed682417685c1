from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from syncing.connection_form import connection_form_for, schedule_field_names, setup_of
from syncing.crm.webhooks import webhook_verifier
from syncing.models import CRM_PROVIDERS, Connection, OutboxMessage, SyncRun
from syncing.oauth import PROVIDERS as OAUTH_PROVIDERS
from syncing.oauth import OAuthError, oauth_connection_of, oauth_finish, oauth_start
from syncing.oauth import redirect_uri as oauth_redirect_uri
from syncing.outbox import outbox_message_retry
from syncing.providers.salesforce.client import SalesforceClient
from syncing.schedules import (
    connection_schedules_ensure,
    connection_schedules_follow_enabled,
    connection_stream_overview,
)
from syncing.services import (
    connection_delete,
    connection_fields_create,
    connection_merge_credentials,
    connection_test,
)
from syncing.streams import stream_queue, streams_of
from workspaces.admin_scoping import EDITOR_ROLES, WorkspaceScopedAdmin


def run_page_url(runs: list[SyncRun]) -> str:
    """The page that follows queued runs live: the run's own page, or the list of them."""
    if len(runs) == 1:
        return reverse("admin:syncing_syncrun_change", args=[runs[0].pk])
    ids = ",".join(str(run.pk) for run in runs)
    return f"{reverse('admin:syncing_syncrun_changelist')}?id__in={ids}"


@admin.register(Connection)
class ConnectionAdmin(WorkspaceScopedAdmin):
    change_form_template = "admin/syncing/connection/change_form.html"
    list_before_template = "console/connections_empty.html"
    list_display = ["name", "workspace", "provider", "base_url", "enabled", "status", "activity"]
    list_filter = ["provider", "status", "enabled", "workspace"]
    search_fields = ["name", "base_url"]
    readonly_fields = [
        "credentials_stored",
        "write_back_fields",
        "crm_urls",
        "webhook_url",
        "instance_url",
        "api_usage",
        "status",
        "status_detail",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]
    actions = ["test_connection", "sync_now", "full_refresh"]

    def get_queryset(self, request):
        active = SyncRun.objects.filter(
            connection=OuterRef("pk"), status__in=SyncRun.Status.active()
        )
        return super().get_queryset(request).annotate(running=Exists(active))

    @admin.display(description="Activity")
    def activity(self, obj: Connection) -> str:
        if not obj.running:
            return "idle"
        return format_html(
            '<span class="running-indicator" title="{}">'
            '<span class="material-symbols-outlined">sync</span> running</span>',
            "A sync run is queued or under way",
        )

    # --- the form, per provider -------------------------------------------------------------

    def _provider(self, request, obj: Connection | None) -> str:
        if obj is not None:
            return obj.provider
        return request.POST.get("provider") or request.GET.get("provider", "")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = connection_form_for(self._provider(request, obj))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        provider = self._provider(request, obj)
        setup = setup_of(provider)
        main = ["workspace", "provider", "name", "base_url", "enabled"]
        if provider in CRM_PROVIDERS:
            main.append("default_owner")
        credentials = [secret.key for secret in setup.secrets]
        if obj is not None:
            credentials.append("credentials_stored")
        if provider == Connection.Provider.SALESFORCE and obj is not None:
            credentials.append("instance_url")
        if provider in CRM_PROVIDERS and obj is not None:
            credentials += ["write_back_fields", "crm_urls"]
        if provider == Connection.Provider.VIDEO_PLATFORM and obj is not None:
            credentials.append("webhook_url")
        fieldsets = [
            (None, {"fields": main}),
            ("Credentials", {"fields": credentials}),
            ("Schedules", {"fields": schedule_field_names(provider)}),
        ]
        if obj is not None:
            status = ["status", "status_detail", "status_changed_at"]
            if provider == Connection.Provider.SALESFORCE:
                status.append("api_usage")
            fieldsets.append(("Status", {"fields": status}))
        fieldsets.append(("Advanced", {"fields": ["options"], "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "provider"] if obj is not None else fields

    def add_view(self, request, form_url="", extra_context=None):
        """Choose the provider first: the form's fields depend on it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if self._provider(request, None) not in Connection.Provider.values:
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Add connection: choose the provider",
                "providers": Connection.Provider.choices,
            }
            return TemplateResponse(
                request, "admin/syncing/connection/choose_provider.html", context
            )
        return super().add_view(request, form_url, extra_context)

    @admin.display(description="Credentials")
    def credentials_stored(self, obj: Connection) -> str:
        if not obj.has_credentials:
            return "none"
        return f"stored (encrypted): {', '.join(sorted(obj.credentials))}"

    @admin.display(description="Write-back fields")
    def write_back_fields(self, obj: Connection) -> str:
        """What the last test found missing and what to do about it."""
        catalog = obj.crm_catalog
        if not catalog.get("readAt"):
            return "not checked yet: Test connection reads them"
        missing = catalog.get("missingFields") or {}
        if not missing:
            return f"all exist (checked {catalog['readAt']})"
        if obj.provider != Connection.Provider.SALESFORCE:
            names = ", ".join(missing.values())
            return f"missing: {names}. The Create fields button below creates them."
        steps = format_html_join(
            "",
            "<li><code>{}</code> (Field Name <code>{}</code>): {}</li>",
            (
                (name, name.removesuffix("__c"), SalesforceClient.FIELD_TYPES.get(field, ""))
                for field, name in missing.items()
            ),
        )
        return format_html(
            "Missing. In Salesforce Setup, open Object Manager → Opportunity → Fields &amp; "
            "Relationships → New, and create:<ul>{}</ul>Give the profile of the user flowsync "
            "connects as edit access to them (Field-Level Security), then Test connection "
            "again.",
            steps,
        )

    @admin.display(description="URLs to register in the CRM")
    def crm_urls(self, obj: Connection) -> str:
        """What the CRM's app or webhook settings ask for, so the set-up needs no guessing."""
        rows = []
        if obj.provider in OAUTH_PROVIDERS:
            rows.append(("OAuth redirect (callback) URL", oauth_redirect_uri()))
        if webhook_verifier(obj.provider) is not None:
            path = reverse("crm-webhook", args=[obj.provider, obj.pk])
            rows.append(("Webhook target URL", settings.PUBLIC_BASE_URL + path))
        return (
            format_html_join("", "<div>{}: <code>{}</code></div>", rows)
            or "none (this CRM sends no webhooks; the schedules pull it)"
        )

    @admin.display(description="Webhook target URL")
    def webhook_url(self, obj: Connection) -> str:
        """Where the video platform's webhook is to point (docs/providers/video-platform.md)."""
        path = reverse("video-webhook", args=[obj.pk])
        return format_html("<code>{}</code>", settings.PUBLIC_BASE_URL + path)

    @admin.display(description="Instance URL (learned from the token)")
    def instance_url(self, obj: Connection) -> str:
        return obj.credentials.get("instance_url") or "not yet (the first test or run asks)"

    @admin.display(description="API usage")
    def api_usage(self, obj: Connection) -> str:
        """Daily API calls as the upstream last reported them (Salesforce's Sforce-Limit-Info)."""
        usage = obj.options.get("api_usage") if isinstance(obj.options, dict) else None
        if not isinstance(usage, dict) or "used" not in usage:
            return "not reported"
        limit, at = usage.get("limit", "?"), usage.get("checkedAt", "?")
        return f"{usage['used']} of {limit} calls today (at {at})"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes = form.secret_changes()
        if changes:
            connection_merge_credentials(connection=obj, changes=changes)
        connection_schedules_ensure(connection=obj)
        if change and "enabled" in form.changed_data:
            connection_schedules_follow_enabled(connection=obj)
        form.save_schedules(obj)
        if obj.has_credentials:
            self._report_test(request, obj)

    def _report_test(self, request, connection: Connection) -> None:
        result = connection_test(connection=connection)
        level = messages.SUCCESS if result.ok else messages.ERROR
        self.message_user(request, f"Test of {connection.name}: {result.detail}", level)

    def delete_model(self, request, obj):
        connection_delete(connection=obj)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            connection_delete(connection=connection)

    @admin.action(description="Test connection (one cheap upstream call)", permissions=["change"])
    def test_connection(self, request, queryset: QuerySet):
        for connection in self._scoped(request, queryset, EDITOR_ROLES):
            result = connection_test(connection=connection)
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{connection.name}: {result.detail}", level)

    def _queue_all_streams(self, request, queryset: QuerySet, *, full_refresh: bool):
        """Queue every stream of the selected connections; show the run (or runs) queued."""
        runs = []
        for connection in self._scoped(request, queryset, EDITOR_ROLES):
            streams = list(streams_of(connection.provider))
            for stream in streams:
                runs.append(
                    stream_queue(connection=connection, stream=stream, full_refresh=full_refresh)
                )
            what = ", ".join(streams) or "no streams"
            self.message_user(request, f"{connection.name}: queued {what}.")
        return redirect(run_page_url(runs)) if runs else None

    @admin.action(description="Sync now (every stream)", permissions=["change"])
    def sync_now(self, request, queryset: QuerySet):
        return self._queue_all_streams(request, queryset, full_refresh=False)

    @admin.action(
        description="Full refresh (every stream, ignoring cursors)", permissions=["change"]
    )
    def full_refresh(self, request, queryset: QuerySet):
        return self._queue_all_streams(request, queryset, full_refresh=True)

    # --- the change page's buttons ----------------------------------------------------------

    def get_urls(self):
        def button(route: str, view, name: str):
            return path(f"<path:object_id>/{route}/", self.admin_site.admin_view(view), name=name)

        callback = path(
            "oauth/callback/",
            self.admin_site.admin_view(self.oauth_callback_view),
            name="syncing_connection_oauth_callback",
        )
        return [
            callback,
            button("oauth", self.oauth_start_view, "syncing_connection_oauth"),
            button("sync", self.sync_stream_view, "syncing_connection_sync"),
            button("test", self.test_view, "syncing_connection_test"),
            button("create-fields", self.create_fields_view, "syncing_connection_create_fields"),
            *super().get_urls(),
        ]

    def _editable(self, request, object_id) -> Connection:
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            raise Http404
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        return connection

    def _back(self, connection: Connection):
        return redirect(reverse("admin:syncing_connection_change", args=[connection.pk]))

    def test_view(self, request, object_id):
        """POST: the change page's Test connection button."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._editable(request, object_id)
        self._report_test(request, connection)
        return self._back(connection)

    def oauth_start_view(self, request, object_id):
        """POST: Connect with HubSpot / Salesforce, off to the CRM's consent page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._editable(request, object_id)
        try:
            return HttpResponseRedirect(oauth_start(connection=connection, session=request.session))
        except OAuthError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back(connection)

    def oauth_callback_view(self, request):
        """GET ?code&state (or ?error): the CRM sends staff back here after consent."""
        try:
            connection_id = oauth_connection_of(
                state=request.GET.get("state", ""), session=request.session
            )
        except OAuthError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect(reverse("admin:syncing_connection_changelist"))
        connection = self._editable(request, str(connection_id))
        if "code" not in request.GET:
            name = connection.get_provider_display()
            self.message_user(
                request, f"{name} did not grant access; nothing changed.", messages.ERROR
            )
            return self._back(connection)
        try:
            oauth_finish(connection=connection, code=request.GET["code"])
        except OAuthError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back(connection)
        self.message_user(request, f"{connection.name} is connected.", messages.SUCCESS)
        self._report_test(request, connection)
        return self._back(connection)

    def create_fields_view(self, request, object_id):
        """POST: create the missing write-back fields (HubSpot properties, Attio
        attributes)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._editable(request, object_id)
        result = connection_fields_create(connection=connection)
        self.message_user(
            request,
            f"Create fields of {connection.name}: {result.detail}",
            messages.SUCCESS if result.ok else messages.ERROR,
        )
        return self._back(connection)

    def sync_stream_view(self, request, object_id):
        """POST stream=<name> [full_refresh=1]: the change page's per-stream buttons."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._editable(request, object_id)
        stream = request.POST.get("stream", "")
        full_refresh = request.POST.get("full_refresh") == "1"
        if stream not in streams_of(connection.provider):
            self.message_user(
                request, f"{connection.name} has no stream {stream!r}.", messages.ERROR
            )
            return self._back(connection)
        run = stream_queue(connection=connection, stream=stream, full_refresh=full_refresh)
        kind = "Full refresh" if full_refresh else "Sync"
        self.message_user(request, f"{kind} of {stream} queued.", messages.SUCCESS)
        return redirect(run_page_url([run]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {})}
        if connection is not None:
            extra_context["sync_streams"] = connection_stream_overview(connection=connection)
            oauth = OAUTH_PROVIDERS.get(connection.provider)
            if oauth is not None:
                url = reverse("admin:syncing_connection_oauth", args=[connection.pk])
                extra_context["oauth_buttons"] = [{"url": url, "label": oauth.label}]
            extra_context["can_create_fields"] = bool(
                connection.crm_catalog.get("missingFields")
            ) and connection.provider in (Connection.Provider.HUBSPOT, Connection.Provider.ATTIO)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(SyncRun)
class SyncRunAdmin(WorkspaceScopedAdmin):
    change_form_template = "admin/syncing/syncrun/change_form.html"
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

    def get_urls(self):
        progress = path(
            "<path:object_id>/progress/",
            self.admin_site.admin_view(self.progress_view),
            name="syncing_syncrun_progress",
        )
        return [progress, *super().get_urls()]

    def progress_view(self, request, object_id):
        """The run page's progress panel alone, which the page polls (htmx) while the run is
        queued or running; once it has ended, the page reloads and stops asking."""
        run = self.get_object(request, unquote(object_id))
        if run is None or not self.has_view_permission(request, run):
            raise Http404
        response = TemplateResponse(request, "admin/syncing/syncrun/progress.html", {"run": run})
        if request.headers.get("HX-Request") and run.status in SyncRun.Status.finished():
            # The run has ended: reload the whole page once so every recorded field is final.
            response["HX-Refresh"] = "true"
        return response


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


from syncing.crm import admin as _crm_admin  # noqa: E402, F401  (registers the CRM admin)
