"""Set-based writes of pulled rows: a page of upstream rows against the local rows with the
same natural keys, read in one query, becomes one INSERT of the new rows and one UPDATE of
the changed ones. A row whose content equals the stored one is counted unchanged and not
written.

Why not ``bulk_create(update_conflicts=True)``: PostgreSQL's ON CONFLICT needs a unique index
it can infer from the column list, and our natural keys are partial unique constraints (an
upstream id that is not empty) or expressions (a registrant's lower-cased email), which Django
cannot name as the conflict target. Reading the page's rows first costs the same one query and
is what tells created, updated and unchanged apart. The stream's lock keeps runs from racing
each other; a local insert racing a page's insert fails that run on the unique constraint, and
the next run reads the page again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.db.models.functions import Lower

from events.models import Registrant
from rooms.models import Contact
from syncing.upsert import Staged, upsert
from workspaces.models import Workspace


def differs(instance: models.Model, row: Mapping) -> bool:
    return any(getattr(instance, name) != value for name, value in row.items())


@dataclass
class Upsert:
    """The rows of one page: new instances, changed instances (with the fields that changed),
    and how many were unchanged. ``rows`` maps each key to its instance, new or stored."""

    model: type[models.Model]
    rows: dict[Hashable, models.Model] = field(default_factory=dict)
    created: list[models.Model] = field(default_factory=list)
    changed: list[models.Model] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    unchanged: int = 0

    def write(self) -> None:
        """At most two queries: the INSERT of the new rows (it sets their ids), and the
        changed rows as an upsert on their primary key, which updates them in one statement
        (``bulk_update``'s CASE per row and field grows with the square of the page)."""
        self.model.objects.bulk_create(self.created)
        if self.changed:
            self.model.objects.bulk_create(
                self.changed,
                update_conflicts=True,
                unique_fields=[self.model._meta.pk.name],
                update_fields=sorted(self.changed_fields),
            )

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.changed),
            "unchanged": self.unchanged,
        }


def upsert_plan(
    model: type[models.Model],
    *,
    stored: Mapping[Hashable, models.Model],
    incoming: Mapping[Hashable, dict],
    new: Callable[[Hashable, dict], models.Model] | None = None,
) -> Upsert:
    """Compare ``incoming`` rows (key -> {attribute name: value}) with the ``stored`` instances
    of the same keys. ``new(key, row)`` makes the instance of a key not stored (default:
    ``model(**row)``)."""
    plan = Upsert(model)
    for key, row in incoming.items():
        instance = stored.get(key)
        if instance is None:
            instance = new(key, row) if new else model(**row)
            plan.created.append(instance)
        elif differs(instance, row):
            changed = {name for name, value in row.items() if getattr(instance, name) != value}
            for name in changed:
                setattr(instance, name, row[name])
            plan.changed.append(instance)
            plan.changed_fields |= changed
        else:
            plan.unchanged += 1
        plan.rows[key] = instance
    return plan


def registrant_contacts_link(*, workspace: Workspace, registrants: list[Registrant]) -> None:
    """Point new registrants at the workspace's contacts with their emails, as a registration
    does (``events.services.registrant_contact_link``), for a whole page at once: one upsert
    (``syncing.upsert``) creates the new contacts with their names and names the known ones
    that have none (a known name is never overwritten), so each contact is written once; the
    contacts it left alone are then read, when there are any."""
    if not registrants:
        return
    names = {r.email.lower(): f"{r.first_name} {r.last_name}".strip() for r in registrants}
    named = "rooms_contact.name <> ''"
    written = upsert(
        Contact,
        Staged(
            {"email": Contact._meta.get_field("email"), "name": Contact._meta.get_field("name")},
            sorted(names.items()),
        ),
        values={"email": "s.email", "name": "s.name"},
        constants={"workspace_id": workspace.pk},
        conflict=["lower(email)", "workspace_id"],
        update={"name": f"CASE WHEN {named} THEN rooms_contact.name ELSE EXCLUDED.name END"},
        returning=["lower(email)", "id"],
    )
    to_id = Contact._meta.pk.to_python
    contacts = {email: to_id(pk) for email, pk in written}
    if len(contacts) < len(names):
        contacts |= dict(
            Contact.objects.filter(workspace=workspace)
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=[email for email in names if email not in contacts])
            .values_list("email_lower", "id")
        )
    for registrant in registrants:
        registrant.contact_id = contacts[registrant.email.lower()]
