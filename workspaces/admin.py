from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminTextInputWidget

from workspaces.admin_scoping import (
    EDITOR_ROLES,
    WorkspaceScopedAdmin,
    WorkspaceScopedAdminMixin,
)
from workspaces.models import ApiKey, Membership, User, WorkerHeartbeat, Workspace
from workspaces.services import (
    api_key_create,
    api_key_delete,
    api_key_revoke,
    workspace_delete,
)
from workspaces.timezones import time_label, time_zone_names


class TimeZoneInput(UnfoldAdminTextInputWidget):
    """A text input that suggests the IANA zone names as the staff member types."""

    # In an app's templates: the form renderer finds widget templates there, not in DIRS.
    template_name = "workspaces/widgets/time_zone.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["list"] = f"{context['widget']['attrs']['id']}-choices"
        context["time_zones"] = sorted(time_zone_names())
        return context


class TimeZoneFieldsMixin:
    time_zone_fields = ("time_zone", "default_time_zone")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.time_zone_fields:
            kwargs["widget"] = TimeZoneInput()
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(TimeZoneFieldsMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "job_title", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "job_title", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    # What staff who are not superusers see of a user, and edit of themselves (their profile,
    # linked from the user menu): no password hash link, no access flags.
    profile_fieldsets = (
        (None, {"fields": ("email",)}),
        ("Profile", {"fields": ("full_name", "job_title", "time_zone")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "full_name", "password1", "password2")}),)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(memberships__workspace__memberships__user=request.user).distinct()

    def has_module_permission(self, request):
        return request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.profile_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ("email",)

    def has_change_permission(self, request, obj=None):
        """Superusers change anyone; other staff only their own profile."""
        return request.user.is_superuser or (
            obj is not None and request.user.is_staff and obj.pk == request.user.pk
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def response_change(self, request, obj):
        """A staff member saving their own profile stays on it (it is where the user menu
        leads), instead of landing on the users list."""
        response = super().response_change(request, obj)
        if obj.pk == request.user.pk and isinstance(response, HttpResponseRedirect):
            return HttpResponseRedirect(request.path)
        return response

    def user_change_password(self, request, id, form_url=""):
        # Changing one's own password goes through the user menu's form, which asks for the
        # current one; this form does not.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class MembershipInline(WorkspaceScopedAdminMixin, TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(TimeZoneFieldsMixin, WorkspaceScopedAdminMixin, ModelAdmin):
    workspace_path = "id"
    list_display = ["name", "slug", "internal_company_name", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def delete_model(self, request, obj):
        workspace_delete(workspace=obj)

    def delete_queryset(self, request, queryset):
        for workspace in queryset:
            workspace_delete(workspace=workspace)


@admin.register(ApiKey)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["workspace", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    fields = ["workspace", "name"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "workspace",
            "name",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        issued = api_key_create(workspace=obj.workspace, name=obj.name, created_by=request.user)
        obj.pk = issued.api_key.pk
        messages.warning(
            request,
            f"Copy this API key now; it is not shown again: {issued.plaintext}",
        )

    def delete_model(self, request, obj):
        api_key_delete(api_key=obj)

    def delete_queryset(self, request, queryset):
        for api_key in queryset:
            api_key_delete(api_key=api_key)

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request, queryset: QuerySet):
        editable = self._scoped(request, queryset, EDITOR_ROLES)
        for api_key in editable.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked at {time_label(timezone.now())}.")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ModelAdmin):
    list_display = ["hostname", "seen_at"]

    def has_add_permission(self, request):
        return False
