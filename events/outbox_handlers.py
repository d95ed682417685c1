"""Outbox handlers that create events and registrations on the webinar platform (see
``events.push``).

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

from events.models import Event, Session
from events.push import EVENT_CREATE, REGISTRANT_CREATE, event_create_enqueued
from syncing.adoption import upstream_id_claim
from syncing.errors import PermanentError, RecordError
from syncing.models import OutboxMessage
from syncing.outbox import outbox_handler_register
from syncing.providers.webinar_platform import schemas
from syncing.validation import validate_records

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
    upstream id then refuses the adoption (see ``rooms.outbox_handlers`` for that race)."""
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
