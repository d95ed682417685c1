"""A fake HubSpot account (CRM v3 deals, owners, contacts, v4 associations, OAuth v1 token)
holding its records in memory; faults as ``server.FakeUpstream`` plus HubSpot's own 429s.

What it enforces like HubSpot: ``Authorization: Bearer <token>`` (the private-app token or a
token the OAuth endpoint issued and has not expired); search pages of at most 200 and no
paging beyond 10,000 results (400); batch inputs of at most 100, no duplicate ids, only known
deal properties (400); per-item errors of a batch answered as 207 with ``errors[].context.ids``.

Extra fault kinds (``inject``): "rate-ten-secondly", "rate-secondly", "rate-daily" answer 429
without Retry-After and with HubSpot's body naming that ``policyName``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from urllib.parse import unquote

from tests.syncing.fakes.oauth import AuthorizationServer
from tests.syncing.fakes.server import FakeUpstream, iso

ACCESS_TOKEN = "pat-fake-hubspot-3c9e1b"
CLIENT_ID = "fake-client-id-6b1f"
CLIENT_SECRET = "fake-client-secret-2a7d"
REFRESH_TOKEN = "fake-refresh-token-9e40"

OBJECTS = "/crm/v3/objects"
DEALS = f"{OBJECTS}/deals"
CONTACTS = f"{OBJECTS}/contacts"
OWNERS = "/crm/v3/owners/"
ASSOCIATIONS = "/crm/v4/associations/"
TOKEN = "/oauth/v1/token"
# HubSpot's consent page lives on app.hubspot.com; the fake serves it too.
AUTHORIZE = "/oauth/authorize"
PIPELINES = "/crm/v3/pipelines/deals"
PROPERTIES = "/crm/v3/properties/deals"
# The default pipeline of a new portal, as HubSpot lists it.
PIPELINE = {
    "id": "default",
    "label": "Sales Pipeline",
    "stages": [
        {"id": "appointmentscheduled", "label": "Appointment Scheduled"},
        {"id": "qualifiedtobuy", "label": "Qualified To Buy"},
        {"id": "contractsent", "label": "Contract Sent"},
        {"id": "closedwon", "label": "Closed Won"},
    ],
}

SEARCH_MAX_LIMIT = 200
SEARCH_CAP = 10_000
LIST_MAX_LIMIT = 100
BATCH_MAX = 100
ASSOCIATIONS_BATCH_MAX = 1000
DEAL_TO_CONTACT = 3

RATE_FAULTS = {
    "rate-ten-secondly": "TEN_SECONDLY_ROLLING",
    "rate-secondly": "SECONDLY",
    "rate-daily": "DAILY",
}

DEAL_PROPERTIES = frozenset(
    {
        "dealname",
        "dealstage",
        "pipeline",
        "amount",
        "deal_currency_code",
        "closedate",
        "hubspot_owner_id",
        "hs_lastmodifieddate",
        "hs_object_id",
        "createdate",
        # The write-back properties, as a portal that created them has them.
        "flowsync_room_url",
        "flowsync_progress_percentage",
        "flowsync_total_views",
        "flowsync_total_unique_views",
        "flowsync_total_engagements",
        "flowsync_last_engaged_at",
    }
)
READ_ONLY = frozenset({"hs_lastmodifieddate", "hs_object_id", "createdate"})


def error(status: int, message: str, category: str = "VALIDATION_ERROR") -> tuple[int, dict]:
    return status, {
        "status": "error",
        "message": message,
        "correlationId": "fake-correlation",
        "category": category,
    }


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@cache
def _iso_ms(raw: str) -> int:
    return _epoch_ms(datetime.fromisoformat(raw.replace("Z", "+00:00")))


def _filter_value(deal: dict, name: str):
    """A property's comparable value: ids as numbers, times as epoch milliseconds."""
    raw = deal["properties"].get(name)
    if raw in (None, ""):
        return None
    if name == "hs_object_id":
        return int(raw)
    if name in ("hs_lastmodifieddate", "createdate", "closedate"):
        return _iso_ms(raw)
    return raw


def _parse_value(name: str, value):
    if name in ("hs_lastmodifieddate", "createdate", "closedate", "hs_object_id"):
        text = str(value)
        if text.lstrip("-").isdigit():
            return int(text)
        return _iso_ms(text)
    return value


OPERATORS: dict[str, Callable] = {
    "EQ": lambda a, b, _: a == b,
    "NEQ": lambda a, b, _: a != b,
    "GT": lambda a, b, _: a is not None and a > b,
    "GTE": lambda a, b, _: a is not None and a >= b,
    "LT": lambda a, b, _: a is not None and a < b,
    "LTE": lambda a, b, _: a is not None and a <= b,
    "BETWEEN": lambda a, b, high: a is not None and b <= a <= high,
}


def _compiled(groups: list) -> list[list[tuple]]:
    """Filter groups as (property, operator, value, high value), values parsed once."""
    return [
        [
            (
                f["propertyName"],
                OPERATORS[f["operator"]],
                _parse_value(f["propertyName"], f.get("value")),
                _parse_value(f["propertyName"], f["highValue"]) if "highValue" in f else None,
            )
            for f in group["filters"]
        ]
        for group in groups
    ]


def _matches(deal: dict, groups: list[list[tuple]]) -> bool:
    """Groups are ORed, the filters of a group ANDed (HubSpot's search semantics)."""
    if not groups:
        return True
    return any(
        all(test(_filter_value(deal, name), value, high) for name, test, value, high in group)
        for group in groups
    )


class FakeHubSpot(FakeUpstream):
    auth_header = "Authorization"

    def __init__(self, *, access_token: str = ACCESS_TOKEN, seed: int = 7):
        super().__init__(api_key=access_token, seed=seed)
        self.deals: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.owners: dict[str, dict] = {}
        self.associations: dict[str, list[str]] = {}
        self.properties = set(DEAL_PROPERTIES)
        self.properties_created: list[dict] = []
        # Deal ids whose batch update fails (answered per item in a 207).
        self.failing_updates: dict[str, str] = {}
        # Each batch update as received: a list of {"id", "properties"} inputs.
        self.updates: list[list[dict]] = []
        self.searches: list[dict] = []
        # The deal ids each search answered.
        self.search_answers: list[list[str]] = []
        # Called after each search is answered (to change deals while a pull reads).
        self.after_search: Callable[[dict], None] | None = None
        self.oauth = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
        self.token_lifetime = 1800
        self.authorization = AuthorizationServer(client_id=CLIENT_ID)
        self.issued_tokens: list[str] = []
        self.valid_tokens = {access_token}
        self._ids = itertools.count(1001)
        self._pending_rate = threading.local()

    # --- state ------------------------------------------------------------------------------

    def add_deal(
        self,
        *,
        modified: datetime | None = None,
        contacts: tuple[str, ...] = (),
        archived: bool = False,
        **properties,
    ) -> dict:
        """A deal; ``modified`` sets hs_lastmodifieddate, ``contacts`` associates emails."""
        with self._lock:
            deal_id = str(next(self._ids))
            moment = modified or datetime.now(UTC)
            deal = {
                "id": deal_id,
                "properties": {
                    "dealname": f"Deal {deal_id}",
                    "dealstage": "appointmentscheduled",
                    "amount": None,
                    "deal_currency_code": None,
                    "closedate": None,
                    "hubspot_owner_id": None,
                    "createdate": iso(moment),
                    **properties,
                    "hs_object_id": deal_id,
                    "hs_lastmodifieddate": iso(moment),
                },
                "createdAt": iso(moment),
                "updatedAt": iso(moment),
                "archived": archived,
            }
            if archived:
                deal["archivedAt"] = iso(moment)
            self.deals[deal_id] = deal
            self.associations[deal_id] = [self.add_contact(email) for email in contacts]
            return deal

    def add_contact(self, email: str) -> str:
        with self._lock:
            contact_id = str(next(self._ids))
            self.contacts[contact_id] = {"id": contact_id, "properties": {"email": email}}
            return contact_id

    def add_owner(self, email: str) -> str:
        with self._lock:
            owner_id = str(next(self._ids))
            self.owners[owner_id] = {
                "id": owner_id,
                "email": email,
                "firstName": "Owner",
                "lastName": owner_id,
                "userId": int(owner_id),
                "archived": False,
            }
            return owner_id

    def touch(self, deal_id: str, *, at: datetime | None = None, **properties) -> dict:
        """Change a deal as a HubSpot user would: properties and hs_lastmodifieddate."""
        with self._lock:
            deal = self.deals[deal_id]
            moment = iso(at or datetime.now(UTC))
            deal["properties"].update(properties, hs_lastmodifieddate=moment)
            deal["updatedAt"] = moment
            return deal

    def archive(self, deal_id: str, *, at: datetime | None = None) -> None:
        with self._lock:
            deal = self.deals[deal_id]
            deal["archived"] = True
            deal["archivedAt"] = iso(at or datetime.now(UTC))

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far stops working (as after their lifetime)."""
        with self._lock:
            self.valid_tokens -= set(self.issued_tokens)

    # --- plumbing ---------------------------------------------------------------------------

    def authorized(self, method: str, path: str, headers) -> bool:
        if path in (TOKEN, AUTHORIZE):
            return True  # the token endpoint authenticates by its form fields
        value = headers.get("Authorization") or ""
        return value.startswith("Bearer ") and value.removeprefix("Bearer ") in self.valid_tokens

    def take_fault(self, method: str, path: str) -> str | None:
        kind = super().take_fault(method, path)
        if kind in RATE_FAULTS:
            self._pending_rate.policy = RATE_FAULTS[kind]
            return None
        return kind

    def route(self, method: str, path: str, query: dict, body):
        policy = getattr(self._pending_rate, "policy", None)
        if policy is not None:
            self._pending_rate.policy = None
            return 429, {
                "status": "error",
                "message": f"You have reached your {policy.lower()} limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "fake-correlation",
                "policyName": policy,
            }
        with self._lock:
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict, body):
        if method == "GET" and path == AUTHORIZE:
            return self.authorization.authorize(query)
        if method == "POST" and path == TOKEN:
            return self.token(body or {})
        if method == "POST" and path == f"{DEALS}/search":
            return self.search(body)
        if method == "GET" and path == DEALS:
            return self.list_deals(query)
        if method == "POST" and path == f"{DEALS}/batch/read":
            return self.batch_read(self.deals, body, "DEAL", query)
        if method == "POST" and path == f"{CONTACTS}/batch/read":
            return self.batch_read(self.contacts, body, "CONTACT", query)
        if method == "POST" and path == f"{DEALS}/batch/update":
            return self.batch_update(body)
        if method == "GET" and path == PIPELINES:
            return 200, {"results": [PIPELINE]}
        if method == "GET" and path == PROPERTIES:
            return 200, {"results": [{"name": name} for name in sorted(self.properties)]}
        if method == "POST" and path == f"{PROPERTIES}/batch/create":
            return self.properties_create(body)
        if method == "GET" and path.startswith(OWNERS):
            owner = self.owners.get(path.removeprefix(OWNERS))
            return (200, owner) if owner else error(404, "Owner not found", "OBJECT_NOT_FOUND")
        if method == "POST" and path.startswith(ASSOCIATIONS) and path.endswith("/batch/read"):
            kinds = path.removeprefix(ASSOCIATIONS).removesuffix("/batch/read").split("/")
            if [kind.rstrip("s") for kind in kinds] == ["deal", "contact"]:
                return self.association_read(body)
        return error(404, f"No route for {method} {unquote(path)}", "OBJECT_NOT_FOUND")

    # --- operations -------------------------------------------------------------------------

    def token(self, form: dict):
        if form.get("grant_type") not in ("refresh_token", "authorization_code"):
            return 400, {"status": "BAD_GRANT_TYPE", "message": "unsupported grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (
            self.oauth["client_id"],
            self.oauth["client_secret"],
        ):
            return 400, {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id"}
        if form["grant_type"] == "authorization_code":
            if not self.authorization.redeem(form):
                return 400, {"status": "BAD_AUTH_CODE", "message": "auth code not found"}
        elif form.get("refresh_token") != self.oauth["refresh_token"]:
            return 400, {
                "status": "BAD_REFRESH_TOKEN",
                "message": "missing or unknown refresh token",
            }
        token = f"oauth-access-{len(self.issued_tokens) + 1}"
        self.issued_tokens.append(token)
        self.valid_tokens.add(token)
        return 200, {
            "token_type": "bearer",
            "access_token": token,
            "refresh_token": self.oauth["refresh_token"],
            "expires_in": self.token_lifetime,
        }

    def _view(self, record: dict, properties) -> dict:
        wanted = set(properties or ()) | {"hs_object_id", "hs_lastmodifieddate", "createdate"}
        shown = {k: v for k, v in record["properties"].items() if k in wanted}
        view = {**record, "properties": shown}
        if not view.get("archived"):
            view.pop("archivedAt", None)
        return view

    def search(self, body):
        if not isinstance(body, dict):
            return error(400, "Invalid input JSON")
        self.searches.append(body)
        limit = body.get("limit", 10)
        after = str(body.get("after") or "0")
        if not isinstance(limit, int) or not 1 <= limit <= SEARCH_MAX_LIMIT or not after.isdigit():
            return error(400, f"limit must be 1..{SEARCH_MAX_LIMIT}; after an offset")
        offset = int(after)
        if offset + limit > SEARCH_CAP:
            return error(400, "Search results are limited to 10,000: narrow the query.")
        try:
            groups = _compiled(body.get("filterGroups") or [])
            matches = [
                deal
                for deal in self.deals.values()
                if not deal["archived"] and _matches(deal, groups)
            ]
        except (KeyError, ValueError, TypeError) as exc:
            return error(400, f"Invalid filter: {exc}")
        for sort in reversed(body.get("sorts") or [{"propertyName": "hs_object_id"}]):
            name = sort["propertyName"]
            values = {deal["id"]: _filter_value(deal, name) for deal in matches}
            matches.sort(
                key=lambda deal: (values[deal["id"]] is None, values[deal["id"]] or 0),
                reverse=sort.get("direction") == "DESCENDING",
            )
        page = matches[offset : offset + limit]
        self.search_answers.append([deal["id"] for deal in page])
        answer = {
            "total": len(matches),
            "results": [self._view(deal, body.get("properties")) for deal in page],
        }
        if offset + limit < len(matches):
            answer["paging"] = {"next": {"after": str(offset + limit)}}
        if self.after_search is not None:
            self.after_search(body)
        return 200, answer

    def list_deals(self, query: dict):
        try:
            limit = int(query.get("limit", "10"))
            offset = int(query.get("after", "0"))
        except ValueError:
            return error(400, "limit and after must be integers")
        if not 1 <= limit <= LIST_MAX_LIMIT:
            return error(400, f"limit must be 1..{LIST_MAX_LIMIT}")
        archived = query.get("archived", "false") == "true"
        properties = [p for p in query.get("properties", "").split(",") if p]
        deals = sorted(
            (deal for deal in self.deals.values() if deal["archived"] == archived),
            key=lambda deal: int(deal["id"]),
        )
        answer = {"results": [self._view(d, properties) for d in deals[offset : offset + limit]]}
        if offset + limit < len(deals):
            answer["paging"] = {"next": {"after": str(offset + limit), "link": "ignored"}}
        return 200, answer

    def _inputs(self, body, limit: int = BATCH_MAX) -> list[str] | tuple[int, dict]:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return error(400, "Invalid input JSON: inputs required")
        ids = [str(item.get("id")) for item in body["inputs"] if isinstance(item, dict)]
        if len(ids) > limit:
            return error(400, f"Batch input size {len(ids)} exceeds the limit of {limit}")
        if len(set(ids)) != len(ids):
            return error(400, "Duplicate IDs found in batch input")
        return ids

    @staticmethod
    def _batch_answer(results: list, errors: list) -> tuple[int, dict]:
        now = iso(datetime.now(UTC))
        answer = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
        return (207 if errors else 200), answer

    def batch_read(self, store: dict, body, kind: str, query: dict):
        ids = self._inputs(body)
        if isinstance(ids, tuple):
            return ids
        archived = query.get("archived", "false") == "true"
        found = [
            store[i] for i in ids if i in store and store[i].get("archived", False) == archived
        ]
        missing = [i for i in ids if i not in {record["id"] for record in found}]
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {kind} objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            )
        return self._batch_answer([self._view(r, body.get("properties")) for r in found], errors)

    def properties_create(self, body):
        inputs = body.get("inputs") if isinstance(body, dict) else None
        required = {"name", "label", "type", "fieldType", "groupName"}
        if not isinstance(inputs, list) or not all(
            isinstance(i, dict) and required <= i.keys() for i in inputs
        ):
            return error(400, "Each input needs name, label, type, fieldType, groupName")
        self.properties_created.extend(inputs)
        self.properties.update(i["name"] for i in inputs)
        return 201, {"status": "COMPLETE", "results": inputs}

    def batch_update(self, body):
        ids = self._inputs(body)
        if isinstance(ids, tuple):
            return ids
        inputs = body["inputs"]
        for item in inputs:
            for name in item.get("properties") or {}:
                if name not in self.properties or name in READ_ONLY:
                    return error(
                        400,
                        f'Property values were not valid: Property "{name}" does not exist',
                    )
        self.updates.append(inputs)
        results, errors = [], []
        moment = iso(datetime.now(UTC))
        for item in inputs:
            deal_id = str(item["id"])
            deal = self.deals.get(deal_id)
            reason = self.failing_updates.get(deal_id)
            if deal is None or deal["archived"]:
                reason = reason or "Object not found"
            if reason:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": reason,
                        "context": {"ids": [deal_id]},
                    }
                )
                continue
            values = {k: "" if v is None else str(v) for k, v in item["properties"].items()}
            deal["properties"].update(values, hs_lastmodifieddate=moment)
            deal["updatedAt"] = moment
            results.append(self._view(deal, list(values)))
        return self._batch_answer(results, errors)

    def association_read(self, body):
        ids = self._inputs(body, limit=ASSOCIATIONS_BATCH_MAX)
        if isinstance(ids, tuple):
            return ids
        results, missing = [], []
        for deal_id in ids:
            contacts = self.associations.get(deal_id)
            if not contacts:
                missing.append(deal_id)
                continue
            results.append(
                {
                    "from": {"id": deal_id},
                    "to": [
                        {
                            "toObjectId": int(contact_id),
                            "associationTypes": [
                                {
                                    "category": "HUBSPOT_DEFINED",
                                    "typeId": DEAL_TO_CONTACT,
                                    "label": None,
                                }
                            ],
                        }
                        for contact_id in contacts
                    ],
                }
            )
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "No contact associated",
                    "context": {"ids": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_answer(results, errors)
