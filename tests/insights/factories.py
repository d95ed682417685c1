import factory

from insights.models import ChatMessage, ChatUser, Flow, FlowTrigger
from tests.factories import WorkspaceFactory


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


def utc(text: str):
    """'2021-10-01T02:00' -> an aware UTC datetime, so fixtures read like the test's table."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
