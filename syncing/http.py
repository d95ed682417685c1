"""The one HTTP layer every provider client builds on.

Per client: a requests Session with connect/read timeouts; urllib3 Retry for connection
errors, read timeouts of reads, 429 and 5xx (500 of reads only) with exponential backoff and
jitter (Retry-After honoured as seconds or an HTTP date); a read answered with a body that is
not JSON is read again with the same backoff; a shared request budget taken before every
attempt, retries included (after a retry's wait), which a 429's Retry-After pauses for every
worker of the account; and typed errors (syncing.errors) for what is left.

Every socket goes through syncing.urlguard (refused addresses, pinned to the checked address);
redirects are followed only within the same origin; upstream bodies never go into error
messages (they are shown in the admin and stored), only an error code the upstream names.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import InvalidHeader, NameResolutionError
from urllib3.util.retry import Retry

from syncing import conf, urlguard
from syncing.coordination import TokenBucket
from syncing.errors import (
    AuthError,
    MalformedResponseError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
    UpstreamError,
    ValidationError,
)

# A 500 too: upstreams answer it for transient trouble (a failed dependency, a deploy); only
# reads are retried after a 5xx (writes below), so repeating one is harmless.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Not retried inside a call after a read error or a 5xx: the upstream may have applied them.
# The outbox retries them after looking the object up. A 429 means "not applied": retried.
WRITE_METHODS = frozenset({"POST", "PATCH"})

# (records of one page, total number of records when the upstream says so)
PageExtractor = Callable[[requests.Response, Any], tuple[list, int | None]]
MAX_REDIRECTS = 5
# An upstream's machine-readable error name ("invalid_grant", "BAD_REFRESH_TOKEN") is kept in
# messages; anything else in a body is not (it may be another service's page).
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_ERROR_CODE_KEYS = ("error", "errorCode", "code", "status", "category")

logger = logging.getLogger(__name__)


# True while a request that is safe to repeat goes out although its method is POST (a search
# or a batch read): UpstreamRetry then retries it like a GET. Set by ``request(repeatable=)``.
_REPEATABLE: ContextVar[bool] = ContextVar("upstream_request_repeatable", default=False)


class UpstreamRetry(Retry):
    """urllib3 Retry that also retries a 429 of a write and every failure of a repeatable
    POST, calls ``on_retry_after`` with a 429's Retry-After (so the whole account waits, not
    only this call) and ``before_retry`` after the wait, before every retry (so each attempt
    counts and takes from the request budget)."""

    def __init__(
        self,
        *args,
        before_retry: Callable[[], None] | None = None,
        on_retry_after: Callable[[float], None] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.before_retry = before_retry
        self.on_retry_after = on_retry_after

    def new(self, **kwargs) -> UpstreamRetry:
        kwargs.setdefault("before_retry", self.before_retry)
        kwargs.setdefault("on_retry_after", self.on_retry_after)
        return super().new(**kwargs)

    def _is_method_retryable(self, method: str) -> bool:
        return _REPEATABLE.get() or super()._is_method_retryable(method)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in WRITE_METHODS and status_code == 429:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, *args, **kwargs) -> UpstreamRetry:
        response = kwargs.get("response")
        if response is not None and response.status == 429 and self.on_retry_after is not None:
            try:
                seconds = self.get_retry_after(response)
            except InvalidHeader:
                seconds = None
            if seconds:
                self.on_retry_after(seconds)
        return super().increment(*args, **kwargs)

    def sleep(self, response=None) -> None:
        super().sleep(response)
        if self.before_retry is not None:
            self.before_retry()


class _GuardedConnectionMixin:
    """Connects to the address syncing.urlguard checked, never to a second lookup's answer.
    TLS still verifies the certificate against the host name (``self.host``)."""

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            self._dns_host = urlguard.checked_address(host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        try:
            return super()._new_conn()
        finally:
            self._dns_host = host


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


class SameOriginSession(requests.Session):
    """Follows a redirect only to the same scheme, host and port, so the credential headers
    never travel to another origin; a redirect elsewhere comes back as the 3xx itself."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target and _origin(urljoin(resp.url, target)) != _origin(resp.url):
            return None
        return target


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(scheme)


class UpstreamClient:
    """Base of every provider client. Subclasses set ``auth_header`` and add one method per
    upstream operation. The secret travels only in that header; nothing here logs headers."""

    auth_header: ClassVar[str]
    correlation_headers: ClassVar[tuple[str, ...]] = ("x-request-id", "x-correlation-id")

    def __init__(
        self,
        *,
        base_url: str,
        secret: str,
        budget: TokenBucket | None = None,
        on_auth_error: Callable[[AuthError], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.calls = 0
        self._budget = budget
        self._on_auth_error = on_auth_error
        self.timeout = (conf.get("SYNC_HTTP_CONNECT_TIMEOUT"), conf.get("SYNC_HTTP_READ_TIMEOUT"))
        self.session = SameOriginSession()
        self.session.max_redirects = MAX_REDIRECTS
        # Proxies from the environment would connect for us, around the address guard.
        self.session.trust_env = False
        self.session.headers.update({self.auth_header: secret, "Accept": "application/json"})
        adapter = GuardedAdapter(max_retries=self._retry_policy())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_connection(
        cls,
        connection,
        *,
        budget: TokenBucket | None = None,
        on_auth_error: Callable[[AuthError], None] | None = None,
    ) -> UpstreamClient:
        """A client for a syncing.models.Connection. This default sends the stored
        ``api_key``; providers with other credentials (OAuth tokens) override it."""
        return cls(
            base_url=connection.base_url,
            secret=connection.credentials.get("api_key", ""),
            budget=budget,
            on_auth_error=on_auth_error,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def _retry_policy(self) -> UpstreamRetry:
        retries = conf.get("SYNC_HTTP_RETRIES")
        return UpstreamRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=conf.get("SYNC_HTTP_BACKOFF_FACTOR"),
            backoff_jitter=conf.get("SYNC_HTTP_BACKOFF_JITTER"),
            backoff_max=conf.get("SYNC_HTTP_BACKOFF_MAX"),
            retry_after_max=conf.get("SYNC_HTTP_RETRY_AFTER_MAX"),
            respect_retry_after_header=True,
            raise_on_status=False,
            before_retry=self._before_attempt,
            on_retry_after=self._budget.pause if self._budget is not None else None,
        )

    def _before_attempt(self) -> None:
        if self._budget is not None:
            self._budget.take(max_wait=conf.get("SYNC_BUDGET_MAX_WAIT"))
        self.calls += 1

    def close(self) -> None:
        self.session.close()

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
        """One upstream call (with its retries). Returns a 2xx/3xx response or raises an
        UpstreamError subclass. ``repeatable``: a POST that only reads (a search, a batch
        read) is retried after timeouts and 5xx like a GET."""
        self._before_attempt()
        marker = _REPEATABLE.set(repeatable)
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, json=json, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
            raise TransientError(f"{method} {path}: {TRANSPORT_FAILURE}") from exc
        except urlguard.UnsafeUrlError as exc:
            raise PermanentError(f"{method} {path}: {exc}") from None
        except requests.TooManyRedirects:
            raise PermanentError(f"{method} {path}: too many redirects") from None
        finally:
            _REPEATABLE.reset(marker)
        return self._check(method, path, response)

    def post_form(self, url: str, form: dict) -> requests.Response:
        """POST a form-encoded body without the auth header (OAuth token endpoints), budgeted
        and counted like any call. Any status comes back: token endpoints answer 400/401 for
        a refused grant, which the caller judges."""
        self._before_attempt()
        path = urlsplit(url).path
        try:
            return self.session.post(
                url, data=form, headers={self.auth_header: None}, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
            raise TransientError(f"POST {path}: {TRANSPORT_FAILURE}") from exc
        except urlguard.UnsafeUrlError as exc:
            raise PermanentError(f"POST {path}: {exc}") from None
        except requests.TooManyRedirects:
            raise PermanentError(f"POST {path}: too many redirects") from None

    def get_json(self, path: str, *, params: dict | None = None) -> Any:
        return self._read_json(path, params)[1]

    def _read_json(self, path: str, params: dict | None) -> tuple[requests.Response, Any]:
        """A GET and its JSON body. A body that is not JSON (truncated, a proxy's error page)
        is read again after a backoff, up to SYNC_HTTP_RETRIES times: a GET is safe to repeat."""
        attempt = 0
        while True:
            response = self.request("GET", path, params=params)
            try:
                return response, self.parse_json(response, f"GET {path}")
            except MalformedResponseError:
                if attempt == conf.get("SYNC_HTTP_RETRIES"):
                    raise
            time.sleep(_backoff(attempt))
            attempt += 1

    def send_json(self, method: str, path: str, body: Any, *, repeatable: bool = False) -> Any:
        response = self.request(method, path, json=body, repeatable=repeatable)
        return self.parse_json(response, f"{method} {path}")

    def pages(
        self, path: str, *, extract: PageExtractor, params: dict | None = None, limit: int = 100
    ) -> Iterator[list]:
        """Pages of records from a page/limit list, until a short or empty page or the total.
        An upstream that ignores paging (a plain array) answers a page longer than asked for,
        or the same page again: that is the whole list, read once."""
        page, previous = 1, None
        while True:
            query = {**(params or {}), "page": page, "limit": limit}
            records, total = extract(*self._read_json(path, query))
            if records == previous:
                return
            if records:
                yield records
            if len(records) != limit or (total is not None and page * limit >= total):
                return
            page, previous = page + 1, records

    # --- responses --------------------------------------------------------------------------

    def correlation_id(self, response: requests.Response) -> str | None:
        for header in self.correlation_headers:
            if response.headers.get(header):
                return response.headers[header]
        return None

    def parse_json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponseError(
                f"{what}: the response is not JSON",
                status=response.status_code,
                correlation_id=self.correlation_id(response),
            ) from None

    def _check(self, method: str, path: str, response: requests.Response) -> requests.Response:
        status = response.status_code
        if status < 300:
            return response
        kwargs = {"status": status, "correlation_id": self.correlation_id(response)}
        message = status_message(f"{method} {path}", response)
        error: UpstreamError
        if status < 400:
            error = PermanentError(f"{message} (a redirect to another origin)", **kwargs)
        elif status in (401, 403):
            error = AuthError(message, **kwargs)
            if self._on_auth_error is not None:
                self._on_auth_error(error)
        elif status == 404:
            error = NotFoundError(message, **kwargs)
        elif status == 429:
            error = RateLimitedError(message, retry_after=_retry_after(response), **kwargs)
        elif status in (400, 422):
            error = ValidationError(message, **kwargs)
        elif status == 408 or status >= 500:
            error = TransientError(message, **kwargs)
        else:
            error = PermanentError(message, **kwargs)
        raise error


# One message for refused, reset, closed and timed-out connections: telling them apart would
# tell whoever typed the URL which ports are open on that host.
TRANSPORT_FAILURE = "no answer (connection failed or timed out)"


def status_message(what: str, response: requests.Response) -> str:
    """``"GET /path: HTTP 400 invalid_grant"``: the status and the upstream's error code,
    never its body (logged for operators at INFO with the correlation headers)."""
    text = response.text[:300].strip()
    if text:
        logger.info("%s answered HTTP %s: %s", what, response.status_code, text)
    code = _error_code(response)
    return f"{what}: HTTP {response.status_code} {code}".strip()


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body:  # Salesforce: [{"errorCode": ..., "message": ...}]
        body = body[0]
    if not isinstance(body, dict):
        return ""
    for key in _ERROR_CODE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
            return value
    return ""


def _backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``, as urllib3 Retry computes them."""
    delay = conf.get("SYNC_HTTP_BACKOFF_FACTOR") * 2**attempt
    delay += random.uniform(0, conf.get("SYNC_HTTP_BACKOFF_JITTER"))
    return min(delay, conf.get("SYNC_HTTP_BACKOFF_MAX"))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return Retry(retry_after_max=10**9).parse_retry_after(value)
    except InvalidHeader:
        return None
