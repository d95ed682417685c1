"""The rooms of a workspace as plain data, computed two ways for the pull tests: ``expected``
from the fake's state (and the workspace's members), ``stored`` from our database. A pulled
workspace is right when the two are equal."""

from __future__ import annotations

from datetime import datetime

from rooms.models import (
    ActionAssignee,
    Contact,
    Engagement,
    Room,
    RoomContact,
    RoomMember,
    Section,
    Viewership,
)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def expected(fake, members: set[str], *, room_ids=None) -> dict:
    """What a pull of ``fake`` must leave: rooms by upstream id, and contacts by email."""
    kind = {True: "user", False: "contact"}
    rooms, contacts = {}, {}

    internal = {
        user["email"].lower()
        for analytics in fake.analytics.values()
        for user in _mentions(analytics)
        if user["belongsTo"] == "internal_organization"
    }

    def person(user: dict) -> tuple[str, str]:
        """A member when upstream puts them on the seller's side and one matches; else a
        contact, internal or not as upstream says."""
        email = user["email"].lower()
        is_member = email in members and email in internal
        if not is_member:
            known = contacts.setdefault(
                email, {"name": "", "job_title": "", "internal": email in internal}
            )
            known["name"] = user.get("name") or known["name"]
            known["job_title"] = user.get("title") or known["job_title"]
        return kind[is_member], email

    for room_id in room_ids or fake.rooms:
        record = fake.rooms[room_id]
        analytics = fake.analytics.get(room_id, {"assignees": [], "sections": []})
        people = {person(user): user for user in analytics["assignees"]}
        owner = next((u["email"] for u in analytics["assignees"] if u.get("isRoomOwner")), None)
        primary = next(
            (u["email"] for u in analytics["assignees"] if u.get("isPrimaryContact")), None
        )
        owner_kind = (
            person({"email": owner, "belongsTo": "internal_organization"})[0] if owner else None
        )
        viewership, engagements, assignees, sections = [], [], [], []

        def activity(target_id: str, entries: list[dict], into: tuple[list, list]) -> None:
            for entry in entries:
                viewer = person(entry["user"])
                into[0].append(
                    (target_id, *viewer, entry["durationInSeconds"], entry["timesViewed"])
                )
                into[1].extend(
                    (target_id, *viewer, e["type"], _time(e["createdAt"]))
                    for e in entry["engagements"]
                )

        for position, section in enumerate(analytics["sections"]):
            steps, actions = [], []
            for index, step in enumerate(section["steps"]):
                steps.append(
                    (step["id"], step["title"], index, _access(step["isVisibleToExternal"]))
                )
                activity(step["id"], step["viewership"], (viewership, engagements))
            for index, action in enumerate(section["actions"]):
                actions.append(
                    (
                        action["id"],
                        action["title"],
                        index,
                        _access(action["isVisibleToExternal"]),
                        action["status"] or "todo",
                        action["description"] or "",
                        action["internal"],
                        _time(action["dueDate"]),
                        action["actionType"] or "",
                    )
                )
                assignees += [(action["id"], *person(a["user"])) for a in action["assignees"]]
                activity(action["id"], action["viewership"], (viewership, engagements))
            sections.append(
                (
                    section["id"],
                    section["title"],
                    position,
                    _access(section["isVisibleToExternal"]),
                    section["isCompleted"],
                    steps,
                    actions,
                )
            )
        rooms[room_id] = {
            "title": record["title"],
            "description": record["description"] or "",
            "is_template": record["isTemplate"],
            "hs_deal_id": record["hsDealId"] or "",
            "sf_opportunity_id": record["sfOpportunityId"] or "",
            "attio_deal_id": record["attioDealId"] or "",
            "cover_title": record["coverTitle"] or "",
            "cover_description": record["coverDescription"] or "",
            "cover_disabled": bool(record["coverDisabled"]),
            "theme_color": record["themeColor"] or "",
            "nav_color": record["navColor"] or "",
            "created_at": _time(record["createdAt"]),
            "updated_at": _time(record["updatedAt"]),
            "archived": False,
            "status": record["statusId"],
            "label": record["labelId"],
            "company": record["companyId"],
            "upstream_views": record["totalViews"],
            "upstream_unique_views": record["totalUniqueViews"],
            "owner": owner if owner_kind == "user" else None,
            "primary_contact": primary,
            "members": sorted(
                (e, bool(u.get("isRoomOwner"))) for (k, e), u in people.items() if k == "user"
            ),
            "contacts": sorted(
                (
                    e,
                    bool(u.get("isPrimaryContact")),
                    bool(u.get("isRoomOwner")),
                    _time(u.get("lastSeen")),
                    u.get("viewCount") or 0,
                )
                for (k, e), u in people.items()
                if k == "contact"
            ),
            "sections": sections,
            "viewership": sorted(viewership),
            "engagements": sorted(engagements),
            "assignees": sorted(set(assignees)),
        }
    return {"rooms": rooms, "contacts": contacts}


def _mentions(analytics: dict):
    """Every person an analytics answer names: its assignees, viewers and action assignees."""
    yield from analytics["assignees"]
    for section in analytics["sections"]:
        for part in section["steps"] + section["actions"]:
            yield from (entry["user"] for entry in part["viewership"])
            yield from (assignee["user"] for assignee in part.get("assignees", []))


def _access(visible: bool) -> str:
    return "visible" if visible else "hidden"


def _viewer(row) -> tuple[str, str]:
    """Emails compared lower-cased: contacts are one per email in any case."""
    return ("user", row.user.email) if row.user_id else ("contact", row.contact.email.lower())


def _target(row) -> str:
    return (row.step or row.action).upstream_id


def stored(workspace) -> dict:
    """The workspace's rooms that came from upstream, in ``expected``'s shape."""
    rooms = {}
    for room in (
        Room.objects.filter(workspace=workspace)
        .exclude(upstream_id="")
        .select_related("status", "label", "company", "owner", "primary_contact")
    ):
        sections = []
        for section in Section.objects.filter(room=room).order_by("position"):
            steps = [
                (s.upstream_id, s.title, s.position, s.access)
                for s in section.steps.order_by("position")
            ]
            actions = [
                (
                    a.upstream_id,
                    a.title,
                    a.position,
                    a.access,
                    a.status,
                    a.description,
                    a.internal,
                    a.due_date,
                    a.action_type,
                )
                for a in section.actions.order_by("position")
            ]
            sections.append(
                (
                    section.upstream_id,
                    section.title,
                    section.position,
                    section.access,
                    section.is_completed,
                    steps,
                    actions,
                )
            )
        related = ("user", "contact", "step", "action")
        rooms[room.upstream_id] = {
            "title": room.title,
            "description": room.description,
            "is_template": room.is_template,
            "hs_deal_id": room.hs_deal_id,
            "sf_opportunity_id": room.sf_opportunity_id,
            "attio_deal_id": room.attio_deal_id,
            "cover_title": room.cover_title,
            "cover_description": room.cover_description,
            "cover_disabled": room.cover_disabled,
            "theme_color": room.theme_color,
            "nav_color": room.nav_color,
            "created_at": room.created_at,
            "updated_at": room.updated_at,
            "archived": room.archived,
            "upstream_views": room.upstream_views,
            "upstream_unique_views": room.upstream_unique_views,
            "status": room.status.upstream_id if room.status else None,
            "label": room.label.upstream_id if room.label else None,
            "company": room.company.upstream_id if room.company else None,
            "owner": room.owner.email if room.owner else None,
            "primary_contact": room.primary_contact.email.lower() if room.primary_contact else None,
            "members": sorted(
                (m.user.email, m.is_room_owner)
                for m in RoomMember.objects.filter(room=room).select_related("user")
            ),
            "contacts": sorted(
                (
                    c.contact.email.lower(),
                    c.is_primary_contact,
                    c.is_room_owner,
                    c.upstream_last_seen,
                    c.upstream_view_count,
                )
                for c in RoomContact.objects.filter(room=room).select_related("contact")
            ),
            "sections": sections,
            "viewership": sorted(
                (_target(v), *_viewer(v), v.duration_in_seconds, v.times_viewed)
                for v in Viewership.objects.filter(room=room).select_related(*related)
            ),
            "engagements": sorted(
                (_target(e), *_viewer(e), e.type, e.created_at)
                for e in Engagement.objects.filter(room=room).select_related(*related)
            ),
            "assignees": sorted(
                (a.action.upstream_id, *_viewer(a))
                for a in ActionAssignee.objects.filter(action__section__room=room).select_related(
                    "user", "contact", "action"
                )
            ),
        }
    contacts = {
        c.email.lower(): {"name": c.name, "job_title": c.job_title, "internal": c.internal}
        for c in Contact.objects.filter(workspace=workspace)
    }
    return {"rooms": rooms, "contacts": contacts}
