import pytest
from django.db import IntegrityError, transaction

from rooms.models import Access, Contact, Engagement, Viewership
from tests.factories import UserFactory, WorkspaceFactory
from tests.rooms.factories import (
    ActionAssigneeFactory,
    ActionFactory,
    CompanyFactory,
    ContactFactory,
    EngagementFactory,
    LabelFactory,
    RoomContactFactory,
    RoomMemberFactory,
    RoomStatusFactory,
    SectionFactory,
    StepFactory,
    ViewershipFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def test_every_factory_builds_a_row_in_the_parent_workspace():
    step = StepFactory()
    workspace = step.workspace
    action = ActionFactory(section=step.section, step=step)
    rows = [
        CompanyFactory(workspace=workspace),
        RoomStatusFactory(workspace=workspace),
        LabelFactory(workspace=workspace),
        ContactFactory(workspace=workspace),
        RoomMemberFactory(room=step.section.room),
        RoomContactFactory(room=step.section.room),
        ActionAssigneeFactory(action=action),
        ViewershipFactory(step=step),
        EngagementFactory(action=action),
        VisitFactory(room=step.section.room),
    ]
    assert {row.workspace_id for row in rows} == {workspace.id}
    assert step.section.room.workspace_id == workspace.id


def test_contact_email_is_unique_per_workspace_ignoring_case():
    contact = ContactFactory(email="Morgan@Acme.example")
    ContactFactory(email="morgan@acme.example", workspace=WorkspaceFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(email="MORGAN@acme.example", workspace=contact.workspace)
    assert Contact.objects.count() == 2


def test_a_viewer_is_exactly_one_of_user_or_contact():
    step = StepFactory()
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ViewershipFactory(step=step, user=user)  # a contact too
    with pytest.raises(IntegrityError), transaction.atomic():
        ViewershipFactory(step=step, contact=None)
    assert ViewershipFactory(step=step, user=user, contact=None).viewer == user


def test_an_activity_row_targets_exactly_one_of_step_or_action():
    step = StepFactory()
    action = ActionFactory(section=step.section)
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory(step=step, action=action)
    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.create(
            workspace=step.workspace,
            room=step.section.room,
            contact=ContactFactory(workspace=step.workspace),
            type=Engagement.Type.VIEW,
        )


def test_viewership_is_one_row_per_viewer_and_target():
    step = StepFactory()
    first = ViewershipFactory(step=step)
    ViewershipFactory(action=ActionFactory(section=step.section), contact=first.contact)
    with pytest.raises(IntegrityError), transaction.atomic():
        ViewershipFactory(step=step, contact=first.contact)
    assert Viewership.objects.count() == 2


def test_client_ids_are_unique_per_workspace_and_optional():
    step = StepFactory()
    EngagementFactory(step=step, client_id="evt-1")
    EngagementFactory(step=step)
    EngagementFactory(step=step)
    EngagementFactory(step=StepFactory(), client_id="evt-1")  # another workspace
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory(step=step, client_id="evt-1")


def test_hidden_is_the_only_access_invisible_to_external():
    section = SectionFactory(access=Access.HIDDEN)
    assert not section.is_visible_to_external
    assert SectionFactory(access=Access.LOCKED).is_visible_to_external
