"""Input and output serializers of the rooms API v2. JSON names are camelCase as in the spec;
``source`` maps them to model fields. Input serializers reject unknown body fields."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.fields import (
    IsoDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictSerializer,
)
from rooms.analytics import ASSIGNEE_TYPES, CONTACT, USER
from rooms.models import Access, Action, Company, Label, Room, RoomStatus, Section, Step
from syncing.crm.links import DEAL_SUMMARY_KEYS, deal_summary
from workspaces.models import Membership, User

MAX_POSITION = 2**31 - 1  # PostgreSQL integer
MAX_BULK_ITEMS = 500
MAX_ASSIGNEES = 100

HEX_COLOR = RegexValidator(r"\A#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})\Z", "Must be a hex color.")
NAV_COLOR = RegexValidator(
    rf"\A(?:#(?:[0-9A-Fa-f]{{3}}|[0-9A-Fa-f]{{6}})|{Room.NavColor.ORG}|{Room.NavColor.TARGET_COMPANY})\Z",
    f'Must be a hex color, "{Room.NavColor.ORG}" or "{Room.NavColor.TARGET_COMPANY}".',
)
SALESFORCE_ID = RegexValidator(
    r"\A[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z", "Must be a 15- or 18-character Salesforce id."
)


# --- fields -------------------------------------------------------------------------------------


class OptionalTextField(StrictCharField):
    """Optional text stored as "" when unset: input null or "" clears it, output "" is null."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, allow_blank=True, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return str(value) if value else None


class WorkspaceRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of ``model`` looked up only in the caller's workspace (``context["workspace"]``):
    another workspace's id "does not exist", exactly like an unknown one."""

    default_error_messages = {"does_not_exist": 'Object "{pk_value}" does not exist.'}

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_workspace(self.context["workspace"])


@extend_schema_field(OpenApiTypes.STR)
class MemberField(serializers.PrimaryKeyRelatedField):
    """A user id (as a string or number) of a member of the caller's workspace."""

    default_error_messages = {"does_not_exist": 'User "{pk_value}" is not a workspace member.'}

    def __init__(self, **kwargs):
        kwargs["pk_field"] = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        super().__init__(**kwargs)

    def get_queryset(self):
        return User.objects.filter(memberships__workspace=self.context["workspace"])


def _position_field():
    return StrictIntegerField(min_value=0, max_value=MAX_POSITION, required=False)


def _access_field():
    return serializers.ChoiceField(Access.choices, required=False)


# --- query parameters ---------------------------------------------------------------------------


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_POSITION, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


SORT_KEYS = [
    "createdAt",
    "updatedAt",
    "title",
    "lastEngagedAt",
    "totalViews",
    "totalUniqueViews",
    "totalEngagements",
]


class RoomListQuerySerializer(PageQuerySerializer):
    sortBy = serializers.ChoiceField(SORT_KEYS, default="createdAt", source="sort_by")
    sortDirection = serializers.RegexField(
        r"^(?:[Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$",
        default="DESC",
        source="sort_direction",
        error_messages={"invalid": "Must be ASC or DESC."},
        help_text="ASC or DESC, any case.",
    )
    isTemplate = serializers.BooleanField(
        default=False, source="is_template", help_text="true lists the templates instead."
    )

    def validate_sortDirection(self, value: str) -> str:
        return value.upper()


class RoomIdQuerySerializer(serializers.Serializer):
    roomId = serializers.UUIDField(source="room_id")


class SectionIdQuerySerializer(serializers.Serializer):
    sectionId = serializers.UUIDField(source="section_id")


class ActionItemQuerySerializer(serializers.Serializer):
    sectionId = serializers.UUIDField(source="section_id", required=False)
    pageId = serializers.UUIDField(source="page_id", required=False)

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(
                {"sectionId": ["Give exactly one of sectionId and pageId."]}
            )
        return attrs


# --- rooms: input -------------------------------------------------------------------------------


class RoomUpdateInputSerializer(StrictSerializer):
    """PATCH: the fields the spec lists; absent fields keep their value, null clears."""

    title = StrictCharField(max_length=255, required=False)
    description = OptionalTextField()
    statusId = WorkspaceRelatedField(RoomStatus, source="status", required=False, allow_null=True)
    userId = MemberField(source="owner", required=False, allow_null=True)
    companyId = WorkspaceRelatedField(Company, source="company", required=False, allow_null=True)
    hsDealId = OptionalTextField(source="hs_deal_id", max_length=64)
    sfOpportunityId = OptionalTextField(source="sf_opportunity_id", validators=[SALESFORCE_ID])
    attioDealId = OptionalTextField(source="attio_deal_id", max_length=64)
    coverTitle = OptionalTextField(source="cover_title", max_length=255)
    coverDescription = OptionalTextField(source="cover_description")
    coverDisabled = StrictBooleanField(source="cover_disabled", required=False)
    themeColor = OptionalTextField(source="theme_color", validators=[HEX_COLOR])
    navColor = OptionalTextField(source="nav_color", validators=[NAV_COLOR])


class RoomCreateInputSerializer(RoomUpdateInputSerializer):
    title = StrictCharField(max_length=255)
    templateId = WorkspaceRelatedField(Room, source="template", required=False, allow_null=True)
    duplicateFromId = WorkspaceRelatedField(
        Room, source="duplicate_from", required=False, allow_null=True
    )
    labelId = WorkspaceRelatedField(Label, source="label", required=False, allow_null=True)
    email = StrictEmailField(
        source="contact_email", required=False, allow_null=True, max_length=254
    )

    def to_internal_value(self, data):
        # Spec 001: templateId is "Ignored when duplicateFromId is set", so not validated then.
        if isinstance(data, Mapping) and data.get("duplicateFromId") is not None:
            data = {name: value for name, value in data.items() if name != "templateId"}
        return super().to_internal_value(data)

    def validate_templateId(self, template: Room | None) -> Room | None:
        if template is not None and not template.is_template:
            raise serializers.ValidationError(f'Room "{template.pk}" is not a template.')
        return template


# --- rooms: output ------------------------------------------------------------------------------


class EngagementBreakdownSerializer(serializers.Serializer):
    """The room's engagements by type (annotated by rooms.selectors.with_engagement_totals)."""

    clicks = serializers.IntegerField(source="engagement_click")
    comments = serializers.IntegerField(source="engagement_comment")
    downloads = serializers.IntegerField(source="engagement_download")
    reactions = serializers.IntegerField(source="engagement_reaction")
    shares = serializers.IntegerField(source="engagement_share")
    views = serializers.IntegerField(source="engagement_view")
    tasksCompleted = serializers.IntegerField(source="engagement_task_completed")


class CrmDealSummarySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The deal's name in the CRM (may be empty).")
    stage = serializers.CharField(help_text="The deal's stage id in the CRM (may be empty).")


@extend_schema_field(CrmDealSummarySerializer)
class CrmDealField(serializers.Field):
    """The deal the room's CRM id names, as last pulled (syncing.crm.links.deal_summary);
    left out when the room has no such link or the deal was never pulled."""

    def __init__(self, link: str):
        self.link = link
        # Output only, yet not read_only: drf-spectacular lists read-only fields as required
        # in responses, and this one may be left out.
        super().__init__(source="*", required=False)

    def to_representation(self, room: Room) -> dict | None:
        return deal_summary(room, self.link)


class RoomSerializer(serializers.Serializer):
    """A room as listed: every field of the spec's table."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    userId = serializers.CharField(source="owner_id", allow_null=True)
    companyId = serializers.UUIDField(source="company_id", allow_null=True)
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")
    totalEngagements = serializers.IntegerField(source="total_engagements")
    lastEngagedAt = IsoDateTimeField(source="last_engaged_at", allow_null=True)
    totalViews = serializers.IntegerField(source="total_views")
    totalUniqueViews = serializers.IntegerField(source="total_unique_views")
    engagements = EngagementBreakdownSerializer(source="*")
    coverTitle = OptionalTextField(source="cover_title")
    coverDescription = OptionalTextField(source="cover_description")
    coverDisabled = serializers.BooleanField(source="cover_disabled")
    themeColor = OptionalTextField(source="theme_color")
    navColor = OptionalTextField(source="nav_color")


class RoomDetailSerializer(RoomSerializer):
    """One room: the list's fields and the rest of what the create body sets."""

    description = OptionalTextField()
    statusId = serializers.UUIDField(source="status_id", allow_null=True)
    labelId = serializers.UUIDField(source="label_id", allow_null=True)
    hsDealId = OptionalTextField(source="hs_deal_id")
    sfOpportunityId = OptionalTextField(source="sf_opportunity_id")
    attioDealId = OptionalTextField(source="attio_deal_id")
    hsDeal = CrmDealField("hs_deal")
    sfOpportunity = CrmDealField("sf_opportunity")
    attioDeal = CrmDealField("attio_deal")
    isTemplate = serializers.BooleanField(source="is_template")
    email = serializers.EmailField(
        source="primary_contact.email", allow_null=True, help_text="The primary contact's email."
    )
    slug = serializers.SlugField()

    def to_representation(self, room: Room) -> dict:
        """The deal keys appear only when known (the room links to a deal flowsync pulled)."""
        data = super().to_representation(room)
        for key in DEAL_SUMMARY_KEYS:
            if data[key] is None:
                del data[key]
        return data


class RoomPageSerializer(serializers.Serializer):
    results = RoomSerializer(many=True)
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()


# --- lookups ------------------------------------------------------------------------------------


class StatusSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    defaultStatus = serializers.BooleanField(source="is_default")


class CompanySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    domain = OptionalTextField()
    brandColor = OptionalTextField(source="brand_color")


class LabelSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    color = OptionalTextField()


class MemberSerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    name = OptionalTextField(source="full_name")
    title = OptionalTextField(source="job_title")
    role = serializers.ChoiceField(Membership.Role.choices)


class TemplateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    description = OptionalTextField()
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")


def page_serializer(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The paged envelope {results, page, limit, total} around ``item``."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "page": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
            "total": serializers.IntegerField(),
        },
    )


CompanyPageSerializer = page_serializer("CompanyPage", CompanySerializer)
LabelPageSerializer = page_serializer("LabelPage", LabelSerializer)
MemberPageSerializer = page_serializer("MemberPage", MemberSerializer)
TemplatePageSerializer = page_serializer("TemplatePage", TemplateSerializer)


# --- sections and pages -------------------------------------------------------------------------


class SectionItemInputSerializer(StrictSerializer):
    title = StrictCharField(max_length=255)
    access = _access_field()
    position = _position_field()


class SectionsCreateInputSerializer(StrictSerializer):
    roomId = WorkspaceRelatedField(Room, source="room")
    sections = SectionItemInputSerializer(
        many=True, allow_empty=False, min_length=1, max_length=MAX_BULK_ITEMS
    )


class SectionUpdateInputSerializer(StrictSerializer):
    title = StrictCharField(max_length=255, required=False)
    access = _access_field()
    isCompleted = StrictBooleanField(source="is_completed", required=False)
    position = _position_field()


class SectionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    roomId = serializers.UUIDField(source="room_id")
    title = serializers.CharField()
    position = serializers.IntegerField()
    access = serializers.ChoiceField(Access.choices)
    isCompleted = serializers.BooleanField(source="is_completed")
    isVisibleToExternal = serializers.BooleanField(source="is_visible_to_external")
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")


class PageItemInputSerializer(StrictSerializer):
    title = StrictCharField(max_length=255)
    access = _access_field()
    position = _position_field()


class PagesCreateInputSerializer(StrictSerializer):
    sectionId = WorkspaceRelatedField(Section, source="section")
    pages = PageItemInputSerializer(
        many=True, allow_empty=False, min_length=1, max_length=MAX_BULK_ITEMS
    )


class PageUpdateInputSerializer(StrictSerializer):
    title = StrictCharField(max_length=255, required=False)
    access = _access_field()
    position = _position_field()


class PageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sectionId = serializers.UUIDField(source="section_id")
    title = serializers.CharField()
    position = serializers.IntegerField()
    access = serializers.ChoiceField(Access.choices)
    isVisibleToExternal = serializers.BooleanField(source="is_visible_to_external")
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")


# --- action items -------------------------------------------------------------------------------


class ActionItemUpdateInputSerializer(StrictSerializer):
    """PATCH: absent fields keep their value; ``assignees`` replaces the whole list."""

    title = StrictCharField(max_length=255, required=False)
    description = OptionalTextField()
    status = serializers.ChoiceField(Action.Status.choices, required=False)
    startDate = IsoDateTimeField(source="start_date", required=False, allow_null=True)
    dueDate = IsoDateTimeField(source="due_date", required=False, allow_null=True)
    internal = StrictBooleanField(required=False)
    actionType = OptionalTextField(source="action_type", max_length=64)
    access = _access_field()
    position = _position_field()
    assignees = serializers.ListField(
        child=StrictEmailField(max_length=254), required=False, max_length=MAX_ASSIGNEES
    )


class ActionItemInputSerializer(ActionItemUpdateInputSerializer):
    title = StrictCharField(max_length=255)


class ActionItemsCreateInputSerializer(StrictSerializer):
    sectionId = WorkspaceRelatedField(Section, source="section", required=False)
    pageId = WorkspaceRelatedField(Step, source="page", required=False)
    items = ActionItemInputSerializer(
        many=True, allow_empty=False, min_length=1, max_length=MAX_BULK_ITEMS
    )

    def validate(self, attrs):
        if ("section" in attrs) == ("page" in attrs):
            raise serializers.ValidationError(
                {"sectionId": ["Give exactly one of sectionId and pageId."]}
            )
        return attrs


class ActionAssigneeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        ASSIGNEE_TYPES, help_text="user: a workspace member; contact: an external person."
    )
    email = serializers.EmailField()
    name = serializers.CharField(allow_null=True)

    def to_representation(self, instance):
        person = instance.viewer
        return {
            "type": USER if instance.user_id else CONTACT,
            "email": person.email,
            "name": (person.full_name if instance.user_id else person.name) or None,
        }


class ActionItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sectionId = serializers.UUIDField(source="section_id")
    pageId = serializers.UUIDField(source="step_id", allow_null=True)
    title = serializers.CharField()
    description = OptionalTextField()
    status = serializers.ChoiceField(Action.Status.choices)
    internal = serializers.BooleanField()
    startDate = IsoDateTimeField(source="start_date", allow_null=True)
    dueDate = IsoDateTimeField(source="due_date", allow_null=True)
    actionType = OptionalTextField(source="action_type")
    access = serializers.ChoiceField(Access.choices)
    isVisibleToExternal = serializers.BooleanField(source="is_visible_to_external")
    position = serializers.IntegerField()
    assignees = ActionAssigneeSerializer(source="assignees.all", many=True)
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")
