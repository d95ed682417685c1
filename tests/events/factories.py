"""Factories for the webinar models. Children follow their parent's workspace."""

from __future__ import annotations

import datetime as dt

import factory

from events.models import (
    ChatMessage,
    Event,
    Operator,
    Registrant,
    Session,
    SessionOperator,
    Survey,
    SurveyResponse,
)
from tests.factories import WorkspaceFactory


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"operator{n}@host.example")
    first_name = factory.Sequence(lambda n: f"Olive{n}")
    last_name = "Operator"
    permission = 0


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    workspace = factory.SubFactory(WorkspaceFactory)
    creator = factory.SubFactory(OperatorFactory, workspace=factory.SelfAttribute("..workspace"))
    title = factory.Sequence(lambda n: f"Webinar {n}")
    description = "All about pipelines."


class SessionFactory(factory.django.DjangoModelFactory):
    """A published session at 2026-05-05 14:00 UTC, one hour, 15 minutes early access."""

    class Meta:
        model = Session

    class Params:
        workspace = factory.SubFactory(WorkspaceFactory)

    event = factory.SubFactory(EventFactory, workspace=factory.SelfAttribute("..workspace"))
    date = dt.date(2026, 5, 5)
    time = dt.time(14, 0)
    timezone = "UTC"
    published = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        session = model_class(*args, **kwargs)
        session.schedule()
        session.save()
        return session


class SessionOperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionOperator

    session = factory.SubFactory(SessionFactory)
    operator = factory.SubFactory(
        OperatorFactory, workspace=factory.SelfAttribute("..session.event.workspace")
    )
    role = SessionOperator.Role.PRESENTER
    mic_enabled = True
    cam_enabled = True
    screen_sharing_enabled = False


class RegistrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registrant

    session = factory.SubFactory(SessionFactory)
    email = factory.Sequence(lambda n: f"attendee{n}@buyer.example")
    first_name = factory.Sequence(lambda n: f"Ada{n}")
    last_name = "Attendee"


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    session = factory.SubFactory(SessionFactory)
    title = factory.Sequence(lambda n: f"Survey {n}")
    questions = factory.LazyFunction(lambda: ["How was it?"])


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    survey = factory.SubFactory(SurveyFactory)
    registrant = factory.SubFactory(
        RegistrantFactory, session=factory.SelfAttribute("..survey.session")
    )
    answers = factory.LazyFunction(dict)


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    session = factory.SubFactory(SessionFactory)
    kind = ChatMessage.Kind.ATTENDEE
    registrant = factory.SubFactory(RegistrantFactory, session=factory.SelfAttribute("..session"))
    operator = None
    text = "Hello"
