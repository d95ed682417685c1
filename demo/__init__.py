"""The demo workspace a fresh install starts with (``manage.py bootstrap_demo``): a sales team,
40 rooms with 90 days of activity, webinars, chatbot conversations, workspace activity and CRM
deals, all written through the apps' services or set-based inserts in a few seconds, and seeded
so that every run produces the same rows with the same ids (docs/demo.md lists them)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from demo.cast import SEED, SELLER, TEAM, TEAM_IDS_FROM, fixed_ids, sequences_reset
from demo.crm import crm_deals_create
from demo.insights import chatbot_create, workspace_activity_create
from demo.rooms import rooms_activity_create, rooms_create
from demo.webinars import webinars_create
from events.models import Event
from rooms.models import Room
from workspaces.models import Membership, User, Workspace
from workspaces.services import membership_set


@dataclass(frozen=True)
class DemoSummary:
    rooms: int
    activity_events: int
    registrants: int
    chat_items: int
    workspace_items: int
    deals: int


def demo_is_populated(workspace: Workspace) -> bool:
    """Any room or webinar means the workspace is in use: the demo never writes into it."""
    return (
        Room.objects.for_workspace(workspace).exists()
        or Event.objects.for_workspace(workspace).exists()
    )


def _team(workspace: Workspace) -> list[User]:
    """The seller's team, members of the workspace without a password (they never sign in)."""
    users = []
    for pk, person in zip(fixed_ids(User, TEAM_IDS_FROM, len(TEAM)), TEAM, strict=True):
        user = User.objects.filter(email=person.email).first() or User.objects.create_user(
            person.email, None, id=pk, full_name=person.name, job_title=person.job_title
        )
        membership_set(workspace=workspace, user=user, role=Membership.Role.MEMBER)
        users.append(user)
    sequences_reset(User)
    return users


@transaction.atomic
def demo_populate(*, workspace: Workspace) -> DemoSummary | None:
    """Fill ``workspace`` with the demo data, once; None when it already holds rooms or events.
    Times are relative to now (the last 90 days and the coming weeks); everything else,
    ids included, is the same on every install."""
    if demo_is_populated(workspace):
        return None
    now = timezone.now().replace(microsecond=0)
    rng = random.Random(SEED)
    if not workspace.internal_company_name:
        workspace.internal_company_name = SELLER
        workspace.save(update_fields=["internal_company_name"])
    team = _team(workspace)
    demo_rooms = rooms_create(workspace=workspace, team=team, now=now, rng=rng)
    return DemoSummary(
        rooms=len(demo_rooms),
        activity_events=rooms_activity_create(demo_rooms=demo_rooms, now=now, rng=rng),
        registrants=webinars_create(
            workspace=workspace, team=team, demo_rooms=demo_rooms, now=now, rng=rng
        ),
        chat_items=chatbot_create(workspace=workspace, now=now, rng=rng),
        workspace_items=workspace_activity_create(
            workspace=workspace, demo_rooms=demo_rooms, now=now, rng=rng
        ),
        deals=crm_deals_create(workspace=workspace, demo_rooms=demo_rooms, now=now, rng=rng),
    )
