"""Client of Salesforce's REST API: opportunities pulled by SOQL, room figures written back
with sObject Collections.

Auth is OAuth 2.0's refresh-token flow. The connection's base URL is the login host
(``POST /services/oauth2/token``), which answers an access token and the org's instance URL;
both are kept encrypted on the connection so later runs reuse them. When Salesforce answers
401 INVALID_SESSION_ID the token is refreshed once and the call sent once more; a second 401,
or a refused refresh token, is an AuthError (the connection needs re-authentication).

Every response's ``Sforce-Limit-Info: api-usage=used/limit`` is remembered and saved to
``connection.options["api_usage"]`` when the client is closed (at the end of each run).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import batched
from typing import Any, ClassVar, NoReturn

import requests
from django.db import transaction
from django.utils import timezone

from config.formats import iso_utc
from syncing.coordination import TokenBucket
from syncing.crm.types import Deal, DealUpdate, Stage
from syncing.errors import (
    AuthError,
    PermanentError,
    RateLimitedError,
    RecordError,
)
from syncing.http import UpstreamClient, status_message
from syncing.models import Connection
from syncing.providers.salesforce import schemas
from syncing.validation import validate_record

# The REST API version unless the connection's options["api_version"] says otherwise.
API_VERSION = "v60.0"
TOKEN_PATH = "/services/oauth2/token"
SELECT = (
    "Id, Name, StageName, Amount, CloseDate, Owner.Email, SystemModstamp, IsDeleted, "
    "(SELECT Contact.Email FROM OpportunityContactRoles "
    "ORDER BY IsPrimary DESC, CreatedDate LIMIT 10)"
)
# Ids per ``Id IN (...)`` query of deals_fetch (keeps the URL well under 16 KB).
FETCH_CHUNK = 200
_VERSION = re.compile(r"^v?(\d{2,3}\.\d)$")
_ID = re.compile(schemas.ID_PATTERN)
_USAGE = re.compile(r"(?:^|[\s,])api-usage=(\d+)/(\d+)")


class QuotaExhaustedError(RateLimitedError):
    """403 REQUEST_LIMIT_EXCEEDED: the org's daily API requests are used up. Not a credentials
    problem: the run stops, the connection says so, and the next scheduled run resumes."""


class _SessionExpired(Exception):
    """401 INVALID_SESSION_ID on a call that may refresh the token and try once more."""


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal. Salesforce keeps datetimes to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_code(response: requests.Response) -> str:
    """The errorCode of a Salesforce error body ``[{"message": ..., "errorCode": ...}]``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", ""))
    return ""


def _grant_fingerprint(credentials: dict) -> str:
    """Names the client id and refresh token a stored session was obtained with."""
    material = f"{credentials.get('client_id')}|{credentials.get('refresh_token')}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _deals(records: list) -> list[Deal | RecordError]:
    """A page validated at once: DRF copies a serializer's fields for every instance, so one
    by one costs several times more. A page with a bad record is validated again record by
    record, so each failure names its record."""
    page = schemas.Opportunity(data=records, many=True)
    if page.is_valid():
        return [_deal(data, raw) for data, raw in zip(page.validated_data, records, strict=True)]
    return [_deal_or_error(raw) for raw in records]


def _deal_or_error(raw: Any) -> Deal | RecordError:
    try:
        return _deal(validate_record(schemas.Opportunity, raw, id_field="Id"), raw)
    except RecordError as error:
        return error


def _deal(data: dict, raw: dict) -> Deal:
    roles = (data.get("OpportunityContactRoles") or {}).get("records", [])
    return Deal(
        upstream_id=data["Id"],
        name=data["Name"],
        stage=data.get("StageName") or "",
        amount=data.get("Amount"),
        currency=data.get("CurrencyIsoCode") or "",
        owner_email=(data.get("Owner") or {}).get("Email") or "",
        close_date=data.get("CloseDate"),
        modified_at=data["SystemModstamp"],
        archived=data["IsDeleted"],
        contact_emails=tuple(
            email for role in roles if (email := (role.get("Contact") or {}).get("Email"))
        ),
        properties=raw,
    )


def _failure(result: Any) -> str:
    errors = result.get("errors") if isinstance(result, dict) else None
    if not errors:
        return "Salesforce reported no success for this record."
    return "; ".join(
        f"{error.get('statusCode', 'ERROR')}: {error.get('message', '')}".strip()
        for error in errors
        if isinstance(error, dict)
    )


class SalesforceClient(UpstreamClient):
    auth_header = "Authorization"
    # sObject Collections take at most 200 records per call.
    WRITE_BATCH: ClassVar[int] = 200
    # Custom fields on Opportunity (create them in Setup, or map others per connection).
    WRITE_BACK_PROPERTIES: ClassVar[dict[str, str]] = {
        "room_url": "Room_URL__c",
        "progress_percentage": "Room_Progress_Percentage__c",
        "total_views": "Room_Total_Views__c",
        "total_unique_views": "Room_Unique_Views__c",
        "total_engagements": "Room_Total_Engagements__c",
        "last_engaged_at": "Room_Last_Engaged_At__c",
    }

    # Salesforce field type to choose in Setup for each write-back field (custom fields are
    # created there or by a metadata deploy, not through the REST API flowsync uses).
    FIELD_TYPES: ClassVar[dict[str, str]] = {
        "room_url": "URL",
        "progress_percentage": "Number, 16 digits, 2 decimal places",
        "total_views": "Number, 18 digits, 0 decimal places",
        "total_unique_views": "Number, 18 digits, 0 decimal places",
        "total_engagements": "Number, 18 digits, 0 decimal places",
        "last_engaged_at": "Date/Time",
    }

    def __init__(
        self,
        *,
        base_url: str,
        credentials: dict,
        api_version: str = API_VERSION,
        connection: Connection | None = None,
        budget: TokenBucket | None = None,
        on_auth_error=None,
    ):
        token, instance_url = credentials.get("access_token"), credentials.get("instance_url")
        if credentials.get("session_of") != _grant_fingerprint(credentials):
            # Kept from other credentials (staff replaced the refresh token or the app, maybe
            # for another org): not used, a new session is asked for.
            token = instance_url = None
        super().__init__(
            base_url=instance_url or base_url,
            secret=f"Bearer {token}" if token else "",
            budget=budget,
            on_auth_error=on_auth_error,
        )
        self.login_url = base_url.rstrip("/")
        # A bad version fails the first call (the run, or Test connection), not the client.
        version = _VERSION.match(str(api_version))
        self.api = f"/services/data/v{version.group(1)}" if version else ""
        self._api_version = api_version
        self.api_usage: dict | None = None
        self._credentials = credentials
        self._connection = connection
        self._has_session = bool(token and instance_url)
        self._may_refresh = False
        self._has_currency: bool | None = None
        self._describe: list[dict] | None = None

    @classmethod
    def from_connection(cls, connection, *, budget=None, on_auth_error=None) -> SalesforceClient:
        return cls(
            base_url=connection.base_url,
            credentials=connection.credentials,
            api_version=connection.options.get("api_version", API_VERSION),
            connection=connection,
            budget=budget,
            on_auth_error=on_auth_error,
        )

    def close(self) -> None:
        try:
            self._store_usage()
        finally:
            super().close()

    # --- session ----------------------------------------------------------------------------

    def request(self, method: str, path: str, **options: Any) -> requests.Response:
        if not self.api:
            raise PermanentError(
                f"api_version {self._api_version!r} is not a Salesforce API version like "
                f"{API_VERSION!r}"
            )
        if self._has_session:
            try:
                return self._attempt(method, path, options, may_refresh=True)
            except _SessionExpired:
                pass
        self._refresh_session()
        return self._attempt(method, path, options, may_refresh=False)

    def _attempt(self, method, path, options: dict, *, may_refresh: bool) -> requests.Response:
        self._may_refresh = may_refresh
        try:
            return super().request(method, path, **options)
        finally:
            self._may_refresh = False

    def _refresh_session(self) -> None:
        credentials = self._credentials
        missing = [
            name
            for name in ("client_id", "client_secret", "refresh_token")
            if not credentials.get(name)
        ]
        if missing:
            self._refused(AuthError(f"The connection has no {', '.join(missing)}."))
        response = self._post_token(
            {
                "grant_type": "refresh_token",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "refresh_token": credentials["refresh_token"],
            }
        )
        body = self.parse_json(response, f"POST {TOKEN_PATH}")
        token = body.get("access_token") if isinstance(body, dict) else None
        instance_url = body.get("instance_url") if isinstance(body, dict) else None
        if not (isinstance(token, str) and token and isinstance(instance_url, str)):
            raise PermanentError(f"POST {TOKEN_PATH}: no access_token and instance_url")
        self.base_url = instance_url.rstrip("/")
        self.session.headers[self.auth_header] = f"Bearer {token}"
        self._has_session = True
        changes = {"access_token": token, "instance_url": instance_url}
        if isinstance(body.get("refresh_token"), str):  # when the org rotates refresh tokens
            changes["refresh_token"] = body["refresh_token"]
        changes["session_of"] = _grant_fingerprint({**credentials, **changes})
        self._credentials = {**credentials, **changes}
        self._store_credentials(changes)

    def _post_token(self, form: dict) -> requests.Response:
        """The token endpoint is form-encoded and takes no bearer token; it answers 400
        (invalid_grant, invalid_client_id ...) or 401 for credentials it refuses."""
        response = self.post_form(self.login_url + TOKEN_PATH, form)
        if response.status_code in (400, 401):
            self._refused(
                AuthError(
                    status_message(f"POST {TOKEN_PATH}", response),
                    status=response.status_code,
                    correlation_id=self.correlation_id(response),
                )
            )
        return self._check("POST", TOKEN_PATH, response)

    def _refused(self, error: AuthError) -> NoReturn:
        if self._on_auth_error is not None:
            self._on_auth_error(error)
        raise error

    def _check(self, method: str, path: str, response: requests.Response) -> requests.Response:
        self._note_usage(response)
        status = response.status_code
        if status == 401 and self._may_refresh and _error_code(response) == "INVALID_SESSION_ID":
            raise _SessionExpired
        if status == 403 and _error_code(response) == "REQUEST_LIMIT_EXCEEDED":
            usage = self.api_usage or {}
            raise QuotaExhaustedError(
                "Salesforce's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED, "
                f"api-usage {usage.get('used', '?')}/{usage.get('limit', '?')}); the run "
                "stopped and the next scheduled run resumes where this one stood.",
                status=status,
                correlation_id=self.correlation_id(response),
            )
        return super()._check(method, path, response)

    # --- API usage --------------------------------------------------------------------------

    def _note_usage(self, response: requests.Response) -> None:
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = {
                "used": int(match.group(1)),
                "limit": int(match.group(2)),
                "checkedAt": iso_utc(timezone.now()),
            }

    def _store_usage(self) -> None:
        if self._connection is None or self.api_usage is None:
            return
        with transaction.atomic():
            options = (
                Connection.objects.select_for_update()
                .filter(pk=self._connection.pk)
                .values_list("options", flat=True)
                .first()
            )
            if options is None:
                return
            Connection.objects.filter(pk=self._connection.pk).update(
                options={**options, "api_usage": self.api_usage}
            )
        self._connection.options = {**self._connection.options, "api_usage": self.api_usage}

    def _store_credentials(self, changes: dict) -> None:
        """Kept on the connection, encrypted, so the next run starts with a live session.
        Merged into the row as it is now (staff may have edited it meanwhile)."""
        if self._connection is None:
            return
        with transaction.atomic():
            row = Connection.objects.select_for_update().filter(pk=self._connection.pk).first()
            if row is None:
                return
            row.credentials = {**row.credentials, **changes}
            row.save(update_fields=["credentials_encrypted"])
        self._connection.credentials_encrypted = row.credentials_encrypted

    # --- reads ------------------------------------------------------------------------------

    def ping(self) -> str:
        fields = self._opportunity_fields()
        usage = self.api_usage
        today = f"; API requests today: {usage['used']}/{usage['limit']}" if usage else ""
        return f"Opportunity readable ({len(fields)} fields){today}"

    def _describe_fields(self) -> list[dict]:
        """The Opportunity describe, read once per client (a run, a test)."""
        if self._describe is None:
            body = self.get_json(f"{self.api}/sobjects/Opportunity/describe")
            fields = body.get("fields") if isinstance(body, dict) else None
            if not isinstance(fields, list):
                raise PermanentError("GET describe of Opportunity: no fields list")
            self._describe = [field for field in fields if isinstance(field, dict)]
        return self._describe

    def _opportunity_fields(self) -> list[str]:
        return [field.get("name") for field in self._describe_fields()]

    def deal_field_names(self) -> set[str]:
        return set(self._opportunity_fields())

    def stages(self) -> list[Stage]:
        """StageName's active picklist values (the value is what opportunities carry)."""
        stage = next((f for f in self._describe_fields() if f.get("name") == "StageName"), {})
        return [
            Stage(
                pipeline_id="Opportunity",
                pipeline_label="Opportunity stages",
                id=value["value"],
                label=str(value.get("label") or value["value"]),
            )
            for value in stage.get("picklistValues") or []
            if isinstance(value, dict)
            and value.get("active")
            and isinstance(value.get("value"), str)
        ]

    def _select(self) -> str:
        """SELECT ... FROM Opportunity; CurrencyIsoCode only exists in multi-currency orgs
        (asking for it elsewhere is an INVALID_FIELD error), so the describe decides."""
        if self._has_currency is None:
            self._has_currency = "CurrencyIsoCode" in self._opportunity_fields()
        currency = ", CurrencyIsoCode" if self._has_currency else ""
        return f"SELECT {SELECT}{currency} FROM Opportunity"

    def query_pages(self, soql: str) -> Iterator[list]:
        """Raw records of a SOQL query through queryAll (deleted rows included, with
        IsDeleted true), following nextRecordsUrl."""
        body = self.get_json(f"{self.api}/queryAll", params={"q": soql})
        while True:
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise PermanentError("GET queryAll: a result without a records list")
            yield body["records"]
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            if not isinstance(next_url, str) or not next_url.startswith(f"{self.api}/query"):
                raise PermanentError(f"GET queryAll: unexpected nextRecordsUrl {next_url!r}")
            body = self.get_json(next_url)

    def deal_pages(
        self, *, since: datetime | None, before: datetime
    ) -> Iterator[list[Deal | RecordError]]:
        """Opportunities changed (or deleted) at or after ``since`` and before ``before``, in
        (SystemModstamp, Id) order; ``before`` is a whole second (see deals_pull)."""
        where = f"SystemModstamp < {soql_datetime(before)}"
        if since is not None:
            where = f"SystemModstamp >= {soql_datetime(since)} AND {where}"
        soql = f"{self._select()} WHERE {where} ORDER BY SystemModstamp, Id"
        for records in self.query_pages(soql):
            yield _deals(records)

    def deals_fetch(self, ids: Sequence[str]) -> list[Deal | RecordError]:
        """The named opportunities; one deleted or purged from the recycle bin comes back
        archived."""
        wanted = list(dict.fromkeys(ids))
        items: list[Deal | RecordError] = [
            RecordError(f"{id_!r} is not a Salesforce id", upstream_id=id_)
            for id_ in wanted
            if not _ID.match(id_)
        ]
        valid_ids = [id_ for id_ in wanted if _ID.match(id_)]
        found: set[str] = set()
        for chunk in batched(valid_ids, FETCH_CHUNK):
            quoted = ", ".join(f"'{id_}'" for id_ in chunk)
            soql = f"{self._select()} WHERE Id IN ({quoted}) ORDER BY SystemModstamp, Id"
            for records in self.query_pages(soql):
                for item in _deals(records):
                    items.append(item)
                    if item.upstream_id:
                        found.add(item.upstream_id[:15])
        # Salesforce answers 18-character ids; a 15-character one asked for is their prefix.
        gone = [Deal(upstream_id=id_, archived=True) for id_ in valid_ids if id_[:15] not in found]
        return items + gone

    # --- writes -----------------------------------------------------------------------------

    def deals_write(self, updates: Sequence[DealUpdate]) -> dict[str, str]:
        """One sObject Collections update (allOrNone false): the failed records by id."""
        if len(updates) > self.WRITE_BATCH:
            raise ValueError(f"at most {self.WRITE_BATCH} updates per call")
        if not updates:
            return {}
        records = [
            {"attributes": {"type": "Opportunity"}, "id": update.upstream_id, **update.properties}
            for update in updates
        ]
        path = f"{self.api}/composite/sobjects"
        results = self.send_json("PATCH", path, {"allOrNone": False, "records": records})
        # Results come in the order of the records (a failed one may carry no id).
        if not isinstance(results, list) or len(results) != len(updates):
            raise PermanentError(f"PATCH {path}: expected one result per record")
        return {
            update.upstream_id: _failure(result)
            for update, result in zip(updates, results, strict=True)
            if not (isinstance(result, dict) and result.get("success") is True)
        }


Client = SalesforceClient
