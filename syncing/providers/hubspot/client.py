"""Client of HubSpot's CRM API for deals: ``Authorization: Bearer <token>``.

Paths are those of CRM v3 objects and owners, v4 associations and the v1 OAuth token
endpoint (``PATHS``); a connection's ``options["api_paths"]`` may replace any prefix when
HubSpot moves a version (e.g. ``{"objects": "/crm/objects/2026-03"}``).

Credentials (``connection.credentials``): a private-app / service-key token as
``access_token`` (or ``api_key``, what the admin form stores), or OAuth: ``client_id``,
``client_secret``, ``refresh_token``. An OAuth access token is refreshed before it expires and
kept encrypted on the connection with its expiry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import requests
from django.db import transaction

from syncing.crm.types import WRITE_BACK_KINDS, Deal, DealUpdate, Stage
from syncing.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RecordError,
)
from syncing.http import UpstreamClient, status_message
from syncing.providers.hubspot import schemas
from syncing.validation import validate_record

PATHS = {
    "objects": "/crm/v3/objects",
    "owners": "/crm/v3/owners",
    "associations": "/crm/v4/associations",
    "token": "/oauth/v1/token",
    "pipelines": "/crm/v3/pipelines",
    "properties": "/crm/v3/properties",
}
# A write-back field's kind -> HubSpot's (type, fieldType) of a deal property.
PROPERTY_TYPES = {
    "text": ("string", "text"),
    "number": ("number", "number"),
    "datetime": ("datetime", "date"),
}
DEAL_PROPERTIES = (
    "dealname",
    "dealstage",
    "amount",
    "deal_currency_code",
    "closedate",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
)
# HubSpot's largest page of a search, of a list, and of a batch read.
SEARCH_LIMIT = 200
LIST_LIMIT = 100
BATCH_READ = 100
# A 429 of HubSpot's per-second policies often comes without Retry-After: after the shared
# layer's retries, wait this long and call again, at most POLICY_WAITS times (together a full
# ten-second window).
POLICY_WAIT_SECONDS = 1.0
POLICY_WAITS = 10
WAITED_POLICIES = frozenset({"SECONDLY", "TEN_SECONDLY_ROLLING"})
# Refresh an OAuth access token this many seconds before it expires.
TOKEN_MARGIN = 60


class PolicyRateLimitedError(RateLimitedError):
    """429 of a per-second policy (TEN_SECONDLY_ROLLING, SECONDLY) with no Retry-After."""


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _results(body: Any, what: str) -> list:
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise PermanentError(f"{what}: an answer without a results list")
    return body["results"]


def _next_after(body: dict) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _failed_items(body: Any, ids: Sequence[str]) -> dict[str, str]:
    """The items of a batch answer (200 or 207) that did not succeed: those its errors name
    (``errors[].context.ids`` or ``errors[].id``), and any input missing from its results."""
    body = body if isinstance(body, dict) else {}
    failed: dict[str, str] = {}
    unattributed = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or error.get("category") or "failed")
        named = (error.get("context") or {}).get("ids") or (
            [error["id"]] if error.get("id") else []
        )
        for upstream_id in named:
            failed[str(upstream_id)] = message
        if not named:
            unattributed.append(message)
    done = {str(r.get("id")) for r in body.get("results") or [] if isinstance(r, dict)}
    fallback = "; ".join(unattributed) or "HubSpot did not confirm the update"
    for upstream_id in ids:
        if upstream_id not in done and upstream_id not in failed:
            failed[upstream_id] = fallback
    return failed


class HubSpotClient(UpstreamClient):
    auth_header = "Authorization"
    correlation_headers = ("x-hubspot-correlation-id", "x-request-id", "x-correlation-id")

    WRITE_BATCH: ClassVar[int] = 100
    # Deal properties a portal creates for flowsync (names may be set per connection).
    WRITE_BACK_PROPERTIES: ClassVar[dict[str, str]] = {
        "room_url": "flowsync_room_url",
        "progress_percentage": "flowsync_progress_percentage",
        "total_views": "flowsync_total_views",
        "total_unique_views": "flowsync_total_unique_views",
        "total_engagements": "flowsync_total_engagements",
        "last_engaged_at": "flowsync_last_engaged_at",
    }

    def __init__(self, *, paths: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.paths = {**PATHS, **(paths or {})}
        self._owner_emails: dict[str, str] = {}
        self._oauth_connection = None
        self._token_expires_at = 0.0

    @classmethod
    def from_connection(cls, connection, *, budget=None, on_auth_error=None) -> HubSpotClient:
        credentials = connection.credentials
        oauth = "refresh_token" in credentials
        token = credentials.get("access_token") or ("" if oauth else credentials.get("api_key"))
        client = cls(
            base_url=connection.base_url,
            secret=f"Bearer {token or ''}",
            budget=budget,
            on_auth_error=on_auth_error,
            paths=connection.options.get("api_paths"),
        )
        if oauth:
            client._oauth_connection = connection
            client._token_expires_at = float(credentials.get("access_token_expires_at", 0))
        return client

    # --- calls ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        repeatable: bool = False,
    ) -> requests.Response:
        """One call; an OAuth token is refreshed first when due, and a per-second policy's
        429 is waited out."""
        self._token_ensure()
        waits = 0
        while True:
            try:
                return super().request(
                    method, path, params=params, json=json, repeatable=repeatable
                )
            except PolicyRateLimitedError:
                if waits == POLICY_WAITS:
                    raise
                waits += 1
                time.sleep(POLICY_WAIT_SECONDS)

    def _check(self, method: str, path: str, response: requests.Response) -> requests.Response:
        if response.status_code == 429 and not response.headers.get("Retry-After"):
            policy = _policy_name(response)
            if policy in WAITED_POLICIES:
                raise PolicyRateLimitedError(
                    f"{method} {path}: HTTP 429 {policy}",
                    retry_after=POLICY_WAIT_SECONDS,
                    status=429,
                    correlation_id=self.correlation_id(response),
                )
        return super()._check(method, path, response)

    def _token_ensure(self) -> None:
        if self._oauth_connection is None or self._token_expires_at > time.time() + TOKEN_MARGIN:
            return
        token = self._token_refresh()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _token_refresh(self) -> str:
        """POST the refresh token (form-encoded, without the bearer header) for a new access
        token, and keep it encrypted on the connection. A refused refresh is an AuthError."""
        connection = self._oauth_connection
        credentials = connection.credentials
        path = self.paths["token"]
        form = {
            "grant_type": "refresh_token",
            "client_id": credentials.get("client_id", ""),
            "client_secret": credentials.get("client_secret", ""),
            "refresh_token": credentials.get("refresh_token", ""),
        }
        response = self.post_form(self.base_url + path, form)
        if response.status_code in (400, 401, 403):
            # HubSpot answers 400 BAD_REFRESH_TOKEN / BAD_CLIENT_ID: only new consent helps.
            error = AuthError(
                status_message(f"POST {path}", response),
                status=response.status_code,
                correlation_id=self.correlation_id(response),
            )
            if self._on_auth_error is not None:
                self._on_auth_error(error)
            raise error
        self._check("POST", path, response)
        try:
            token = validate_record(schemas.Token, self.parse_json(response, f"POST {path}"))
        except RecordError as error:
            raise PermanentError(f"POST {path}: {error.message}") from None
        self._token_expires_at = time.time() + token["expires_in"]
        self._token_store(token["access_token"], int(self._token_expires_at))
        return token["access_token"]

    def _token_store(self, access_token: str, expires_at: int) -> None:
        from syncing.models import Connection

        connection = self._oauth_connection
        with transaction.atomic():
            stored = Connection.objects.select_for_update().get(pk=connection.pk)
            stored.credentials = {
                **stored.credentials,
                "access_token": access_token,
                "access_token_expires_at": expires_at,
            }
            stored.save(update_fields=["credentials_encrypted"])
        connection.credentials_encrypted = stored.credentials_encrypted

    # --- operations -------------------------------------------------------------------------

    def ping(self) -> str:
        """One search of one deal (needs the deals read scope)."""
        body = self.send_json(
            "POST",
            f"{self.paths['objects']}/deals/search",
            {"limit": 1, "properties": []},
            repeatable=True,
        )
        total = body.get("total") if isinstance(body, dict) else None
        return f"{total} deals readable" if isinstance(total, int) else "deals readable"

    def stages(self) -> list[Stage]:
        body = self.get_json(f"{self.paths['pipelines']}/deals")
        pipelines = body.get("results") if isinstance(body, dict) else None
        if not isinstance(pipelines, list):
            raise PermanentError("GET pipelines of deals: no results list")
        return [
            Stage(
                pipeline_id=str(pipeline.get("id", "")),
                pipeline_label=str(pipeline.get("label", "")),
                id=str(stage.get("id", "")),
                label=str(stage.get("label", "")),
            )
            for pipeline in pipelines
            if isinstance(pipeline, dict)
            for stage in pipeline.get("stages") or []
            if isinstance(stage, dict) and stage.get("id")
        ]

    def deal_field_names(self) -> set[str]:
        body = self.get_json(f"{self.paths['properties']}/deals")
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise PermanentError("GET properties of deals: no results list")
        return {str(p.get("name")) for p in results if isinstance(p, dict)}

    def deal_fields_create(self, fields: dict[str, str]) -> None:
        """One batch create of deal properties in HubSpot's default deal group."""
        inputs = []
        for field, name in fields.items():
            kind, field_type = PROPERTY_TYPES[WRITE_BACK_KINDS[field]]
            label = f"flowsync {field.replace('_', ' ')}"
            inputs.append(
                {
                    "name": name,
                    "label": label,
                    "type": kind,
                    "fieldType": field_type,
                    "groupName": "dealinformation",
                }
            )
        self.send_json("POST", f"{self.paths['properties']}/deals/batch/create", {"inputs": inputs})

    def deal_pages(
        self, *, modified_from: datetime | None, modified_to: datetime
    ) -> Iterator[list[Deal | RecordError]]:
        """Live deals whose hs_lastmodifieddate is in [modified_from, modified_to], by
        ascending id, a page at a time.

        Each page is a new search from the last id read (hs_object_id > last id) rather than
        the next ``after`` offset: a search never reaches HubSpot's 10,000-result cap, and a
        deal that leaves the window while we read (modified again) cannot shift the offsets
        and make us skip one that is still in it."""
        path = f"{self.paths['objects']}/deals/search"
        window = [
            {
                "propertyName": "hs_lastmodifieddate",
                "operator": "LTE",
                "value": _epoch_ms(modified_to),
            }
        ]
        if modified_from is not None:
            window.append(
                {
                    "propertyName": "hs_lastmodifieddate",
                    "operator": "GTE",
                    "value": _epoch_ms(modified_from),
                }
            )
        last_id: str | None = None
        while True:
            filters = list(window)
            if last_id is not None:
                filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": last_id})
            body = self.send_json(
                "POST",
                path,
                {
                    "filterGroups": [{"filters": filters}],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "properties": list(DEAL_PROPERTIES),
                    "limit": SEARCH_LIMIT,
                },
                repeatable=True,
            )
            records = _results(body, f"POST {path}")
            if not records:
                return
            yield self._deals(records)
            last_id = _last_id(records, path)
            if _next_after(body) is None:
                return

    def archived_deal_pages(
        self, *, archived_from: datetime | None
    ) -> Iterator[list[Deal | RecordError]]:
        """Archived deals (``GET …/deals?archived=true``, paged with ``after``); with
        ``archived_from``, only those archived since then (the list has no filter)."""
        path = f"{self.paths['objects']}/deals"
        params = {"archived": "true", "limit": LIST_LIMIT, "properties": ",".join(DEAL_PROPERTIES)}
        while True:
            body = self.get_json(path, params=params)
            records = [
                record
                for record in _results(body, f"GET {path}")
                if archived_from is None or not _archived_before(record, archived_from)
            ]
            if records:
                yield self._deals(records, with_contacts=False)
            after = _next_after(body)
            if after is None:
                return
            params = {**params, "after": after}

    def deals_fetch(self, ids: Sequence[str]) -> list[Deal | RecordError]:
        """The named deals as they are now; archived ones are read as such, and a deal HubSpot
        no longer has at all comes back as an archived Deal with only its id."""
        deals: list[Deal | RecordError] = []
        for chunk in _chunks(list(dict.fromkeys(str(i) for i in ids)), BATCH_READ):
            live = self._batch_read("deals", chunk, DEAL_PROPERTIES)
            missing = [i for i in chunk if i not in {str(r.get("id")) for r in live}]
            archived = self._batch_read("deals", missing, DEAL_PROPERTIES, archived=True)
            gone = [i for i in missing if i not in {str(r.get("id")) for r in archived}]
            deals += self._deals(live) + self._deals(archived, with_contacts=False)
            deals += [Deal(upstream_id=i, archived=True) for i in gone]
        return deals

    def deals_write(self, updates: Sequence[DealUpdate]) -> dict[str, str]:
        """One batch update (at most WRITE_BATCH). A property set to None is cleared (HubSpot
        clears with an empty string). Returns the items that failed (id -> message)."""
        if len(updates) > self.WRITE_BATCH:
            raise ValueError(f"at most {self.WRITE_BATCH} updates per call")
        if not updates:
            return {}
        inputs = [
            {
                "id": update.upstream_id,
                "properties": {k: "" if v is None else v for k, v in update.properties.items()},
            }
            for update in updates
        ]
        path = f"{self.paths['objects']}/deals/batch/update"
        body = self.send_json("POST", path, {"inputs": inputs})
        return _failed_items(body, [update.upstream_id for update in updates])

    def owner_email(self, owner_id: str | None) -> str:
        """The owner's email, read once per client (a run); unknown owners have none."""
        if not owner_id:
            return ""
        if owner_id not in self._owner_emails:
            try:
                body = self.get_json(f"{self.paths['owners']}/{owner_id}")
                owner = validate_record(schemas.Owner, body)
                self._owner_emails[owner_id] = owner.get("email") or ""
            except (NotFoundError, RecordError):
                self._owner_emails[owner_id] = ""
        return self._owner_emails[owner_id]

    # --- helpers ----------------------------------------------------------------------------

    def _batch_read(
        self, kind: str, ids: Sequence[str], properties: Sequence[str], *, archived: bool = False
    ) -> list[dict]:
        """Records of one batch read (200, or 207 naming those not found)."""
        if not ids:
            return []
        path = f"{self.paths['objects']}/{kind}/batch/read"
        response = self.request(
            "POST",
            path,
            params={"archived": "true"} if archived else None,
            json={"properties": list(properties), "inputs": [{"id": i} for i in ids]},
            repeatable=True,
        )
        body = self.parse_json(response, f"POST {path}")
        return [r for r in _results(body, f"POST {path}") if isinstance(r, dict)]

    def _first_contact_emails(self, deal_ids: Sequence[str]) -> dict[str, str]:
        """Each deal's first associated contact's email: one v4 association batch read and
        contact batch reads of 100, whatever the number of deals on the page."""
        if not deal_ids:
            return {}
        path = f"{self.paths['associations']}/deals/contacts/batch/read"
        body = self.send_json(
            "POST", path, {"inputs": [{"id": i} for i in deal_ids]}, repeatable=True
        )
        first: dict[str, str] = {}
        for result in _results(body, f"POST {path}"):
            targets = result.get("to") if isinstance(result, dict) else None
            if targets and isinstance(targets[0], dict) and targets[0].get("toObjectId"):
                first[str((result.get("from") or {}).get("id"))] = str(targets[0]["toObjectId"])
        contact_ids = list(dict.fromkeys(first.values()))
        emails: dict[str, str] = {}
        for chunk in _chunks(contact_ids, BATCH_READ):
            for raw in self._batch_read("contacts", chunk, ("email",)):
                email = (raw.get("properties") or {}).get("email")
                if isinstance(email, str) and email:
                    emails[str(raw.get("id"))] = email
        return {deal: emails[contact] for deal, contact in first.items() if contact in emails}

    def _deals(self, records: list, *, with_contacts: bool = True) -> list[Deal | RecordError]:
        checked: list[tuple[dict, dict | RecordError]] = []
        for raw in records:
            try:
                checked.append((raw, validate_record(schemas.Deal, raw)))
            except RecordError as error:
                checked.append((raw, error))
        valid_ids = [data["id"] for _, data in checked if not isinstance(data, RecordError)]
        contacts = self._first_contact_emails(valid_ids) if with_contacts else {}
        return [
            data if isinstance(data, RecordError) else self._deal(raw, data, contacts)
            for raw, data in checked
        ]

    def _deal(self, raw: dict, data: dict, contacts: dict[str, str]) -> Deal:
        props = data["properties"]
        contact = contacts.get(data["id"])
        return Deal(
            upstream_id=data["id"],
            name=props["dealname"] or "",
            stage=props["dealstage"] or "",
            amount=Decimal(props["amount"]) if props["amount"] is not None else None,
            currency=props["deal_currency_code"] or "",
            owner_email=self.owner_email(props["hubspot_owner_id"]),
            close_date=date.fromisoformat(props["closedate"]) if props["closedate"] else None,
            modified_at=props["hs_lastmodifieddate"],
            archived=data["archived"],
            contact_emails=(contact,) if contact else (),
            properties=raw.get("properties") or {},
        )


def _policy_name(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("policyName") if isinstance(body, dict) else None


def _last_id(records: list, path: str) -> str:
    last = records[-1].get("id") if isinstance(records[-1], dict) else None
    if not str(last or "").isdigit():
        raise PermanentError(f"POST {path}: a result without a numeric id")
    return str(last)


def _archived_before(record: Any, moment: datetime) -> bool:
    raw = record.get("archivedAt") if isinstance(record, dict) else None
    try:
        archived_at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return False  # keep it: validation reports what is wrong
    return archived_at < moment


Client = HubSpotClient
