from __future__ import annotations

import tempfile
import zipfile

from django.contrib import admin
from django.http import FileResponse
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from events import csv_reports, services
from events.models import (
    ChatMessage,
    Event,
    Operator,
    Registrant,
    Session,
    SessionOperator,
    Survey,
    SurveyResponse,
)
from workspaces.admin_scoping import WorkspaceScopedAdmin, WorkspaceScopedAdminMixin
from workspaces.models import Membership


class EventsScopedMixin(WorkspaceScopedAdminMixin):
    """Adds what the foundation's scoping cannot know: relation choices for sessions,
    registrants and surveys (which reach their workspace through a parent), and the permission
    check of inlines, which Django makes with the parent object."""

    def _scoped_choices(self, request, related):
        queryset = super()._scoped_choices(request, related)
        path = getattr(related._default_manager._queryset_class, "workspace_path", "")
        if queryset is None and path and not request.user.is_superuser:
            workspaces = Membership.objects.filter(user=request.user).values("workspace_id")
            return related._default_manager.filter(**{f"{path}__in": workspaces})
        return queryset

    def _may(self, request, obj, roles=None) -> bool:
        # Nested inlines on an add page are asked with a parent that is not saved yet: judge
        # them as an addition.
        if obj is not None and obj.pk is None:
            obj = None
        return super()._may(request, obj, roles)

    def _object_workspace_id(self, obj):
        if isinstance(obj, Event):
            return obj.workspace_id
        if isinstance(obj, Session):
            return obj.event.workspace_id
        return super()._object_workspace_id(obj)


@admin.register(Operator)
class OperatorAdmin(WorkspaceScopedAdmin):
    list_display = ["id", "email", "first_name", "last_name", "permission", "workspace"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["permission"]


class SessionOperatorInline(EventsScopedMixin, TabularInline):
    model = SessionOperator
    workspace_path = "session__event__workspace"
    extra = 0


class SessionInline(EventsScopedMixin, StackedInline):
    model = Session
    workspace_path = "event__workspace"
    extra = 0
    inlines = [SessionOperatorInline]
    readonly_fields = ["token", "starts_at", "opens_at", "ends_at"]


@admin.register(Event)
class EventAdmin(EventsScopedMixin, ModelAdmin):
    list_display = ["title", "creator", "created_at", "workspace"]
    list_select_related = ["creator", "workspace"]
    search_fields = ["title", "token", "sessions__token"]
    readonly_fields = ["token"]
    inlines = [SessionInline]


def _write_zip(archive: zipfile.ZipFile, name: str, chunks) -> None:
    with archive.open(name, "w") as member:
        for chunk in chunks:
            member.write(chunk.encode())


@admin.register(Session)
class SessionAdmin(EventsScopedMixin, ModelAdmin):
    workspace_path = "event__workspace"
    list_display = ["__str__", "token", "starts_at", "published", "on_demand_replays"]
    list_select_related = ["event"]
    list_filter = ["published"]
    search_fields = ["token", "event__title"]
    readonly_fields = ["token", "starts_at", "opens_at", "ends_at"]
    inlines = [SessionOperatorInline]
    actions = ["download_csv_report"]

    @admin.action(description="Download CSV report")
    def download_csv_report(self, request, queryset):
        """A ZIP with every CSV report of each selected session, in a folder per session
        token; spooled to disk past a few megabytes, so large sessions stay out of memory."""
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for session in queryset.select_related("event"):
                folder = session.token
                _write_zip(
                    archive, f"{folder}/registrants.csv", csv_reports.registrants_csv(session)
                )
                for kind in ChatMessage.Kind:
                    _write_zip(
                        archive,
                        f"{folder}/{kind}-chat.csv",
                        csv_reports.chat_csv(session, kind),
                    )
                for survey in session.surveys.order_by("id"):
                    _write_zip(
                        archive, f"{folder}/survey-{survey.pk}.csv", csv_reports.survey_csv(survey)
                    )
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename="webinar-reports.zip")


@admin.register(Registrant)
class RegistrantAdmin(EventsScopedMixin, ModelAdmin):
    workspace_path = "session__event__workspace"
    list_display = ["email", "first_name", "last_name", "session", "registered_at", "attended"]
    list_select_related = ["session__event"]
    list_filter = [("session", admin.RelatedOnlyFieldListFilter), "attended"]
    search_fields = ["email", "first_name", "last_name"]
    raw_id_fields = ["session", "contact"]

    def save_model(self, request, obj, form, change):
        if obj.contact_id is None:
            services.registrant_contact_link(registrant=obj)
        super().save_model(request, obj, form, change)


@admin.register(Survey)
class SurveyAdmin(EventsScopedMixin, ModelAdmin):
    workspace_path = "session__event__workspace"
    list_display = ["title", "session", "created_at"]
    list_select_related = ["session__event"]
    search_fields = ["title", "session__token"]
    raw_id_fields = ["session"]


class ReadOnlyMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyMixin, EventsScopedMixin, ModelAdmin):
    workspace_path = "survey__session__event__workspace"
    list_display = ["registrant", "survey", "submitted_at"]
    list_select_related = ["registrant", "survey"]
    list_filter = [("survey", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["registrant__email"]


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyMixin, EventsScopedMixin, ModelAdmin):
    workspace_path = "session__event__workspace"
    list_display = ["sent_at", "kind", "registrant", "operator", "text", "is_private"]
    list_select_related = ["registrant", "operator"]
    list_filter = ["kind", "is_private", ("session", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["text", "registrant__email", "operator__email"]
