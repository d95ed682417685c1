"""Staff edit rooms here: the room page nests sections > pages and action items (unfold's
nested inlines), shows a read-only engagement summary, and the list offers "Duplicate room"
and "Create room from this template". Everything is scoped to the staff member's workspaces."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.forms import PaginationInlineFormSet

from console.charts import line_chart
from rooms import selectors, services
from rooms.analytics import progress_percentage, with_progress_counts
from rooms.dashboard import room_timeline, room_viewers
from rooms.models import (
    Action,
    Company,
    Contact,
    Engagement,
    Label,
    Room,
    RoomStatus,
    Section,
    Step,
)
from rooms.totals import contacts_delete, refresh_room_totals
from syncing.crm.links import DEAL_SUMMARY_KEYS, room_deals, with_deal_summaries
from workspaces.admin_scoping import WorkspaceScopedAdmin, WorkspaceScopedAdminMixin


class ParentWorkspaceFormSet(PaginationInlineFormSet):
    """New inline rows take the workspace of the row they are nested in."""

    def save_new(self, form, commit=True):
        form.instance.workspace_id = self.instance.workspace_id
        return super().save_new(form, commit)


class _ContentInline(WorkspaceScopedAdminMixin):
    formset = ParentWorkspaceFormSet
    exclude = ["workspace"]
    ordering_field = "position"
    hide_ordering_field = True
    extra = 0


class StepInline(_ContentInline, TabularInline):
    model = Step
    fields = ["title", "access", "position"]
    verbose_name = "page"


class ActionInline(_ContentInline, StackedInline):
    model = Action
    fields = [
        ("title", "status", "access"),
        "description",
        ("step", "action_type", "internal"),
        ("start_date", "due_date"),
        "position",
    ]
    verbose_name = "action item"


class SectionInline(_ContentInline, StackedInline):
    model = Section
    fields = [("title", "access", "is_completed"), "position"]
    inlines = [StepInline, ActionInline]


@admin.register(Room)
class RoomAdmin(WorkspaceScopedAdminMixin, ModelAdmin):
    # What fits a 1,366 px screen; CRM ids stay searchable, workspace and label filterable.
    list_display = [
        "title",
        "company",
        "owner",
        "status",
        "total_views",
        "last_engaged_at",
        "deal_stage",
    ]
    list_select_related = ["workspace", "company", "status", "label", "owner"]
    search_fields = [
        "title",
        "company__name",
        "primary_contact__email",
        "contacts__contact__email",
        "hs_deal_id",
        "sf_opportunity_id",
        "attio_deal_id",
    ]
    # RelatedOnly: the choices come from the (scoped) rooms, never another workspace's rows.
    list_filter = [
        ("status", admin.RelatedOnlyFieldListFilter),
        ("label", admin.RelatedOnlyFieldListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
        "is_template",
        "archived",
    ]
    readonly_fields = [
        "slug",
        "created_at",
        "updated_at",
        "engagement_summary",
        "crm_deals",
        "engagement_timeline",
        "action_plan_progress",
        "viewers",
    ]
    fieldsets = [
        (None, {"fields": ["workspace", "title", "description", "is_template", "archived"]}),
        (
            "People and pipeline",
            {"fields": ["owner", "primary_contact", "company", "status", "label"]},
        ),
        (
            "CRM links",
            {"fields": ["hs_deal_id", "sf_opportunity_id", "attio_deal_id", "crm_deals"]},
        ),
        (
            "Cover and colors",
            {
                "fields": [
                    "cover_title",
                    "cover_description",
                    "cover_disabled",
                    "theme_color",
                    "nav_color",
                ]
            },
        ),
        (
            "Engagement",
            {
                "fields": [
                    "engagement_timeline",
                    "action_plan_progress",
                    "viewers",
                    "engagement_summary",
                    "slug",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    inlines = [SectionInline]
    actions = ["duplicate_rooms", "create_from_templates"]
    list_before_template = "console/rooms_empty.html"

    def get_queryset(self, request):
        rooms = selectors.with_engagement_totals(super().get_queryset(request))
        return with_progress_counts(with_deal_summaries(rooms))

    @admin.display(description="deal stage")
    def deal_stage(self, room: Room) -> str:
        """The stage of the first linked deal pulled (HubSpot, Salesforce, then Attio)."""
        for link in DEAL_SUMMARY_KEYS.values():
            if getattr(room, f"{link}_id") and getattr(room, f"{link}_stage", None):
                return getattr(room, f"{link}_stage")
        return "—"

    @admin.display(description="Engagement, last 30 days")
    def engagement_timeline(self, room: Room) -> str:
        if room._state.adding:
            return "—"
        days = room_timeline(room=room, today=timezone.now().date())
        data = line_chart(
            [day["date"] for day in days],
            {
                "Views": [day["views"] for day in days],
                "Engagements": [day["engagements"] for day in days],
            },
        )
        return render_to_string("console/room_timeline.html", {"data": data})

    @admin.display(description="Action plan")
    def action_plan_progress(self, room: Room) -> str:
        if room._state.adding:
            return "—"
        percent = progress_percentage(room.done_actions, room.counted_actions)
        return render_to_string(
            "console/progress_bar.html",
            {"percent": percent, "done": room.done_actions, "counted": room.counted_actions},
        )

    @admin.display(description="Who viewed what")
    def viewers(self, room: Room) -> str:
        if room._state.adding:
            return "—"
        return render_to_string("console/room_viewers.html", {"viewers": room_viewers(room=room)})

    @admin.display(ordering="total_views", description="views")
    def total_views(self, room: Room) -> int:
        return room.total_views

    @admin.display(ordering="total_unique_views", description="unique viewers")
    def total_unique_views(self, room: Room) -> int:
        return room.total_unique_views

    @admin.display(ordering="total_engagements", description="engagements")
    def total_engagements(self, room: Room) -> int:
        return room.total_engagements

    @admin.display(ordering="last_engaged_at", description="last engaged")
    def last_engaged_at(self, room: Room):
        return room.last_engaged_at

    @admin.display(description="engagement summary")
    def engagement_summary(self, room: Room) -> str:
        if room._state.adding:  # the add page: a UUID pk exists before the row does
            return "—"
        rows = [
            ("Views (visits)", room.total_views),
            ("Unique viewers", room.total_unique_views),
            ("Engagements", room.total_engagements),
            ("Last engaged", room.last_engaged_at or "never"),
            *(
                (label, getattr(room, f"engagement_{type_.lower()}"))
                for type_, label in Engagement.Type.choices
            ),
        ]
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description="Linked deals")
    def crm_deals(self, room: Room) -> str:
        """The pulled deals the CRM ids name (name, stage, amount, link to the deal's page)."""
        deals = [] if room._state.adding else room_deals(room)
        if not deals:
            return "none pulled"
        return format_html_join(
            "",
            '<p><a href="{}">{}</a> ({}): {}, {} {}</p>',
            (
                (
                    reverse("admin:syncing_crmdeal_change", args=[deal.pk]),
                    deal,
                    deal.get_provider_display(),
                    deal.stage or "no stage",
                    deal.amount if deal.amount is not None else "no amount",
                    deal.currency,
                )
                for deal in deals
            ),
        )

    def save_model(self, request, obj, form, change):
        services.room_save(room=obj)

    def save_related(self, request, form, formsets, change):
        # Deleting a section, page or action item in the inlines deletes its activity too.
        super().save_related(request, form, formsets, change)
        refresh_room_totals([form.instance.pk])

    @admin.action(description="Duplicate room", permissions=["add"])
    def duplicate_rooms(self, request, queryset: QuerySet):
        copies = [services.room_duplicate(room=room) for room in queryset]
        self.message_user(request, f"Created {len(copies)} room(s).", messages.SUCCESS)

    @admin.action(description="Create room from this template", permissions=["add"])
    def create_from_templates(self, request, queryset: QuerySet):
        templates = [room for room in queryset if room.is_template]
        for template in templates:
            services.room_create_from_template(template=template)
        if len(templates) < len(queryset):
            self.message_user(request, "Skipped rooms that are not templates.", messages.WARNING)
        self.message_user(
            request, f"Created {len(templates)} room(s) from templates.", messages.SUCCESS
        )


@admin.register(Company)
class CompanyAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "domain", "brand_color", "workspace", "created_at"]
    search_fields = ["name", "domain"]


@admin.register(Contact)
class ContactAdmin(WorkspaceScopedAdmin):
    list_display = ["email", "name", "job_title", "company", "workspace", "created_at"]
    list_select_related = ["workspace", "company"]
    search_fields = ["email", "name", "company__name"]

    # A contact's visits and engagements go with it: the rooms' totals are refreshed.
    def delete_model(self, request, obj):
        contacts_delete(Contact.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        contacts_delete(queryset)


@admin.register(RoomStatus)
class RoomStatusAdmin(WorkspaceScopedAdmin):
    list_display = ["title", "is_default", "position", "workspace"]
    list_editable = ["position"]


@admin.register(Label)
class LabelAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "color", "workspace"]
    search_fields = ["name"]
