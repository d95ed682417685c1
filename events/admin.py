from __future__ import annotations

import tempfile
import zipfile

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Count, Q
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from console.charts import line_chart
from events import csv_reports, services
from events.dashboard import session_figures
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
from workspaces.timezones import time_label


class EventsScopedMixin(WorkspaceScopedAdminMixin):
    """Adds what the foundation's scoping cannot know: relation choices for sessions,
    registrants and surveys (which reach their workspace through a parent), and the workspace
    of an event's or a session's object."""

    def _scoped_choices(self, request, related):
        queryset = super()._scoped_choices(request, related)
        path = getattr(related._default_manager._queryset_class, "workspace_path", "")
        if queryset is None and path and not request.user.is_superuser:
            workspaces = Membership.objects.filter(user=request.user).values("workspace_id")
            return related._default_manager.filter(**{f"{path}__in": workspaces})
        return queryset

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
    change_form_template = "admin/events/session/change_form.html"
    list_display = [
        "__str__",
        "starts_in_zone",
        "registrants_count",
        "attendees_count",
        "published",
        "on_demand_replays",
    ]
    list_select_related = ["event"]
    list_filter = ["published"]
    search_fields = ["token", "event__title"]
    readonly_fields = ["token", "starts_at", "opens_at", "ends_at"]
    inlines = [SessionOperatorInline]
    actions = ["download_csv_report"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                registrants_count=Count("registrants"),
                attendees_count=Count("registrants", filter=Q(registrants__attended=True)),
            )
        )

    @admin.display(description="starts", ordering="starts_at")
    def starts_in_zone(self, session: Session) -> str:
        """The wall clock the organizer chose, with its zone, and the time in the staff
        member's zone when it differs (console.middleware)."""
        local = f"{session.date:%Y-%m-%d} {session.time:%H:%M} {session.timezone}"
        if session.timezone == timezone.get_current_timezone_name():
            return local
        return f"{local} ({time_label(session.starts_at)})"

    @admin.display(description="registrants", ordering="registrants_count")
    def registrants_count(self, session: Session) -> int:
        return session.registrants_count

    @admin.display(description="attended", ordering="attendees_count")
    def attendees_count(self, session: Session) -> int:
        return session.attendees_count

    def change_view(self, request, object_id, form_url="", extra_context=None):
        session = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {})}
        if session is not None:
            figures = session_figures(session)
            extra_context["session_figures"] = figures
            extra_context["session_chart"] = line_chart(
                [day["date"] for day in figures["timeline"]],
                {"Registrations": [day["registrations"] for day in figures["timeline"]]},
            )
            extra_context["session_surveys"] = list(session.surveys.order_by("id"))
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        report = path(
            "<path:object_id>/report/<str:report>.csv",
            self.admin_site.admin_view(self.csv_report_view),
            name="events_session_report",
        )
        return [report, *super().get_urls()]

    def csv_report_view(self, request, object_id, report: str):
        """One CSV report of the session: registrants, attendee-chat, operator-chat or
        survey-<id>, streamed."""
        session = self.get_object(request, unquote(object_id))
        if session is None or not self.has_view_permission(request, session):
            raise Http404
        lines = self._report_lines(session, report)
        if lines is None:
            raise Http404
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        filename = f"{session.token}-{report}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @staticmethod
    def _report_lines(session: Session, report: str):
        if report == "registrants":
            return csv_reports.registrants_csv(session)
        kind = report.removesuffix("-chat")
        if report.endswith("-chat") and kind in ChatMessage.Kind.values:
            return csv_reports.chat_csv(session, ChatMessage.Kind(kind))
        survey_id = report.removeprefix("survey-")
        if report.startswith("survey-") and survey_id.isdigit():
            survey = session.surveys.filter(pk=int(survey_id)).first()
            return csv_reports.survey_csv(survey) if survey else None
        return None

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
