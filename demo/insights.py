"""Demo chatbot conversations and workspace activity (contact events, bookings, recordings),
sent through the insights ingestion services as a client's batches would be, so the insights
and workspace analytics (and any rollup those services keep) are filled the ordinary way."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from demo.cast import DAYS, FIRST_NAMES, LAST_NAMES
from demo.rooms import DemoRoom
from insights.services import chat_events_ingest, workspace_activity_ingest
from rooms.models import Contact
from workspaces.models import Workspace

# (flow id, name, what people ask in it, most asked first)
FLOWS = [
    (
        "flow-welcome",
        "Website welcome",
        ["Hi", "What does Brightwave do?", "Can I talk to someone?", "Do you have a free trial?"],
    ),
    (
        "flow-demo",
        "Book a demo",
        ["I'd like a demo", "Next Tuesday works", "Can my colleague join?", "Is it online?"],
    ),
    (
        "flow-pricing",
        "Pricing questions",
        [
            "How much does it cost?",
            "Is there a discount for annual billing?",
            "Do you charge per seat?",
            "Is there a nonprofit plan?",
        ],
    ),
    (
        "flow-support",
        "Support handoff",
        ["I can't log in", "How do I connect HubSpot?", "Where is my invoice?", "The sync is slow"],
    ),
]
BOT_REPLIES = ("Happy to help!", "Here is what I found:", "Let me connect you with the team.")
BOOKING_PAGES = [
    ("intro-call", "Intro call (15 min)"),
    ("product-demo", "Product demo (30 min)"),
    ("onboarding-workshop", "Onboarding workshop (60 min)"),
]


def _day_start(now: datetime, days_ago: int) -> datetime:
    return (now - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def _conversation(rng: random.Random, user: dict, at: datetime, number: int) -> list[dict]:
    flow_id, flow_name, questions = rng.choices(FLOWS, (5, 3, 3, 2))[0]
    flow = {"id": flow_id, "name": flow_name}
    items = [{"id": f"demo-trg-{number}", "kind": "trigger", "flow": flow, "user": user, "at": at}]
    for turn in range(rng.randrange(1, 4)):
        at += timedelta(seconds=rng.randrange(5, 120))
        question = rng.choices(questions, (8, 4, 2, 1))[0]
        for direction, text in (("received", question), ("sent", rng.choice(BOT_REPLIES))):
            items.append(
                {
                    "id": f"demo-msg-{number}-{turn}-{direction}",
                    "kind": "message",
                    "direction": direction,
                    "text": text,
                    "at": at,
                    "user": user,
                    "flow": flow,
                }
            )
            at += timedelta(seconds=rng.randrange(1, 4))
    return items


def chatbot_create(*, workspace: Workspace, now: datetime, rng: random.Random) -> int:
    """90 days of conversations: new visitors grow from ~4 to ~9 a weekday, and some return."""
    items, users = [], []
    for days_ago in range(DAYS, -1, -1):
        day = _day_start(now, days_ago)
        growth = 4 + 5 * (DAYS - days_ago) / DAYS
        newcomers = int(growth * (0.3 if day.weekday() >= 5 else 1.0) + rng.random() * 3)
        for _ in range(newcomers):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            users.append({"id": f"demo-visitor-{len(users) + 1}", "name": name})
        talkers = users[-newcomers:] if newcomers else []
        talkers += rng.sample(users, min(len(users), 2))
        for user in talkers:
            at = day + timedelta(hours=rng.triangular(6, 22, 13))
            if at <= now:
                items += _conversation(rng, user, at, len(items))
    return chat_events_ingest(workspace=workspace, items=items).accepted


def workspace_activity_create(
    *, workspace: Workspace, demo_rooms: list[DemoRoom], now: datetime, rng: random.Random
) -> int:
    """Buyers joining their rooms, bookings through three booking pages, meeting recordings."""
    items = []
    for demo in demo_rooms:
        for buyer in demo.buyers:
            joined = demo.room.created_at + timedelta(hours=rng.uniform(1, 24 * 6))
            if joined < now:
                items.append(_contact_event("room_join", buyer.email, buyer.name, joined, demo))
    contacts = list(Contact.objects.for_workspace(workspace).order_by("email"))
    for days_ago in range(DAYS, -1, -1):
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            contact = rng.choice(contacts)
            at = _day_start(now, days_ago) + timedelta(hours=rng.uniform(8, 18))
            slug, title = rng.choices(BOOKING_PAGES, (5, 4, 1))[0]
            event = _contact_event("booking", contact.email, contact.name, min(at, now))
            event["booking_page"] = {"slug": slug, "title": title}
            items.append(event)
    for n, demo in enumerate(rng.sample(demo_rooms, 30)):
        for m in range(rng.randrange(1, 4)):
            at = demo.room.created_at + timedelta(days=rng.uniform(1, 20))
            if at < now:
                items.append(
                    {
                        "id": f"demo-rec-{n}-{m}",
                        "kind": "recording",
                        "room_id": demo.room.pk,
                        "duration_seconds": rng.randrange(12, 62) * 60,
                        "status": rng.choices(("available", "uploaded", "failed"), (18, 1, 1))[0],
                        "at": at,
                    }
                )
    for index, item in enumerate(items):
        item["id"] = item.get("id") or f"demo-ce-{index}"
    return workspace_activity_ingest(workspace=workspace, items=items).accepted


def _contact_event(
    kind: str, email: str, name: str, at: datetime, demo: DemoRoom | None = None
) -> dict:
    return {
        "kind": "contact_event",
        "type": kind,
        "contact": {"email": email.lower(), "name": name},
        "room_id": demo.room.pk if demo else None,
        "metadata": {},
        "at": at,
    }
