"""Events and registrations pushed to the webinar platform (FLOW API v1) through the outbox,
and the outbox handlers that deliver them.

The services call these in the transaction of the change. An event created locally is
created upstream with its session; a registration is sent to the session's upstream token.
A registration of a session not upstream yet waits behind its event's create (it is queued
under the event, whose messages are delivered in order); once the session has its token,
registrations are queued on their own and go out in parallel. A registration of a session
that is neither upstream nor on its way there (created before the connection) is not pushed.

An event create's upstream id is ``<eventToken>/<sessionToken>`` (both are URL-safe tokens,
so neither holds a slash): the event keeps the first, its session the second.

Finding an event create that may have reached the platform: the platform has no field for an
external reference, so a retried create looks among the platform's sessions for one with the
title, description, date, time and timezone it sent, created (``createDate``) no earlier than
the message less a clock skew, and not claimed by another create message of the connection.

Registrations need no look-up: the platform answers 200 with the existing registrant when the
email is already registered for the session, so re-sending one never registers twice.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from events.models import Event, Registrant, Session
from syncing.adoption import upstream_id_claim
from syncing.errors import PermanentError, RecordError
from syncing.models import Connection, OutboxMessage
from syncing.outbox import outbox_enqueue, outbox_handler_register
from syncing.providers.webinar_platform import schemas
from syncing.selectors import connection_for_push
from syncing.validation import validate_records

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


# Upstream clocks and ours differ a little; sessions created earlier than this are not ours.
CLOCK_SKEW = timedelta(minutes=5)
MATCHED_FIELDS = ("title", "description", "timezone")


def _upstream_id(session: dict) -> str:
    return f"{session['eventToken']}/{session['token']}"


def _matches(message: OutboxMessage, session: dict) -> bool:
    body = message.payload
    created = session.get("createDate")
    return (
        all((session.get(name) or "") == (body[name] or "") for name in MATCHED_FIELDS)
        and session["date"].isoformat() == body["date"]
        and session["time"].strftime("%H:%M:%S") == body["time"]
        and (created is None or created >= message.created_at - CLOCK_SKEW)
    )


def _release_pulled_twin(event_id, workspace_id: int, event_token: str) -> None:
    """A pull that ran between the upstream create and now stored the new upstream event as
    a second local event (a twin). The event created locally takes the tokens: the twin is
    deleted (the next pull brings its upstream content to the adopting event), or, when
    something was pushed from it (outbox messages about it or its registrants), kept without
    its upstream tokens. An event with a create message of its own is no twin: the unique
    upstream id then refuses the adoption (see ``syncing.providers.rooms_platform.push`` for
    that race)."""
    twin = (
        Event.objects.filter(workspace_id=workspace_id, upstream_id=event_token)
        .exclude(pk=event_id)
        .first()
    )
    if twin is None or event_create_enqueued(twin.pk):
        return
    sessions = list(twin.sessions.values_list("pk", flat=True))
    pushed_from = Q(
        content_type=ContentType.objects.get_for_model(Event), object_id=str(twin.pk)
    ) | Q(kind=REGISTRANT_CREATE, payload__session__in=sessions)
    if OutboxMessage.objects.filter(pushed_from).exists():
        Session.objects.filter(event=twin).update(upstream_id="")
        Event.objects.filter(pk=twin.pk).update(upstream_id="")
    else:
        twin.delete()


class EventCreate:
    kind = EVENT_CREATE

    def deliver(self, message: OutboxMessage, client) -> str:
        return _upstream_id(client.event_create(message.payload))

    def find_existing(self, message: OutboxMessage, client) -> str | None:
        sessions = [
            session
            for session in validate_records(schemas.Session, client.sessions(), id_field="token")
            if not isinstance(session, RecordError) and _matches(message, session)
        ]
        candidates = [_upstream_id(session) for session in sessions]
        claimed = set(
            OutboxMessage.objects.filter(
                connection_id=message.connection_id, kind=EVENT_CREATE, upstream_id__in=candidates
            )
            .exclude(pk=message.pk)
            .values_list("upstream_id", flat=True)
        )
        return next((found for found in candidates if found not in claimed), None)

    def on_delivered(self, message: OutboxMessage) -> None:
        event_token, session_token = message.upstream_id.split("/", 1)
        event_id = message.object_id
        upstream_id_claim(
            target=Event.objects.filter(pk=event_id),
            upstream_id=event_token,
            release_twin=lambda: _release_pulled_twin(event_id, message.workspace_id, event_token),
        )
        # An event is created with one session (events.services.event_create).
        first = Session.objects.filter(event_id=event_id).order_by("pk")[:1]
        Session.objects.filter(pk__in=first).update(upstream_id=session_token)


class RegistrantCreate:
    kind = REGISTRANT_CREATE

    def deliver(self, message: OutboxMessage, client) -> str:
        session_token = (
            Session.objects.filter(pk=message.payload["session"])
            .values_list("upstream_id", flat=True)
            .first()
        )
        if session_token is None:
            raise PermanentError("The session no longer exists locally; nothing to register.")
        if not session_token:
            raise PermanentError(
                "The session is not on the webinar platform yet: retry its event's create first."
            )
        body = {**message.payload["body"], "eventSessionToken": session_token}
        return client.registrant_create(body)["email"]

    def find_existing(self, message: OutboxMessage, client) -> None:
        return None  # the platform registers an email once per session (see above)

    def on_delivered(self, message: OutboxMessage) -> None:
        pass  # registrants are known upstream by email and session; nothing to store


outbox_handler_register(EventCreate())
outbox_handler_register(RegistrantCreate())
