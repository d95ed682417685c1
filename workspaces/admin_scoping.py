"""One admin base class that scopes every workspace-owned model to the staff member's
workspaces. Superusers see everything; other staff see and edit only rows of workspaces where
they are a member, and may change them only as an owner or admin of that workspace."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from unfold.admin import ModelAdmin

from workspaces.models import Membership, User, Workspace

EDITOR_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _workspace_ids(request, roles=None) -> set[int]:
    """The ids of the workspaces where the user is a member (with one of ``roles``). Kept on
    the request: a console page asks every model admin, so one query per role set, not one
    per model and permission."""
    cache = request.__dict__.setdefault("_workspace_ids_by_roles", {})
    key = tuple(sorted(roles or ()))
    if key not in cache:
        memberships = Membership.objects.filter(user=request.user)
        if roles:
            memberships = memberships.filter(role__in=roles)
        cache[key] = set(memberships.values_list("workspace_id", flat=True))
    return cache[key]


class WorkspaceScopedAdminMixin:
    """Mixin for ModelAdmin and inlines. ``workspace_path`` is the lookup from the model to its
    Workspace (``"workspace"`` for WorkspaceOwned models, ``"room__workspace"`` for parts)."""

    workspace_path = "workspace"

    def _scoped(self, request, queryset: QuerySet, roles=None) -> QuerySet:
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.workspace_path}__in": _workspace_ids(request, roles)}
        ).distinct()

    def get_queryset(self, request):
        return self._scoped(request, super().get_queryset(request))

    def _object_workspace_id(self, obj: Model) -> int | None:
        target = obj
        for part in self.workspace_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target.pk if isinstance(target, Model) else target

    def _may(self, request, obj, roles=None) -> bool:
        # Nested inlines on an add page are asked with a parent that is not saved yet (and has
        # no workspace yet): judge them as an addition.
        if obj is not None and obj.pk is None:
            obj = None
        if not request.user.is_active or not request.user.is_staff:
            return False
        if request.user.is_superuser:
            return True
        allowed = _workspace_ids(request, roles)
        if obj is None:
            return bool(allowed)
        return self._object_workspace_id(obj) in allowed

    def has_module_permission(self, request):
        return self._may(request, None)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, EDITOR_ROLES)

    def has_add_permission(self, request, *args):
        return self._may(request, None, EDITOR_ROLES)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, EDITOR_ROLES)

    def _scoped_choices(self, request, related) -> QuerySet | None:
        if request.user.is_superuser:
            return None
        if related is Workspace:
            return Workspace.objects.filter(pk__in=_workspace_ids(request, EDITOR_ROLES))
        if related is User:
            return User.objects.filter(
                memberships__workspace__in=_workspace_ids(request)
            ).distinct()
        if any(f.name == "workspace" for f in related._meta.get_fields()):
            return related._default_manager.filter(workspace__in=_workspace_ids(request))
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choices for any relation are limited to the staff member's workspaces."""
        queryset = self._scoped_choices(request, db_field.related_model)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = self._scoped_choices(request, db_field.related_model)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class WorkspaceScopedAdmin(WorkspaceScopedAdminMixin, ModelAdmin):
    list_select_related = ("workspace",)
