import factory

from insights.models import (
    BookingPage,
    ChatMessage,
    ChatUser,
    ContactEvent,
    Flow,
    FlowTrigger,
    Recording,
)
from tests.factories import WorkspaceFactory
from tests.rooms.factories import ContactFactory


class FlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flow

    workspace = factory.SubFactory(WorkspaceFactory)
    upstream_id = factory.Sequence(lambda n: f"flow-{n}")
    name = factory.Sequence(lambda n: f"Flow {n}")


class ChatUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatUser

    workspace = factory.SubFactory(WorkspaceFactory)
    upstream_id = factory.Sequence(lambda n: f"user-{n}")
    name = factory.Sequence(lambda n: f"Chat user {n}")


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    workspace = factory.LazyAttribute(lambda o: o.user.workspace)
    client_id = factory.Sequence(lambda n: f"msg-{n}")
    user = factory.SubFactory(ChatUserFactory)
    direction = ChatMessage.Direction.RECEIVED
    text = "hi"


class FlowTriggerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlowTrigger

    workspace = factory.LazyAttribute(lambda o: o.user.workspace)
    client_id = factory.Sequence(lambda n: f"trigger-{n}")
    flow = factory.SubFactory(FlowFactory, workspace=factory.SelfAttribute("..workspace"))
    user = factory.SubFactory(ChatUserFactory)


class BookingPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingPage

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Booking page {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")


class ContactEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactEvent

    workspace = factory.LazyAttribute(lambda o: o.contact.workspace)
    client_id = factory.Sequence(lambda n: f"event-{n}")
    event_type = ContactEvent.Type.ROOM_JOIN
    contact = factory.SubFactory(ContactFactory)


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    workspace = factory.LazyAttribute(lambda o: o.room.workspace)
    client_id = factory.Sequence(lambda n: f"recording-{n}")
    duration_seconds = 60


def utc(text: str):
    """'2021-10-01T02:00' -> an aware UTC datetime, so fixtures read like the test's table."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
