"""Events and registrations pushed to the webinar platform (FLOW API v1) through the outbox.

The services call these in the transaction of the change. An event created locally is
created upstream with its session; a registration is sent to the session's upstream token.
A registration of a session not upstream yet waits behind its event's create (it is queued
under the event, whose messages are delivered in order); once the session has its token,
registrations are queued on their own and go out in parallel. A registration of a session
that is neither upstream nor on its way there (created before the connection) is not pushed.
The handlers are in ``events.outbox_handlers``.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from events.models import Event, Registrant, Session
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_enqueue
from syncing.selectors import connection_for_push

EVENT_CREATE = "events.event_create"
REGISTRANT_CREATE = "events.registrant_create"


def _connection(workspace_id: int) -> Connection | None:
    return connection_for_push(
        workspace=workspace_id, provider=Connection.Provider.WEBINAR_PLATFORM
    )


def _upstream_operator_id(upstream_id: str) -> int | str:
    # The platform's operator ids are numbers; the pull stores them as text.
    return int(upstream_id) if upstream_id.isdigit() else upstream_id


def event_upstream_body(session: Session) -> dict:
    """POST /api/v1/events for the event of ``session``. The creator and operators are sent
    by their upstream ids: operators known only locally are left out (so is ``creatorID``
    when the creator is one; the platform then names the API key's account)."""
    event = session.event
    body = {
        "title": event.title,
        "description": event.description,
        "date": session.date.isoformat(),
        "time": session.time.strftime("%H:%M:%S"),
        "timezone": session.timezone,
        "published": session.published,
        "duration": float(session.duration),
        "earlyAccessPeriod": session.early_access_period,
        "videoRecord": session.video_record,
        "onDemandReplays": session.on_demand_replays,
        "operators": [
            {
                "id": _upstream_operator_id(assignment.operator.upstream_id),
                "role": assignment.role,
                "micEnabled": assignment.mic_enabled,
                "camEnabled": assignment.cam_enabled,
                "screenSharingEnabled": assignment.screen_sharing_enabled,
            }
            for assignment in session.session_operators.select_related("operator")
            if assignment.operator.upstream_id
        ],
    }
    if event.creator.upstream_id:
        body["creatorID"] = _upstream_operator_id(event.creator.upstream_id)
    return body


def event_push_create(*, session: Session) -> OutboxMessage | None:
    """Enqueue the upstream creation of an event just created locally with ``session``."""
    connection = _connection(session.event.workspace_id)
    if connection is None:
        return None
    return outbox_enqueue(
        connection=connection,
        kind=EVENT_CREATE,
        payload=event_upstream_body(session),
        target=session.event,
    )


def event_create_enqueued(event_id) -> bool:
    """Whether the event was created locally and pushed (its create message, in any state)."""
    return OutboxMessage.objects.filter(
        content_type=ContentType.objects.get_for_model(Event),
        object_id=str(event_id),
        kind=EVENT_CREATE,
    ).exists()


def _created_with_event(session: Session) -> bool:
    """Whether the session is on its way upstream: its event's create is enqueued and it is
    the session created with the event (sessions added later, in the admin, are not pushed)."""
    first = session.event.sessions.order_by("pk").values_list("pk", flat=True).first()
    return first == session.pk and event_create_enqueued(session.event_id)


def registrant_push_create(*, registrant: Registrant) -> OutboxMessage | None:
    """Enqueue the upstream registration of a registrant just created locally."""
    session = registrant.session
    connection = _connection(session.event.workspace_id)
    if connection is None:
        return None
    if session.upstream_id:
        target = registrant
    elif _created_with_event(session):
        target = session.event
    else:
        return None
    payload = {
        "session": session.pk,
        "body": {
            "email": registrant.email,
            "firstName": registrant.first_name,
            "lastName": registrant.last_name,
        },
    }
    return outbox_enqueue(
        connection=connection, kind=REGISTRANT_CREATE, payload=payload, target=target
    )
