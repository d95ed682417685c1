import pytest

from tests.insights.factories import (
    ChatMessageFactory,
    ChatUserFactory,
    FlowFactory,
    FlowTriggerFactory,
    utc,
)


@pytest.fixture
def chat(cast):
    """Workspace A's chatbot activity around 1-2 October 2021 (all times UTC):

    user  first seen        messages (r = received, s = sent)       triggers
    u4    09-30 12:00       -                                        -
    u1    10-01 02:00       r 10-01 02:00, s 10-01 02:01, r 10-02 05:00   A 10-01 02:00
    u2    10-01 20:00       r 10-01 20:00                            A 10-01 20:00
    u3    10-02 23:30       r 10-02 23:30, s 10-02 23:31             B 10-02 23:30
    """
    ws = cast.workspace
    users = {
        name: ChatUserFactory(workspace=ws, upstream_id=name, first_seen_at=utc(seen))
        for name, seen in [
            ("u4", "2021-09-30T12:00"),
            ("u1", "2021-10-01T02:00"),
            ("u2", "2021-10-01T20:00"),
            ("u3", "2021-10-02T23:30"),
        ]
    }
    for user, direction, at in [
        ("u1", "received", "2021-10-01T02:00"),
        ("u1", "sent", "2021-10-01T02:01"),
        ("u2", "received", "2021-10-01T20:00"),
        ("u1", "received", "2021-10-02T05:00"),
        ("u3", "received", "2021-10-02T23:30"),
        ("u3", "sent", "2021-10-02T23:31"),
    ]:
        ChatMessageFactory(user=users[user], direction=direction, sent_at=utc(at))
    flow_a = FlowFactory(workspace=ws, upstream_id="flow-a", name="Welcome")
    flow_b = FlowFactory(workspace=ws, upstream_id="flow-b", name="Support")
    for flow, user, at in [
        (flow_a, "u1", "2021-10-01T02:00"),
        (flow_a, "u2", "2021-10-01T20:00"),
        (flow_b, "u3", "2021-10-02T23:30"),
    ]:
        FlowTriggerFactory(flow=flow, user=users[user], at=utc(at))
    return users
