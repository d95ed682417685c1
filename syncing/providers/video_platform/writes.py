"""The video-rooms pull's own writes (what the ingestion services do not do): video rooms
and their stand-in ``rooms.Room`` rows, contacts with no event yet, and recordings whose
status or duration changed upstream. Each is a fixed number of queries per page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower

from insights.models import ContactEvent, Recording
from rooms.models import Contact, Room
from syncing.models import Connection, VideoRoom
from syncing.upsert import Staged, upsert


def _free_slugs(workspace_id: int, names: list[str]) -> dict[str, str]:
    """A slug per room name: the name itself unless another room of the workspace has it,
    else the first free of ``<name>-video``, ``<name>-video-2``, … (one query)."""
    candidates = {
        name: [name, f"{name}-video"] + [f"{name}-video-{n}" for n in range(2, 10)]
        for name in names
    }
    taken = set(
        Room.objects.filter(
            workspace_id=workspace_id, slug__in=[c for cs in candidates.values() for c in cs]
        ).values_list("slug", flat=True)
    )
    slugs = {}
    for name, options in candidates.items():
        free = [slug for slug in options if slug not in taken]
        slugs[name] = free[0] if free else f"{name}-video-{uuid.uuid4().hex[:8]}"
        taken.add(slugs[name])
    return slugs


@transaction.atomic  # the locks are held until the rooms are written
def video_rooms_write(
    *, connection: Connection, rooms: list[dict]
) -> tuple[dict[str, tuple[uuid.UUID, str]], dict[str, int]]:
    """Create or update the rooms of a list or of events. A room is ``{id, name, created_at,
    display_name?, properties?}``; ``display_name`` (events carry it, the room list does not)
    becomes the room's title, else a new room is titled by its name. Returns the local room
    id and title by upstream id (as ``video_rooms_known``) and the counts created, updated and
    unchanged."""
    by_id = {room["id"]: room for room in rooms}
    # One writer of a connection's rooms at a time (a pull, webhook deliveries): each reads
    # which rooms are new only once the one before has committed its new rooms.
    Connection.objects.select_for_update().filter(pk=connection.pk).values_list("pk").first()
    links = {
        link.upstream_id: link
        for link in VideoRoom.objects.filter(connection=connection, upstream_id__in=by_id)
        .select_related("room")
        .select_for_update(of=("self",))
    }
    new = [room for upstream_id, room in by_id.items() if upstream_id not in links]
    slugs = _free_slugs(connection.workspace_id, [room["name"] for room in new])
    changed_rooms, changed_links = [], []
    for upstream_id, link in links.items():
        room, record = link.room, by_id[upstream_id]
        title = record.get("display_name") or room.title
        properties = record.get("properties", link.properties)
        if title != room.title:
            room.title = title
            changed_rooms.append(room)
        if properties != link.properties:
            link.properties = properties
            changed_links.append(link)
    created = Room.objects.bulk_create(
        [
            Room(
                workspace_id=connection.workspace_id,
                title=room.get("display_name") or room["name"],
                slug=slugs[room["name"]],
                created_at=room["created_at"],
            )
            for room in new
        ]
    )
    VideoRoom.objects.bulk_create(
        [
            VideoRoom(
                workspace_id=connection.workspace_id,
                connection=connection,
                upstream_id=record["id"],
                room=room,
                properties=record.get("properties", {}),
            )
            for record, room in zip(new, created, strict=True)
        ]
    )
    Room.objects.bulk_update(changed_rooms, ["title", "updated_at"])
    VideoRoom.objects.bulk_update(changed_links, ["properties"])
    rooms_by_id = {upstream_id: link.room for upstream_id, link in links.items()}
    rooms_by_id.update({record["id"]: room for record, room in zip(new, created, strict=True)})
    known = {upstream_id: (room.pk, room.title) for upstream_id, room in rooms_by_id.items()}
    updated = len(
        {link.upstream_id for link in changed_links}
        | {link.upstream_id for link in links.values() if link.room in changed_rooms}
    )
    return known, {"created": len(new), "updated": updated, "unchanged": len(links) - updated}


def video_rooms_known(
    *, connection: Connection, upstream_ids: set[str]
) -> dict[str, tuple[uuid.UUID, str]]:
    """The local id and title of the connection's rooms, by upstream id."""
    rows = VideoRoom.objects.filter(connection=connection, upstream_id__in=upstream_ids)
    return {
        upstream_id: (room_id, title)
        for upstream_id, room_id, title in rows.values_list("upstream_id", "room_id", "room__title")
    }


def contacts_write(*, workspace_id: int, contacts: list[dict]) -> dict[str, tuple]:
    """Contacts ``{email, name, created_at}`` (emails lower-cased): created when new, named
    when upstream names them, and dated back when upstream saw them first. Returns per email
    the contact's id and whether it was ``created``, ``updated`` or ``unchanged``.

    Two statements a page: the known contacts' ids, then one upsert (``syncing.upsert``, rows
    in email order) that writes only the contacts that change. A contact created meanwhile by
    another writer and left alone by the upsert is read back (a third statement, rarely)."""
    emails = {contact["email"]: contact for contact in contacts}
    known = _contact_ids(workspace_id, list(emails))
    written = upsert(
        Contact,
        Staged(
            {
                "email": Contact._meta.get_field("email"),
                "name": Contact._meta.get_field("name"),
                "created_at": Contact._meta.get_field("created_at"),
            },
            [(email, c["name"] or "", c["created_at"]) for email, c in sorted(emails.items())],
        ),
        values={"email": "s.email", "name": "s.name", "created_at": "s.created_at"},
        constants={"workspace_id": workspace_id},
        conflict=["lower(email)", "workspace_id"],
        update={
            "name": "CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE rooms_contact.name END",
            "created_at": "CASE WHEN EXCLUDED.created_at < rooms_contact.created_at"
            " THEN EXCLUDED.created_at ELSE rooms_contact.created_at END",
        },
        returning=["lower(email)", "id"],
    )
    to_id = Contact._meta.pk.to_python
    changed = {email: to_id(pk) for email, pk in written}
    ids = known | changed
    if len(ids) < len(emails):
        ids |= _contact_ids(workspace_id, [email for email in emails if email not in ids])
    return {
        email: (
            ids[email],
            "created" if email not in known else "updated" if email in changed else "unchanged",
        )
        for email in emails
    }


def _contact_ids(workspace_id: int, emails: list[str]) -> dict[str, uuid.UUID]:
    """The ids of the workspace's contacts with these (lower-cased) emails."""
    return dict(
        Contact.objects.filter(workspace_id=workspace_id)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=emails)
        .values_list("email_key", "id")
    )


def pulled_event_counts(*, contact_ids: list, prefix: str) -> dict:
    """How many pulled events (client id starting with ``prefix``) each contact has."""
    rows = (
        ContactEvent.objects.filter(contact_id__in=contact_ids, client_id__startswith=prefix)
        .values("contact_id")
        .annotate(n=Count("id"))
    )
    return {row["contact_id"]: row["n"] for row in rows}


def pulled_events_prune(*, contact_ids: list, prefix: str, keep: set[str]) -> int:
    """Delete the contacts' pulled events that upstream no longer lists."""
    if not contact_ids:
        return 0
    deleted, _ = (
        ContactEvent.objects.filter(contact_id__in=contact_ids, client_id__startswith=prefix)
        .exclude(client_id__in=keep)
        .delete()
    )
    return deleted


# The recording lifecycle upstream: started -> uploaded -> available | failed.
RECORDING_STAGE = {"started": 0, "uploaded": 1, "available": 2, "failed": 2}


def recordings_update(
    *, workspace_id: int, recordings: dict[str, dict], forward_only: bool = False
) -> set[str]:
    """Bring stored recordings (by client id) to the given ``{duration_seconds, status,
    room_id}``; ``forward_only`` leaves a recording alone when the given status is earlier
    in the lifecycle than its stored one. Returns the client ids that changed."""
    changed = []
    for row in Recording.objects.filter(workspace_id=workspace_id, client_id__in=recordings):
        wanted = recordings[row.client_id]
        if forward_only and RECORDING_STAGE.get(wanted["status"], 0) < RECORDING_STAGE.get(
            row.status, 0
        ):
            continue
        current = (row.duration_seconds, row.status, row.room_id)
        if current != (wanted["duration_seconds"], wanted["status"], wanted["room_id"]):
            row.duration_seconds, row.status = wanted["duration_seconds"], wanted["status"]
            row.room_id = wanted["room_id"]
            changed.append(row)
    Recording.objects.bulk_update(changed, ["duration_seconds", "status", "room"])
    return {row.client_id for row in changed}


def unix(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)
