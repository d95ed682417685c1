"""Factories for every rooms model. Parts follow their parent's workspace, so a graph built from
one RoomFactory stays inside one workspace."""

from __future__ import annotations

import factory

from rooms.models import (
    Action,
    ActionAssignee,
    Company,
    Contact,
    Engagement,
    Label,
    Room,
    RoomContact,
    RoomMember,
    RoomStatus,
    Section,
    Step,
    Viewership,
    Visit,
)
from rooms.totals import refresh_room_totals
from tests.factories import UserFactory, WorkspaceFactory


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Buyer {n}")
    domain = factory.Sequence(lambda n: f"buyer{n}.example")
    brand_color = "#112233"


class RoomStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomStatus

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Stage {n}")


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Label {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"buyer{n}@customer.example")
    name = factory.Sequence(lambda n: f"Buyer Person {n}")
    job_title = "VP of Operations"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Room {n}")
    slug = factory.Sequence(lambda n: f"room-{n}")


class RoomMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomMember

    room = factory.SubFactory(RoomFactory)
    workspace = factory.SelfAttribute("room.workspace")
    user = factory.SubFactory(UserFactory)


class RoomContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomContact

    room = factory.SubFactory(RoomFactory)
    workspace = factory.SelfAttribute("room.workspace")
    contact = factory.SubFactory(ContactFactory, workspace=factory.SelfAttribute("..workspace"))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    room = factory.SubFactory(RoomFactory)
    workspace = factory.SelfAttribute("room.workspace")
    title = factory.Sequence(lambda n: f"Section {n}")
    position = factory.Sequence(lambda n: n)


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    section = factory.SubFactory(SectionFactory)
    workspace = factory.SelfAttribute("section.workspace")
    title = factory.Sequence(lambda n: f"Page {n}")
    position = factory.Sequence(lambda n: n)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    section = factory.SubFactory(SectionFactory)
    workspace = factory.SelfAttribute("section.workspace")
    title = factory.Sequence(lambda n: f"Action {n}")
    position = factory.Sequence(lambda n: n)


class ActionAssigneeFactory(factory.django.DjangoModelFactory):
    """A contact assignee unless ``user=...`` is given (then pass ``contact=None``)."""

    class Meta:
        model = ActionAssignee

    action = factory.SubFactory(ActionFactory)
    workspace = factory.SelfAttribute("action.workspace")
    contact = factory.SubFactory(ContactFactory, workspace=factory.SelfAttribute("..workspace"))


class _ActivityFactory(factory.django.DjangoModelFactory):
    """Activity rows: the viewer is a contact unless ``user=...`` is given (then pass
    ``contact=None``)."""

    room = factory.SubFactory(RoomFactory)
    workspace = factory.SelfAttribute("room.workspace")
    contact = factory.SubFactory(ContactFactory, workspace=factory.SelfAttribute("..workspace"))

    class Meta:
        abstract = True


class ViewershipFactory(_ActivityFactory):
    """Targets ``step=...`` or ``action=...`` (give one; the room follows it)."""

    class Meta:
        model = Viewership

    room = factory.LazyAttribute(lambda o: (o.step or o.action).section.room)
    step = None
    action = None
    duration_in_seconds = 30
    times_viewed = 1


class _CountedActivityFactory(_ActivityFactory):
    """Visits and engagements: like every writer of them, the factory refreshes the room's
    totals (rooms.totals) after writing one."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        row = super()._create(model_class, *args, **kwargs)
        refresh_room_totals([row.room_id])
        return row


class EngagementFactory(_CountedActivityFactory):
    """Targets ``step=...`` or ``action=...`` (give one; the room follows it)."""

    class Meta:
        model = Engagement

    room = factory.LazyAttribute(lambda o: (o.step or o.action).section.room)
    step = None
    action = None
    type = Engagement.Type.CLICK


class VisitFactory(_CountedActivityFactory):
    class Meta:
        model = Visit


def room_admin_form(workspace_id, **fields) -> dict:
    """The room admin add/change form's POST data: every field blank, no inline sections,
    then ``fields``."""
    data = {
        "workspace": workspace_id,
        "title": "",
        "description": "",
        "owner": "",
        "primary_contact": "",
        "company": "",
        "status": "",
        "label": "",
        "hs_deal_id": "",
        "sf_opportunity_id": "",
        "attio_deal_id": "",
        "cover_title": "",
        "cover_description": "",
        "theme_color": "",
        "nav_color": "",
        "sections-TOTAL_FORMS": 0,
        "sections-INITIAL_FORMS": 0,
        "sections-MIN_NUM_FORMS": 0,
        "sections-MAX_NUM_FORMS": 1000,
    }
    return data | fields
