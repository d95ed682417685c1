"""A fake Salesforce org (REST API + OAuth token endpoint) holding opportunities in memory.

It speaks what flowsync's client sends, as Salesforce documents it:
- ``POST /services/oauth2/token`` (form-encoded, refresh_token grant) answering
  ``{access_token, instance_url, ...}`` or 400 ``{"error": "invalid_grant", ...}``;
- ``Authorization: Bearer <token>`` on everything else; an unknown or expired token answers
  401 ``[{"message": ..., "errorCode": "INVALID_SESSION_ID"}]``;
- ``GET /services/data/vXX.X/sobjects/Opportunity/describe``;
- ``GET .../query?q=`` and ``.../queryAll?q=`` (deleted rows only in the latter), pages of
  ``page_size`` with ``nextRecordsUrl`` (``.../query/<locator>-<offset>``, also for queryAll);
- ``PATCH .../composite/sobjects`` (sObject Collections update, at most 200 records, one
  result per record in order);
- a daily request quota: ``Sforce-Limit-Info: api-usage=used/limit`` on every data API
  answer, and 403 ``REQUEST_LIMIT_EXCEEDED`` once it is used up.

It is no SOQL engine: it matches the query shapes flowsync's client builds (the SELECT of
``client.SELECT``, comparisons of SystemModstamp with a datetime, or ``Id IN (...)``)
with regular expressions, and answers 400 MALFORMED_QUERY to anything else.

The base class's auth check answers 401 with a body that is not Salesforce's, so
``authorized`` lets every request through and ``route`` checks the bearer token itself.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

from tests.syncing.fakes.oauth import AuthorizationServer
from tests.syncing.fakes.server import FakeUpstream

API_VERSION = "v60.0"
CLIENT_ID = "3MVG9fake.client.id"
CLIENT_SECRET = "fake-client-secret-9d1e"
REFRESH_TOKEN = "5Aep861fake.refresh.token"
WRITABLE = frozenset(
    {
        "Room_URL__c",
        "Room_Progress_Percentage__c",
        "Room_Total_Views__c",
        "Room_Unique_Views__c",
        "Room_Total_Engagements__c",
        "Room_Last_Engaged_At__c",
    }
)
DATA = re.compile(r"^/services/data/(?P<version>v\d+\.\d)(?P<rest>/.*)$")
SELECT = re.compile(
    r"^SELECT (?P<fields>.+?) FROM Opportunity(?: WHERE (?P<where>.+?))?"
    r"(?P<order> ORDER BY SystemModstamp, Id)?$"
)
SUBQUERY = re.compile(
    r"\(SELECT Contact\.Email FROM OpportunityContactRoles "
    r"ORDER BY IsPrimary DESC, CreatedDate LIMIT (?P<limit>\d+)\)"
)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
COMPARE = re.compile(rf"^SystemModstamp (?P<op><=|>=|<|>) (?P<ts>{STAMP})$")
OPERATORS = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}
IDS = re.compile(r"^Id IN \((?P<ids>'[A-Za-z0-9]{15,18}'(?:, '[A-Za-z0-9]{15,18}')*)\)$")
FIELDS = {
    "Id",
    "Name",
    "StageName",
    "Amount",
    "CloseDate",
    "Owner.Email",
    "SystemModstamp",
    "IsDeleted",
    "CurrencyIsoCode",
}


def sf_datetime(moment: datetime) -> str:
    """How Salesforce writes a datetime: 2026-11-20T09:30:00.000+0000 (whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _error(code: str, message: str) -> list[dict]:
    return [{"message": message, "errorCode": code}]


class FakeSalesforce(FakeUpstream):
    auth_header = "Authorization"

    def __init__(
        self,
        *,
        api_version: str = API_VERSION,
        multi_currency: bool = True,
        page_size: int = 2000,
        api_limit: int = 15000,
        seed: int = 7,
    ):
        super().__init__(api_key="", seed=seed)
        self.api_version = api_version
        self.multi_currency = multi_currency
        self.page_size = page_size
        self.api_limit = api_limit
        self.api_used = 0
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.refresh_tokens = {REFRESH_TOKEN}
        self.authorization = AuthorizationServer(client_id=CLIENT_ID)
        self.access_tokens: set[str] = set()
        # False: tokens are issued but every one is refused (a session policy gone wrong).
        self.sessions_work = True
        self.token_requests = 0
        self.opportunities: dict[str, dict] = {}
        # Upstream id -> (statusCode, message): updates of those records fail.
        self.rejections: dict[str, tuple[str, str]] = {}
        self.patches: list[list[dict]] = []
        self.custom_fields = set(WRITABLE)
        self.stages = ["Prospecting", "Negotiation/Review", "Closed Won", "Closed Lost"]
        self._locators: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)
        self._current = threading.local()

    # --- state ------------------------------------------------------------------------------

    def add_opportunity(self, *, at: datetime, committed: bool = True, **fields) -> dict:
        """``committed=False``: a save whose transaction is still open (stamped ``at``, read by
        no query until ``commit``), as a long Apex transaction leaves it."""
        number = next(self._ids)
        opportunity = {
            "Id": f"006{number:012d}AAA",
            "Name": f"Opportunity {number}",
            "StageName": "Prospecting",
            "Amount": 1000.0,
            "CurrencyIsoCode": "USD",
            "CloseDate": date(2026, 12, 31).isoformat(),
            "OwnerEmail": "owner@example.com",
            "ContactEmails": [],
            "IsDeleted": False,
            **fields,
            "SystemModstamp": at,
            "committed": committed,
        }
        with self._lock:
            self.opportunities[opportunity["Id"]] = opportunity
        return opportunity

    def update_opportunity(self, opportunity_id: str, *, at: datetime, **fields) -> dict:
        with self._lock:
            opportunity = self.opportunities[opportunity_id]
            opportunity.update(fields, SystemModstamp=at)
            return opportunity

    def commit(self, opportunity_id: str) -> None:
        with self._lock:
            self.opportunities[opportunity_id]["committed"] = True

    def delete_opportunity(self, opportunity_id: str, *, at: datetime) -> None:
        """To the recycle bin: only queryAll still sees it, with IsDeleted true."""
        self.update_opportunity(opportunity_id, at=at, IsDeleted=True)

    def expire_sessions(self) -> None:
        with self._lock:
            self.access_tokens.clear()

    def issue_token(self) -> str:
        token = f"00D.fake.{uuid.uuid4().hex}"
        with self._lock:
            if self.sessions_work:
                self.access_tokens.add(token)
        return token

    # --- HTTP -------------------------------------------------------------------------------

    def authorized(self, method: str, path: str, headers) -> bool:
        self._current.bearer = headers.get("Authorization", "")
        return True

    def route(self, method: str, path: str, query: dict, body):
        if path == "/services/oauth2/authorize" and method == "GET":
            return self.authorization.authorize(query)
        if path == "/services/oauth2/token":
            return self.token(method, body)
        return self.data_api(method, path, query, body)

    def token(self, method: str, form) -> tuple[int, object]:
        with self._lock:
            self.token_requests += 1
        grant_ok = (
            method == "POST"
            and isinstance(form, dict)
            and (
                (
                    form.get("grant_type") == "refresh_token"
                    and form.get("refresh_token") in self.refresh_tokens
                )
                or (
                    form.get("grant_type") == "authorization_code"
                    and self.authorization.redeem(form)
                )
            )
        )
        if not (
            isinstance(form, dict)
            and form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        ):
            return 400, {
                "error": "invalid_client_id",
                "error_description": "client identifier invalid",
            }
        if not grant_ok:
            return 400, {
                "error": "invalid_grant",
                "error_description": "expired access/refresh token",
            }
        granted = {}
        if form.get("grant_type") == "authorization_code":
            granted["refresh_token"] = f"5Aep861granted.{uuid.uuid4().hex}"
            with self._lock:
                self.refresh_tokens.add(granted["refresh_token"])
        return 200, {
            **granted,
            "access_token": self.issue_token(),
            "instance_url": self.url,
            "id": f"{self.url}/id/00Dfake/005fake",
            "token_type": "Bearer",
            "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
            "signature": "fake-signature",
        }

    def data_api(self, method: str, path: str, query: dict, body):
        bearer = self._current.bearer
        token = bearer.removeprefix("Bearer ")
        with self._lock:
            if not bearer.startswith("Bearer ") or token not in self.access_tokens:
                return (
                    401,
                    _error("INVALID_SESSION_ID", "Session expired or invalid"),
                    self._limits(),
                )
            if self.api_used >= self.api_limit:
                return (
                    403,
                    _error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
                    self._limits(),
                )
            self.api_used += 1
        status, payload = self._data_route(method, path, query, body)
        return status, payload, self._limits()

    def _limits(self) -> dict:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_limit}"}

    def _data_route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        match = DATA.match(path)
        if match is None or match["version"] != self.api_version:
            return 404, _error("NOT_FOUND", "The requested resource does not exist")
        rest = match["rest"]
        if method == "GET" and rest == "/sobjects/Opportunity/describe":
            return 200, self.describe()
        if method == "GET" and rest in ("/query", "/queryAll"):
            return self.query(query.get("q", ""), deleted=rest == "/queryAll")
        if method == "GET" and rest.startswith("/query/"):
            return self.more(rest.removeprefix("/query/"))
        if method == "PATCH" and rest == "/composite/sobjects":
            return self.collections_update(body)
        return 404, _error("NOT_FOUND", "The requested resource does not exist")

    def describe(self) -> dict:
        names = sorted(
            FIELDS - ({"Owner.Email"} | ({"CurrencyIsoCode"} if not self.multi_currency else set()))
        )
        stages = [
            {"value": value, "label": value, "active": True, "defaultValue": False}
            for value in self.stages
        ]
        fields = [{"name": name} for name in [*names, "OwnerId", *sorted(self.custom_fields)]]
        for field in fields:
            if field["name"] == "StageName":
                field["picklistValues"] = stages
        return {"name": "Opportunity", "fields": fields}

    # --- SOQL -------------------------------------------------------------------------------

    def query(self, soql: str, *, deleted: bool) -> tuple[int, object]:
        match = SELECT.match(soql)
        if match is None:
            return 400, _error("MALFORMED_QUERY", "flowsync's fake does not understand this query")
        subquery = SUBQUERY.search(match["fields"])
        fields = [f.strip() for f in SUBQUERY.sub("", match["fields"]).split(",") if f.strip()]
        unknown = [f for f in fields if f not in FIELDS]
        if not self.multi_currency and "CurrencyIsoCode" in fields:
            unknown.append("CurrencyIsoCode")
        if unknown:
            return 400, _error(
                "INVALID_FIELD", f"No such column '{unknown[0]}' on entity 'Opportunity'"
            )
        keep = self._filter(match["where"])
        if keep is None:
            return 400, _error("MALFORMED_QUERY", "flowsync's fake does not understand this WHERE")
        with self._lock:
            rows = [
                o
                for o in self.opportunities.values()
                if o["committed"] and (deleted or not o["IsDeleted"]) and keep(o)
            ]
        if match["order"]:
            rows.sort(key=lambda o: (o["SystemModstamp"], o["Id"]))
        records = [
            self._record(o, fields, int(subquery["limit"]) if subquery else None) for o in rows
        ]
        locator = f"01g{uuid.uuid4().hex[:15]}"
        with self._lock:
            self._locators[locator] = records
        return 200, self._page(locator, 0)

    def more(self, name: str) -> tuple[int, object]:
        locator, _, offset = name.rpartition("-")
        if locator not in self._locators or not offset.isdigit():
            return 400, _error("INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(locator, int(offset))

    def _page(self, locator: str, offset: int) -> dict:
        records = self._locators[locator]
        end = offset + self.page_size
        page = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if end < len(records):
            page["nextRecordsUrl"] = f"/services/data/{self.api_version}/query/{locator}-{end}"
        return page

    def _filter(self, where: str | None):
        """A predicate for the WHERE clauses flowsync writes, or None for any other."""
        if not where:
            return lambda o: True
        checks = []
        for part in _conditions(where):
            if m := COMPARE.match(part):
                ts, compare = _stamp(m["ts"]), OPERATORS[m["op"]]
                checks.append(lambda o, ts=ts, compare=compare: compare(o["SystemModstamp"], ts))
            elif m := IDS.match(part):
                ids = {i.strip("'")[:15] for i in m["ids"].split(", ")}
                checks.append(lambda o, ids=ids: o["Id"][:15] in ids)
            else:
                return None
        return lambda o: all(check(o) for check in checks)

    def _record(self, o: dict, fields: list[str], contacts: int | None) -> dict:
        url = f"/services/data/{self.api_version}/sobjects/Opportunity/{o['Id']}"
        record: dict = {"attributes": {"type": "Opportunity", "url": url}}
        for name in fields:
            if name == "Owner.Email":
                record["Owner"] = {"attributes": {"type": "User"}, "Email": o["OwnerEmail"]}
            elif name == "SystemModstamp":
                record[name] = sf_datetime(o[name])
            else:
                record[name] = o.get(name)
        if contacts is not None:
            emails = o["ContactEmails"][:contacts]
            record["OpportunityContactRoles"] = (
                {
                    "totalSize": len(emails),
                    "done": True,
                    "records": [
                        {
                            "attributes": {"type": "OpportunityContactRole"},
                            "Contact": {"attributes": {"type": "Contact"}, "Email": email},
                        }
                        for email in emails
                    ],
                }
                if emails
                else None
            )
        return record

    # --- sObject Collections ----------------------------------------------------------------

    def collections_update(self, body) -> tuple[int, object]:
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or body.get("allOrNone") is not False:
            return 400, _error("JSON_PARSER_ERROR", "expected allOrNone false and records")
        if len(records) > 200:
            return 400, _error(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        with self._lock:
            self.patches.append(records)
            return 200, [self._update_one(record) for record in records]

    def _update_one(self, record) -> dict:
        upstream_id = record.get("id") if isinstance(record, dict) else None
        opportunity = self.opportunities.get(upstream_id or "")
        if (
            opportunity is None
            or opportunity["IsDeleted"]
            or record.get("attributes", {}).get("type") != "Opportunity"
        ):
            return {
                "success": False,
                "errors": [
                    {
                        "statusCode": "ENTITY_IS_DELETED" if opportunity else "MALFORMED_ID",
                        "message": f"invalid id {upstream_id}",
                        "fields": [],
                    }
                ],
            }
        if upstream_id in self.rejections:
            code, message = self.rejections[upstream_id]
            return {
                "id": upstream_id,
                "success": False,
                "errors": [{"statusCode": code, "message": message, "fields": []}],
            }
        values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
        unknown = sorted(set(values) - WRITABLE)
        if unknown:
            return {
                "id": upstream_id,
                "success": False,
                "errors": [
                    {
                        "statusCode": "INVALID_FIELD",
                        "message": f"No such column '{unknown[0]}' on sobject of type Opportunity",
                        "fields": unknown,
                    }
                ],
            }
        opportunity.setdefault("written", {}).update(values)
        opportunity["SystemModstamp"] = datetime.now(UTC).replace(microsecond=0)
        return {"id": upstream_id, "success": True, "errors": []}


def _conditions(where: str) -> list[str]:
    """Top-level ``AND`` parts of a WHERE clause (parentheses kept together)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(where):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and where.startswith(" AND ", index):
            parts.append(where[start:index])
            start = index + 5
    parts.append(where[start:])
    return parts


def _stamp(literal: str) -> datetime:
    return datetime.fromisoformat(literal)


def ago(**delta) -> datetime:
    """A whole-second moment in the past (Salesforce keeps datetimes to the second)."""
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)
