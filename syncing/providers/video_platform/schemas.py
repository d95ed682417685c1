"""Shapes of the video-rooms platform's JSON (Livestorm Nexus; facts in specs/README.md). Times
are Unix seconds; ids may be numbers or strings (kept as text)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from syncing.validation import Count, Email, NonBlank, Schema

# Stored as text of at most 64 characters (``VideoRoom.upstream_id``, and inside client ids).
Id = (
    Annotated[int, msgspec.Meta(ge=-(10**18), le=10**18)]
    | Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
)
UnixSeconds = Annotated[int, msgspec.Meta(ge=0, le=253402300799)]  # up to 9999-12-31
Name = Annotated[str, msgspec.Meta(max_length=255)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[-a-zA-Z0-9_]+$")]


class Room(Schema):
    id: Id
    name: Slug
    created_at: UnixSeconds
    user_id: Id | None = None
    last_used_at: UnixSeconds | None = None
    recording_count: Count | None = None
    scheduled_at: UnixSeconds | None = None
    accent_color: str | None = None
    waiting_room_enabled: bool | None = None
    waiting_room_message: str | None = None


class Recording(Schema):
    id: Id
    room_id: Id
    duration: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
    status: NonBlank
    created_at: UnixSeconds
    room_name: Slug | None = None
    title: str | None = None


class BookingPage(Schema):
    id: Id
    title: Name
    slug: Slug
    created_at: UnixSeconds | None = None


class Contact(Schema):
    id: Id
    name: Name | None
    email: Email | None
    event_count: Count
    created_at: UnixSeconds
    updated_at: UnixSeconds
    last_seen_at: UnixSeconds | None = None


class ContactEvent(Schema):
    id: Id
    event_type: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[a-z0-9_.-]+$")]
    created_at: UnixSeconds
    contact_id: Id | None = None
    room_id: Id | None = None
    room_name: Slug | None = None
    room_display_name: Name | None = None
    booking_page_id: Id | None = None
    booking_page_title: Name | None = None
    booking_page_slug: Slug | None = None
    metadata: str | None = None


class WebhookContact(Schema):
    """The contact of a ``room.joined`` / ``room.left`` delivery (``data.contact``)."""

    id: Id
    name: Name | None = None
    email: Email | None = None
    created_at: UnixSeconds | None = None


class Presence(ContactEvent, kw_only=True):
    """A ``room.joined`` / ``room.left`` delivery's data: the contact event the platform
    records for it (its ``id`` is the one the events list gives), with its contact."""

    contact: WebhookContact
