import pytest

from tests.insights.factories import (
    BookingPageFactory,
    ChatMessageFactory,
    ChatUserFactory,
    ContactEventFactory,
    FlowFactory,
    FlowTriggerFactory,
    RecordingFactory,
    utc,
)
from tests.rooms.factories import ContactFactory, RoomFactory

pytestmark = pytest.mark.django_db

AT = utc("2026-03-01T10:00")


def activity(workspace, marker: str) -> None:
    """One row of every insights model in ``workspace``, each showing ``marker``."""
    user = ChatUserFactory(workspace=workspace, upstream_id=f"{marker}-user", first_seen_at=AT)
    flow = FlowFactory(workspace=workspace, name=f"{marker}-flow")
    ChatMessageFactory(user=user, flow=flow, text=f"{marker}-text", sent_at=AT)
    FlowTriggerFactory(flow=flow, user=user, at=AT)
    room = RoomFactory(workspace=workspace, title=f"{marker}-room")
    page = BookingPageFactory(workspace=workspace, title=f"{marker}-page")
    contact = ContactFactory(workspace=workspace, email=f"{marker}@x.example")
    ContactEventFactory(contact=contact, room=room, booking_page=page, occurred_at=AT)
    RecordingFactory(room=room, created_at=AT)


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        ("flow", "flow"),
        ("chatuser", "user"),
        ("chatmessage", "text"),
        ("flowtrigger", "flow"),
        ("bookingpage", "page"),
        ("contactevent", "x.example"),
        ("recording", "room"),
    ],
)
def test_staff_see_only_their_workspace_rows(client, cast, model, shown):
    activity(cast.workspace, "alpha")
    activity(cast.other_workspace, "omega")
    staff = cast.member.user
    staff.is_staff = True
    staff.save()
    client.force_login(staff)

    page = client.get(f"/admin/insights/{model}/").content.decode()

    assert f"alpha-{shown}" in page or f"alpha@{shown}" in page
    assert "omega" not in page
