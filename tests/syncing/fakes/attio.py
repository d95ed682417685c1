"""A fake Attio (REST v2) holding deals, people and workspace members in memory, speaking the
documented paths, record shape (values as lists of typed value objects), limit/offset record
queries, Bearer auth and error bodies ``{status_code, type, code, message}``; the faults are
those of ``server.FakeUpstream`` ("429-date" answers Retry-After as an HTTP date, as Attio
does). ``signed_delivery`` builds a webhook delivery signed the way Attio signs it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from tests.syncing.fakes.server import FakeUpstream

API_KEY = "fake-attio-key-3e81b0"
WEBHOOK_SECRET = "fake-attio-webhook-secret-91c2"
WORKSPACE_ID = "6d2b5f0e-0000-4000-8000-00000000a771"
DEALS_OBJECT_ID = "6d2b5f0e-0000-4000-8000-0000000dea15"
MAX_LIMIT = 500
ACTOR = {"type": "system", "id": None}


def _now() -> str:
    # Attio writes nanoseconds.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def _value(attribute_type: str, **fields) -> dict:
    return {
        "active_from": _now(),
        "active_until": None,
        "created_by_actor": ACTOR,
        **fields,
        "attribute_type": attribute_type,
    }


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    kind = "invalid_request_error" if status < 500 else "internal_error"
    return status, {"status_code": status, "type": kind, "code": code, "message": message}


def signed_delivery(
    events: list[tuple[str, str]], *, secret: str = WEBHOOK_SECRET, object_id=DEALS_OBJECT_ID
) -> tuple[bytes, str]:
    """(body, Attio-Signature) of a delivery of ``(event_type, record_id)`` events."""
    body = json.dumps(
        {
            "webhook_id": "0f8e7a2c-0000-4000-8000-0000000000b1",
            "events": [
                {
                    "event_type": event_type,
                    "id": {
                        "workspace_id": WORKSPACE_ID,
                        "object_id": object_id,
                        "record_id": record_id,
                    },
                    "actor": {"type": "workspace-member", "id": str(uuid.uuid4())},
                }
                for event_type, record_id in events
            ],
        }
    ).encode()
    return body, sign(body, secret)


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeAttio(FakeUpstream):
    def __init__(self, *, api_key: str = API_KEY, seed: int = 7):
        super().__init__(api_key=api_key, seed=seed)
        self.deals: dict[str, dict] = {}
        self.people: dict[str, dict] = {}
        self.members: dict[str, dict] = {}
        # Deals a records query leaves out (as when an offset page shifts under a concurrent
        # change) while GET still finds them.
        self.hidden_from_query: set[str] = set()
        self.patches: list[tuple[str, dict]] = []
        # The deal object's attribute slugs (the write-back ones included) and stage titles.
        self.attributes = {"name", "stage", "value", "owner", "associated_people"} | {
            f"flowsync_{field}"
            for field in (
                "room_url",
                "progress_percentage",
                "total_views",
                "total_unique_views",
                "total_engagements",
                "last_engaged_at",
            )
        }
        self.attributes_created: list[dict] = []
        self.stages = ["Lead", "In Progress", "Won 🎉", "Lost"]

    def authorized(self, method: str, path: str, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {self.api_key}"

    # --- state ------------------------------------------------------------------------------

    def add_member(self, email: str) -> str:
        member_id = str(uuid.uuid4())
        self.members[member_id] = {
            "id": {"workspace_id": WORKSPACE_ID, "workspace_member_id": member_id},
            "first_name": email.split("@")[0].title(),
            "last_name": "",
            "avatar_url": None,
            "email_address": email,
            "access_level": "member",
            "created_at": _now(),
        }
        return member_id

    def add_person(self, *emails: str) -> str:
        person_id = str(uuid.uuid4())
        self.people[person_id] = {
            "id": {"workspace_id": WORKSPACE_ID, "object_id": "people", "record_id": person_id},
            "created_at": _now(),
            "web_url": f"https://app.attio.example/people/{person_id}",
            "values": {
                "email_addresses": [
                    _value("email-address", email_address=email, original_email_address=email)
                    for email in emails
                ]
            },
        }
        return person_id

    def add_deal(
        self,
        *,
        name: str,
        stage: str = "Lead",
        amount: str | None = None,
        currency: str = "USD",
        owner: str | None = None,
        people: tuple[str, ...] = (),
        close_date: str | None = None,
    ) -> str:
        record_id = str(uuid.uuid4())
        values = {
            "name": [_value("text", value=name)],
            "stage": [_value("status", status=self._status(stage))],
            "value": [],
            "owner": [],
            "associated_people": [],
        }
        if amount is not None:
            values["value"] = [
                _value("currency", currency_value=float(amount), currency_code=currency)
            ]
        if owner is not None:
            values["owner"] = [
                _value(
                    "actor-reference",
                    referenced_actor_type="workspace-member",
                    referenced_actor_id=owner,
                )
            ]
        values["associated_people"] = [
            _value("record-reference", target_object="people", target_record_id=person)
            for person in people
        ]
        if close_date is not None:
            values["close_date"] = [_value("date", value=close_date)]
        with self._lock:
            self.deals[record_id] = {
                "id": {
                    "workspace_id": WORKSPACE_ID,
                    "object_id": DEALS_OBJECT_ID,
                    "record_id": record_id,
                },
                "created_at": _now(),
                "web_url": f"https://app.attio.example/deals/{record_id}",
                "values": values,
            }
        return record_id

    def set_stage(self, record_id: str, stage: str) -> None:
        with self._lock:
            self.deals[record_id]["values"]["stage"] = [
                _value("status", status=self._status(stage))
            ]

    @staticmethod
    def _status(title: str) -> dict:
        return {
            "title": title,
            "id": {
                "workspace_id": WORKSPACE_ID,
                "object_id": DEALS_OBJECT_ID,
                "attribute_id": "stage",
                "status_id": str(uuid.uuid5(uuid.NAMESPACE_URL, title)),
            },
            "is_archived": False,
            "target_time_in_status": None,
            "celebration_enabled": False,
        }

    # --- API --------------------------------------------------------------------------------

    def query_deals(self, body) -> tuple[int, object]:
        body = body if isinstance(body, dict) else {}
        limit, offset = body.get("limit", MAX_LIMIT), body.get("offset", 0)
        if not isinstance(limit, int) or not isinstance(offset, int):
            return _error(400, "validation_type", "limit and offset must be integers")
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            return _error(400, "validation_type", f"limit must be 1..{MAX_LIMIT}, offset >= 0")
        with self._lock:
            deals = [d for k, d in self.deals.items() if k not in self.hidden_from_query]
        sorts = body.get("sorts") or []
        if sorts and sorts[0].get("attribute") == "created_at":
            deals.sort(
                key=lambda d: (d["created_at"], d["id"]["record_id"]),
                reverse=sorts[0].get("direction") == "desc",
            )
        return 200, {"data": deals[offset : offset + limit]}

    def attribute_create(self, body) -> tuple[int, object]:
        data = body.get("data") if isinstance(body, dict) else None
        required = {"title", "api_slug", "type", "is_required", "is_unique", "is_multiselect"}
        if not isinstance(data, dict) or not required <= data.keys():
            return _error(400, "validation_type", "Body must be {data: {title, api_slug, ...}}")
        with self._lock:
            if data["api_slug"] in self.attributes:
                return _error(409, "slug_conflict", "An attribute with this slug exists.")
            self.attributes.add(data["api_slug"])
            self.attributes_created.append(data)
        return 200, {"data": data}

    def update_deal(self, record_id: str, body) -> tuple[int, object]:
        values = body.get("data", {}).get("values") if isinstance(body, dict) else None
        if not isinstance(values, dict):
            return _error(400, "validation_type", "Body must be {data: {values: {...}}}")
        with self._lock:
            deal = self.deals.get(record_id)
            if deal is None:
                return _error(404, "not_found", f"Record with ID {record_id} not found.")
            self.patches.append((record_id, values))
            for slug, value in values.items():
                deal["values"][slug] = [] if value is None else [_value("text", value=value)]
            return 200, {"data": deal}

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if parts[:1] != ["v2"]:
            return _error(404, "not_found", "Route not found.")
        rest = parts[1:]
        if method == "GET" and rest == ["objects", "deals"]:
            return 200, {
                "data": {
                    "id": {"workspace_id": WORKSPACE_ID, "object_id": DEALS_OBJECT_ID},
                    "api_slug": "deals",
                    "singular_noun": "Deal",
                    "plural_noun": "Deals",
                    "created_at": _now(),
                }
            }
        if rest == ["objects", "deals", "attributes"]:
            if method == "GET":
                return 200, {"data": [{"api_slug": slug} for slug in sorted(self.attributes)]}
            if method == "POST":
                return self.attribute_create(body)
        if method == "GET" and rest == ["objects", "deals", "attributes", "stage", "statuses"]:
            return 200, {"data": [self._status(title) for title in self.stages]}
        if method == "POST" and rest == ["objects", "deals", "records", "query"]:
            return self.query_deals(body)
        if rest[:3] == ["objects", "deals", "records"] and len(rest) == 4:
            if method == "GET":
                return self._get(self.deals, rest[3])
            if method == "PATCH":
                return self.update_deal(rest[3], body)
        if method == "GET" and rest[:3] == ["objects", "people", "records"] and len(rest) == 4:
            return self._get(self.people, rest[3])
        if method == "GET" and rest[:1] == ["workspace_members"] and len(rest) == 2:
            return self._get(self.members, rest[1])
        return _error(404, "not_found", "Route not found.")

    def _get(self, table: dict, key: str) -> tuple[int, object]:
        with self._lock:
            item = table.get(key)
        if item is None:
            return _error(404, "not_found", f"Record with ID {key} not found.")
        return 200, {"data": item}
