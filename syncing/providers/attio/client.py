"""Client of Attio's REST API v2 (``Authorization: Bearer <key>``), deals object only.

Deals are read with ``POST /v2/objects/deals/records/query`` paged by ``limit``/``offset``
(answers ``{"data": [record, ...]}``; a short page is the last) and one by one with
``GET /v2/objects/deals/records/{record_id}``. A record's values are lists of typed value
objects; ``deal_from_record`` flattens them into a ``Deal``, looking the owner's email up with
``GET /v2/workspace_members/{id}`` and the first associated person's with
``GET /v2/objects/people/records/{id}``, each id at most once per client (a client lives for
one run). Write-back is ``PATCH /v2/objects/deals/records/{record_id}`` with
``{"data": {"values": {...}}}``: Attio has no batch update, so one call per deal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import quote

from syncing.crm.types import WRITE_BACK_FIELDS, WRITE_BACK_KINDS, Deal, DealUpdate, Stage
from syncing.errors import (
    NotFoundError,
    PermanentError,
    RecordError,
    ValidationError,
)
from syncing.http import UpstreamClient
from syncing.providers.attio import schemas
from syncing.validation import validate_record

API = "/v2"
DEALS = f"{API}/objects/deals"
# Attio's default (and our) page size for record queries.
PAGE_LIMIT = 500
# A write-back field's kind -> the Attio attribute type created for it.
ATTRIBUTE_TYPES = {"text": "text", "number": "number", "datetime": "timestamp"}
CENT = Decimal("0.01")


def _data(body: Any, what: str) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise PermanentError(f"{what}: expected an object with data")
    return body["data"]


def _list(body: Any, what: str) -> list:
    data = _data(body, what)
    if not isinstance(data, list):
        raise PermanentError(f"{what}: expected a data list")
    return data


def _id_part(raw: Any, name: str) -> str | None:
    """``raw["id"][name]`` (records are named by an object of ids), if it is there."""
    ids = raw.get("id") if isinstance(raw, dict) else None
    value = ids.get(name) if isinstance(ids, dict) else None
    return value if isinstance(value, str) else None


def record_id_of(raw: Any) -> str | None:
    return _id_part(raw, "record_id")


class AttioClient(UpstreamClient):
    auth_header = "Authorization"
    # No batch update endpoint: each deal is its own PATCH (the request budget paces them).
    WRITE_BATCH = 1
    # Slugs of custom deal attributes the workspace creates for flowsync (see the README).
    WRITE_BACK_PROPERTIES = {field: f"flowsync_{field}" for field in WRITE_BACK_FIELDS}

    def __init__(self, *, base_url: str, secret: str, **kwargs):
        super().__init__(base_url=base_url, secret=f"Bearer {secret}", **kwargs)
        self._member_emails: dict[str, str] = {}
        self._person_emails: dict[str, str] = {}

    def ping(self) -> str:
        """One cheap call that needs valid credentials (and the deals object enabled)."""
        body = _data(self.get_json(DEALS), f"GET {DEALS}")
        return f"deals object {_id_part(body, 'object_id')} readable"

    def stages(self) -> list[Stage]:
        """The deals object's stage statuses; deals carry the title (see deal_from_record)."""
        statuses = _list(self.get_json(f"{DEALS}/attributes/stage/statuses"), "GET statuses")
        titles = [
            status.get("title")
            for status in statuses
            if isinstance(status, dict) and not status.get("is_archived")
        ]
        return [
            Stage(pipeline_id="deals", pipeline_label="Deals", id=title, label=title)
            for title in titles
            if isinstance(title, str) and title
        ]

    def deal_field_names(self) -> set[str]:
        attributes = _list(self.get_json(f"{DEALS}/attributes"), "GET attributes")
        return {str(a.get("api_slug")) for a in attributes if isinstance(a, dict)}

    def deal_fields_create(self, fields: dict[str, str]) -> None:
        """One attribute per field on the deals object (Attio has no batch create)."""
        for field, slug in fields.items():
            body = {
                "title": f"flowsync {field.replace('_', ' ')}",
                "description": "Written by flowsync from the linked room.",
                "api_slug": slug,
                "type": ATTRIBUTE_TYPES[WRITE_BACK_KINDS[field]],
                "is_required": False,
                "is_unique": False,
                "is_multiselect": False,
                "config": {},
            }
            self.send_json("POST", f"{DEALS}/attributes", {"data": body})

    # --- reads ------------------------------------------------------------------------------

    def deal_record_pages(self, *, limit: int = PAGE_LIMIT) -> Iterator[list]:
        """Raw deal records page by page, oldest first, until a short page; normalise each
        with ``deal_from_record``. The query is a POST, so the shared layer does not repeat it
        after a 5xx or a timeout (it would for a GET): such a run fails and the next one
        reads again."""
        offset = 0
        path = f"{DEALS}/records/query"
        while True:
            body = {
                "limit": limit,
                "offset": offset,
                "sorts": [{"attribute": "created_at", "direction": "asc"}],
            }
            records = _data(self.send_json("POST", path, body, repeatable=True), f"POST {path}")
            if not isinstance(records, list):
                raise PermanentError(f"POST {path}: data is not a list")
            if records:
                yield records
            if len(records) < limit:
                return
            offset += limit

    def deals_fetch(self, ids: Sequence[str]) -> list[Deal | RecordError]:
        """The named deals as they are now; a deleted one (404) comes back archived."""
        deals: list[Deal | RecordError] = []
        for record_id in dict.fromkeys(ids):
            raw = self._get_or_none(_deal_path(record_id))
            if raw is None:
                deals.append(Deal(upstream_id=record_id, archived=True))
            else:
                deals.append(self.deal_from_record(raw))
        return deals

    def deal_from_record(self, raw: Any) -> Deal | RecordError:
        """The deal, or the RecordError naming what is wrong with the record."""
        try:
            record = validate_record(schemas.DealRecord, raw)
        except RecordError as error:
            error.upstream_id = record_id_of(raw)
            return error
        values = record["values"]
        name = _first(values, "name")
        stage = _first(values, "stage")
        value = _first(values, "value")
        owner = _first(values, "owner")
        person = _first(values, "associated_people")
        close_date = _first(values, "close_date")
        contact = self.person_email(person["target_record_id"]) if person else ""
        return Deal(
            upstream_id=record["id"]["record_id"],
            name=name["value"] if name else "",
            stage=stage["status"]["title"] if stage else "",
            amount=_cents(value["currency_value"]) if value else None,
            currency=(value.get("currency_code") or "") if value else "",
            owner_email=self.owner_email(owner) if owner else "",
            close_date=close_date["value"] if close_date else None,
            contact_emails=(contact,) if contact else (),
            properties=raw,
        )

    def owner_email(self, owner: dict) -> str:
        """A workspace member's email; other actors (API tokens, the system) have none."""
        member_id = owner["referenced_actor_id"]
        if owner["referenced_actor_type"] != "workspace-member" or not member_id:
            return ""
        if member_id not in self._member_emails:
            body = self._get_or_none(f"{API}/workspace_members/{quote(member_id, safe='')}")
            member = self._valid_or_none(schemas.WorkspaceMember, body)
            self._member_emails[member_id] = member["email_address"] if member else ""
        return self._member_emails[member_id]

    def person_email(self, person_id: str) -> str:
        """The person's first email address ("" for a deleted person or one without)."""
        if person_id not in self._person_emails:
            body = self._get_or_none(f"{API}/objects/people/records/{quote(person_id, safe='')}")
            person = self._valid_or_none(schemas.PersonRecord, body)
            emails = person["values"].get("email_addresses") if person else None
            self._person_emails[person_id] = emails[0]["email_address"] if emails else ""
        return self._person_emails[person_id]

    def _get_or_none(self, path: str) -> Any:
        try:
            return _data(self.get_json(path), f"GET {path}")
        except NotFoundError:
            return None

    @staticmethod
    def _valid_or_none(serializer, body: Any) -> dict | None:
        """A looked-up member or person of an unexpected shape only costs the deal an email."""
        if body is None:
            return None
        try:
            return validate_record(serializer, body)
        except RecordError:
            return None

    # --- write-back -------------------------------------------------------------------------

    def deals_write(self, updates: Sequence[DealUpdate]) -> dict[str, str]:
        """One PATCH per deal. A deal Attio no longer has (404) or whose values it refuses
        (400: e.g. an attribute slug the workspace does not have) is a failed item; any other
        error ends the batch (the write-back retries it next run)."""
        failed: dict[str, str] = {}
        for update in updates:
            body = {"data": {"values": update.properties}}
            try:
                self.send_json("PATCH", _deal_path(update.upstream_id), body)
            except (NotFoundError, ValidationError) as error:
                failed[update.upstream_id] = error.message
        return failed


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _deal_path(record_id: str) -> str:
    # Ids come from webhooks and our database; quoted so none can change the path.
    return f"{DEALS}/records/{quote(record_id, safe='')}"


def _first(values: dict, slug: str) -> dict | None:
    """The current value of a single-value attribute (Attio returns them as lists)."""
    items = values.get(slug)
    return items[0] if items else None


Client = AttioClient
