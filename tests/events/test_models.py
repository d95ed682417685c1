"""Model rules that hold whatever writes the rows (API, admin, sync)."""

import pytest
from django.db import IntegrityError
from django.db.models import RestrictedError

from events.models import Event, Operator, Registrant, Session
from tests.events.factories import ChatMessageFactory, RegistrantFactory, SessionOperatorFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_workspace_deletes_its_webinars(cast, session_a):
    SessionOperatorFactory(session=session_a)
    ChatMessageFactory(session=session_a)
    cast.workspace.delete()
    assert not Event.objects.exists()
    assert not Session.objects.exists()
    assert not Operator.objects.exists()
    assert not Registrant.objects.exists()


def test_an_operator_who_created_events_cannot_be_deleted_alone(session_a):
    with pytest.raises(RestrictedError):
        session_a.event.creator.delete()


def test_registrant_email_is_unique_per_session_in_any_case(session_a):
    RegistrantFactory(session=session_a, email="ada@x.example")
    with pytest.raises(IntegrityError):
        RegistrantFactory(session=session_a, email="ADA@x.example")


def test_chat_message_sender_must_match_its_kind(session_a):
    with pytest.raises(IntegrityError):
        ChatMessageFactory(session=session_a, kind="operator")  # a registrant, no operator
